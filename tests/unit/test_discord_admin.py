"""``/ingest`` (moderators, http(s) only), ``/stats``, ``/sources`` and feed polling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.discord.bot import FactdeskBot
from tests.discord_fakes.factories import AUDIT_ID, MOD_USER_ID, READER_ID
from tests.discord_fakes.harness import make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, FakeIndexAdmin, make_answer


def build(tmp_path: Path, admin: FakeIndexAdmin, feeds: tuple[str, ...] = ()) -> FactdeskBot:
    settings = make_settings(tmp_path / "data")
    return make_bot(settings, FakeAnswerer(make_answer()), admin=admin, feeds=feeds, feed_interval_minutes=15)


@pytest.mark.asyncio
async def test_ingest_is_for_moderators_and_http_urls_only(tmp_path: Path, monkeypatch: Any) -> None:
    admin = FakeIndexAdmin()
    async with running(build(tmp_path, admin), monkeypatch) as h:
        refused = await h.slash("ingest", url="https://news.example/a", user_id=READER_ID)
        local = await h.slash("ingest", url="/etc/passwd", user_id=MOD_USER_ID)
        file_url = await h.slash("ingest", url="file:///etc/passwd", user_id=MOD_USER_ID)
        ok = await h.slash("ingest", url=" https://news.example/a ", user_id=MOD_USER_ID)
        audit = [c.content for c in h.api.channel_posts(AUDIT_ID)]
    assert refused[0].ephemeral and refused[0].content == "only moderators can add to the index"
    assert local[0].ephemeral and local[0].content.startswith("/etc/passwd: ")
    assert file_url[0].ephemeral and "scheme 'file' is not allowed" in file_url[0].content
    assert admin.ingested == [["https://news.example/a"]]
    assert ok[0].payload == {"type": 5, "data": {"flags": 64}}
    report = next(c for c in ok if c.route == "POST /webhooks/{webhook_id}/{webhook_token}")
    assert report.ephemeral and report.embeds[0]["description"].startswith("1 added; 3 chunks")
    assert audit == [f"📥 user1 ({MOD_USER_ID}) ingested <https://news.example/a>."]


@pytest.mark.asyncio
async def test_stats_and_sources(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, FakeIndexAdmin()), monkeypatch) as h:
        stats = await h.slash("stats")
        sources = await h.slash("sources")
    fields = {f["name"]: f["value"] for f in stats[0].embeds[0]["fields"]}
    assert stats[0].ephemeral and fields["Articles"] == "12" and fields["Last published"] == "2025-04-09"
    assert sources[0].embeds[0]["title"] == "2 outlets"
    assert "**Harbour Times** — 7 articles (+1 copies), 2025-04-01 → 2025-04-09" in sources[0].embeds[0]["description"]


@pytest.mark.asyncio
async def test_feed_polling_runs_on_its_interval_and_reports_new_articles(tmp_path: Path, monkeypatch: Any) -> None:
    admin = FakeIndexAdmin()
    feeds = ("https://news.example/rss", "feed:https://other.example/atom")
    async with running(build(tmp_path, admin, feeds), monkeypatch) as h:
        cog: Any = h.bot.get_cog("Admin")
        assert cog.poll_feeds.is_running() and cog.poll_feeds.minutes == 15
        await cog.ingest_feeds()
        audit = [c.content for c in h.api.channel_posts(AUDIT_ID)]
    await asyncio.sleep(0)
    assert not cog.poll_feeds.is_running()  # cancelled when the bot closed
    assert admin.ingested == [list(feeds)]
    assert audit == ["📰 Feed poll: 2 added, 0 updated, 0 errors."]
    assert admin.suggested == [3], "new articles are checked for contradictions with recent ones"


@pytest.mark.asyncio
async def test_no_feeds_no_polling(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, FakeIndexAdmin()), monkeypatch) as h:
        assert not h.bot.get_cog("Admin").poll_feeds.is_running()  # type: ignore[union-attr]


def test_index_admin_ingests_through_the_fetcher_and_reuses_the_indexer(tmp_path: Path) -> None:
    from bot.app import IndexAdmin
    from index.pipeline import IngestReport

    made: list[str] = []
    seen: list[tuple[list[str], object, int]] = []

    class Fetcher:
        def __enter__(self) -> Fetcher:
            made.append("fetcher")
            return self

        def __exit__(self, *exc: object) -> None:
            made.append("closed")

    class Indexer:
        def __init__(self) -> None:
            made.append("indexer")

        def ingest(self, sources: list[str], fetcher: object, max_bytes: int, on_item: object) -> IngestReport:
            seen.append((sources, fetcher, max_bytes))
            return IngestReport()

    admin = IndexAdmin(
        store=None,  # type: ignore[arg-type]
        indexer=Indexer(),  # type: ignore[arg-type]
        fetcher_factory=Fetcher,  # type: ignore[arg-type]
        claims=None,  # type: ignore[arg-type]
        contradictions=None,  # type: ignore[arg-type]
        max_source_bytes=12_345,
        data_dir=None,
        clock=lambda: datetime(2025, 4, 5, tzinfo=UTC),
    )
    admin.ingest(["https://a.example/1"])
    admin.ingest(("https://b.example/2",))
    assert made == ["indexer", "fetcher", "closed", "fetcher", "closed"]  # one indexer, a fetcher per ingest
    assert [(s, m) for s, _, m in seen] == [(["https://a.example/1"], 12_345), (["https://b.example/2"], 12_345)]
    assert all(isinstance(f, Fetcher) for _, f, _ in seen)
