"""``/digest`` and the daily digest: due times, posting once, threads, restarts, plain-text fallback."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.digest.window import day_window
from bot.discord.bot import FactdeskBot
from bot.discord.cogs.digest import DigestCog, daily_window, requested_window, run_times
from tests.discord_fakes.factories import DIGEST_ID, PLAIN_ID
from tests.discord_fakes.harness import Harness, make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, FakeDigestService, make_answer
from tests.discord_fakes.transport import mentions_nothing

LONDON = "Europe/London"
BEFORE = datetime(2025, 6, 11, 6, 59, tzinfo=UTC)  # 07:59 BST, digest_time is 08:00 local
AFTER = datetime(2025, 6, 11, 7, 5, tzinfo=UTC)  # 08:05 BST
NEXT_DAY = datetime(2025, 6, 12, 9, 0, tzinfo=UTC)


def build(tmp_path: Path, digests: FakeDigestService, **overrides: Any) -> FactdeskBot:
    settings = make_settings(tmp_path / "data", **overrides)
    return make_bot(settings, FakeAnswerer(make_answer()), digests=digests, clock=lambda: AFTER)


def digest_cog(h: Harness) -> DigestCog:
    """The loaded cog (extensions are imported afresh by each bot, so compare by name, not class)."""
    cog = h.bot.get_cog("Digest")
    assert type(cog).__name__ == "DigestCog"
    return cog  # type: ignore[return-value]


def test_daily_window_is_the_24_hours_before_digest_time() -> None:
    assert daily_window(BEFORE, time(8), LONDON) is None
    window = daily_window(AFTER, time(8), LONDON)
    assert window is not None
    assert window.start == datetime(2025, 6, 10, 7, tzinfo=UTC) and window.end == datetime(2025, 6, 11, 7, tzinfo=UTC)
    # the clocks went forward on 30 March 2025: that window is 23 hours long
    spring = daily_window(datetime(2025, 3, 30, 12, tzinfo=UTC), time(8), LONDON)
    assert spring is not None and (spring.end - spring.start).total_seconds() == 23 * 3600


def test_run_times_wrap_past_midnight() -> None:
    assert [t.hour for t in run_times(time(22, 30), LONDON)] == [22, 23, 0, 1]
    late = daily_window(datetime(2025, 6, 11, 23, 30, tzinfo=UTC), time(23, 30), LONDON)  # 00:30 BST
    assert late is not None and late.end == datetime(2025, 6, 11, 22, 30, tzinfo=UTC)  # yesterday's, retried
    assert daily_window(datetime(2025, 6, 12, 4, 0, tzinfo=UTC), time(23, 30), LONDON) is None  # past the grace


def test_requested_window() -> None:
    assert requested_window("2025-06-10", AFTER, LONDON) == day_window(date(2025, 6, 10), LONDON)
    rolling = requested_window(None, AFTER, LONDON)
    assert rolling.end == datetime(2025, 6, 11, 7, tzinfo=UTC)  # to the hour, so a stored digest is reused
    with pytest.raises(Exception, match="use YYYY-MM-DD"):
        requested_window("June 10", AFTER, LONDON)


@pytest.mark.asyncio
async def test_posts_once_when_due_opens_a_thread_and_never_again_after_a_restart(
    tmp_path: Path, monkeypatch: Any
) -> None:
    service = FakeDigestService()
    async with running(build(tmp_path, service), monkeypatch) as h:
        cog = digest_cog(h)
        assert cog.daily.is_running()  # started in cog_load
        assert [t.isoformat() for t in cog.daily.time or []] == ["08:00:00", "09:00:00", "10:00:00", "11:00:00"]
        assert all(str(t.tzinfo) == LONDON for t in cog.daily.time or [])
        assert await cog.post_if_due(BEFORE) is None
        assert h.api.channel_posts(DIGEST_ID) == [] and service.created == []

        message = await cog.post_if_due(AFTER)
        assert message is not None
        posts = h.api.channel_posts(DIGEST_ID)
        assert len(posts) == 1 and posts[0].embeds[0]["title"].startswith("News digest: 2025-06-10 08:00")
        assert mentions_nothing(posts[0].allowed_mentions)
        threads = h.api.calls_to("/threads")
        assert (
            len(threads) == 1 and threads[0].payload and threads[0].payload["name"] == "Digest 2025-06-11 — discussion"
        )
        thread_id = threads[0].response["id"]
        assert len(h.api.channel_posts(int(thread_id))) == 1  # the discussion prompt
        window = service.created[0][0]
        assert service.posted == {window.key: (DIGEST_ID, message.id)}

        assert await cog.post_if_due(AFTER) is None  # same day, same process
        await h.bot.remove_cog("Digest")  # "restart": a new cog with the same (database) state
        await asyncio.sleep(0)
        assert not cog.daily.is_running()  # cancelled in cog_unload
        fresh = type(cog)(h.bot, service)
        await h.bot.add_cog(fresh)
        assert await fresh.post_if_due(AFTER) is None
        assert await fresh.post_if_due(datetime(2025, 6, 11, 22, tzinfo=UTC)) is None
        assert len(h.api.channel_posts(DIGEST_ID)) == 1

        assert await fresh.post_if_due(NEXT_DAY) is not None  # tomorrow is a new window
        assert len(h.api.channel_posts(DIGEST_ID)) == 2
        assert len(service.posted) == 2


@pytest.mark.asyncio
async def test_thread_failure_does_not_undo_the_post(tmp_path: Path, monkeypatch: Any) -> None:
    service = FakeDigestService()
    async with running(build(tmp_path, service), monkeypatch) as h:
        h.api.failures["POST /channels/{channel_id}/messages/{message_id}/threads"] = 403
        assert await digest_cog(h).post_if_due(AFTER) is not None
        assert len(service.posted) == 1
        assert await digest_cog(h).post_if_due(AFTER) is None


@pytest.mark.asyncio
async def test_plain_text_where_the_bot_may_not_embed(tmp_path: Path, monkeypatch: Any) -> None:
    service = FakeDigestService()
    async with running(build(tmp_path, service, digest_channel_id=PLAIN_ID), monkeypatch) as h:
        await digest_cog(h).post_if_due(AFTER)
        posts = h.api.channel_posts(PLAIN_ID)
    assert posts and all(not p.embeds and 0 < len(p.content) <= 2000 for p in posts)
    assert posts[0].content.startswith("# News digest:")
    assert all(int(p.body["flags"]) & discord.MessageFlags.suppress_embeds.flag for p in posts)


@pytest.mark.asyncio
async def test_no_digest_channel_means_no_loop(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, FakeDigestService(), digest_channel_id=None), monkeypatch) as h:
        assert not digest_cog(h).daily.is_running()


@pytest.mark.asyncio
async def test_digest_command(tmp_path: Path, monkeypatch: Any) -> None:
    service = FakeDigestService()
    async with running(build(tmp_path, service), monkeypatch) as h:
        calls = await h.slash("digest", topic="ceasefire", date="2025-06-10")
        bad = await h.slash("digest", date="yesterday")
    assert calls[0].payload == {"type": 5}
    followups = [c for c in calls if c.route == "POST /webhooks/{webhook_id}/{webhook_token}"]
    assert followups and followups[0].embeds[0]["title"] == "News digest: 10 June 2025 — ceasefire"
    assert service.created == [(day_window(date(2025, 6, 10), LONDON), "ceasefire")]
    assert bad[0].ephemeral and bad[0].content == "date 'yesterday': use YYYY-MM-DD, e.g. 2025-06-11"
