"""The Discord bot on the real application (real MiniLM, Chroma, SQLite); only Discord is faked."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from bot.discord.bot import FactdeskBot
from bot.discord.preview import message_to_text
from tests.conftest import SAMPLE_CORPUS
from tests.discord_fakes.factories import AUDIT_ID, MODS_ID
from tests.discord_fakes.harness import make_settings, running
from tests.discord_fakes.transport import mentions_nothing
from tests.unit.test_discord_ask import embeds_of, final_edit

PREVIEW_EDIT = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"


def _rss_item(article: Path, published: datetime) -> str:
    """One feed entry carrying a sample article's title and full text (no link: nothing is fetched)."""
    _, front, body = article.read_text(encoding="utf-8").split("---", 2)
    title = next(line.split(":", 1)[1].strip().strip('"') for line in front.splitlines() if line.startswith("title:"))
    return (
        f"<item><title>{escape(title)}</title><pubDate>{format_datetime(published)}</pubDate>"
        f"<description>{escape(body.strip())}</description></item>"
    )


@pytest.mark.asyncio
async def test_the_served_bot_queues_suggested_flags_after_a_feed_poll(tmp_path: Path, monkeypatch: Any) -> None:
    """``factdesk serve``'s bot, built from settings like the command builds it, with only Discord faked.

    The feed brings a report and its denial from the last three days; the poll ingests them and
    queues the contradiction for moderators through the application's own contradiction finder.
    """
    from bot.app import Factdesk

    now = datetime.now(UTC)
    items = [
        _rss_item(SAMPLE_CORPUS / "2025-04-02-geneva-mid-april-harbour.md", now - timedelta(days=2)),
        _rss_item(SAMPLE_CORPUS / "2025-04-03-wire-denial-harbour.md", now - timedelta(days=1)),
    ]
    feed = tmp_path / "wire.rss"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test Wire</title>'
        + "".join(items)
        + "</channel></rss>",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "data", feeds=[str(feed)])
    app = Factdesk.from_settings(settings)
    try:
        bot = FactdeskBot(app)  # what `factdesk serve` runs
        assert bot.admin is app.admin and bot.claims is app.claims and app.admin.claims is app.claims
        assert app.admin.contradictions is app.contradictions  # the finder `factdesk claims suggest` uses
        async with running(bot, monkeypatch) as h:
            cog: Any = h.bot.get_cog("Admin")
            assert cog.poll_feeds.is_running() and bot.feeds == (str(feed),)
            assert app.claims.pending_suggestions() == []
            await cog.ingest_feeds()
            audit = [c.content for c in h.api.channel_posts(AUDIT_ID)]
            pending = app.claims.pending_suggestions()
            moderation: Any = h.bot.get_cog("Moderation")
            posted = await moderation.post_pending_suggestions()
            to_moderators = h.api.channel_posts(MODS_ID)
    finally:
        app.close()
    assert audit[0] == "📰 Feed poll: 2 added, 0 updated, 0 errors."
    assert pending, "a feed poll queues suggested flags"
    pairs = [(s.text_a, s.text_b or "") for s in pending]
    assert any("scheduled for mid-April in Geneva" in a and "denied" in b for a, b in pairs), pairs
    assert all(s.source_a and s.source_b and s.source_a != s.source_b for s in pending)
    assert posted == len(pending) and to_moderators and all(mentions_nothing(c.allowed_mentions) for c in to_moderators)


@pytest.mark.asyncio
async def test_ask_with_the_real_answerer_over_the_sample_corpus(sample_settings: Any, monkeypatch: Any) -> None:
    """End to end on the indexed sample corpus; prints time to first visible content and to the answer."""
    from bot.app import Factdesk

    settings = make_settings(sample_settings.data_dir)
    bot = FactdeskBot(Factdesk.from_settings(settings))
    question = "Is the Putin–Zelenskyy meeting scheduled?"
    async with running(bot, monkeypatch) as h:
        for attempt in ("cold", "warm"):
            started = time.perf_counter()
            calls = await h.slash("ask", question=question)
            edits = [c for c in calls if c.route == PREVIEW_EDIT]
            final = final_edit(calls)
            print(
                f"\n/ask ({attempt}, engine={'llm' if settings.llm_enabled else 'extractive'}): "
                f"first visible content {edits[0].at - started:.3f}s, final answer {final.at - started:.3f}s"
            )
    embeds = embeds_of(final)
    print(message_to_text(embeds))
    assert embeds[0].title == question
    assert "[1]" in (embeds[0].description or "") or "don't say" in (embeds[0].description or "")
    assert all(mentions_nothing(c.allowed_mentions) for c in h.api.message_calls())
