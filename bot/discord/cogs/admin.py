"""Index maintenance from Discord: ``/ingest`` (moderators), ``/sources``, ``/stats``, and feed polling.

``/ingest`` takes http(s) URLs only: the indexer also reads local paths, which a
Discord user must never reach. Fetching goes through the SSRF-safe fetcher, and
the blocking ingest runs in a thread (one at a time, see ``IndexAdmin``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app.services import IndexAdminLike
from bot.core.errors import PermissionDeniedError
from bot.discord import render
from bot.discord.errors import NO_MENTIONS
from bot.discord.ui import actor_of
from index.fetch import check_url

if TYPE_CHECKING:
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)


class AdminCog(commands.Cog, name="Admin"):
    """What is in the index, and adding to it."""

    def __init__(self, bot: FactdeskBot, admin: IndexAdminLike) -> None:
        self.bot = bot
        self.admin = admin
        self.feeds = bot.feeds
        self.poll_feeds.change_interval(minutes=bot.feed_interval_minutes)

    async def cog_load(self) -> None:
        if self.feeds:
            self.poll_feeds.start()

    async def cog_unload(self) -> None:
        self.poll_feeds.cancel()

    @app_commands.command(name="ingest", description="Add an article or feed URL to the index (moderators)")
    @app_commands.describe(url="An http(s) article or RSS/Atom feed URL")
    async def ingest(self, interaction: discord.Interaction, url: str) -> None:
        admin = self.admin
        actor = actor_of(interaction.user)
        if not self.bot.claims.is_moderator(actor):
            raise PermissionDeniedError("only moderators can add to the index")
        url = url.strip()
        check_url(url)  # http(s) only, no credentials: never a local path
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await asyncio.to_thread(admin.ingest, [url])
        embed = render.ingest_embed(report, url)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await self.bot.audit(f"📥 {actor.name} ({actor.id}) ingested <{url}>.", embed)

    @app_commands.command(name="sources", description="Outlets in the index, with article counts and dates")
    async def sources(self, interaction: discord.Interaction) -> None:
        stats = await asyncio.to_thread(self.admin.stats)
        groups = render.group_embeds(render.outlets_embeds(stats))
        await interaction.response.send_message(embeds=groups[0], ephemeral=True, allowed_mentions=NO_MENTIONS)
        for group in groups[1:]:
            await interaction.followup.send(embeds=group, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="stats", description="Articles, chunks, outlets and date range of the index")
    async def stats(self, interaction: discord.Interaction) -> None:
        stats = await asyncio.to_thread(self.admin.stats)
        await interaction.response.send_message(
            embed=render.stats_embed(stats), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @tasks.loop(minutes=30)  # the real interval is set in __init__ from the bot
    async def poll_feeds(self) -> None:
        try:
            await self.ingest_feeds()
        except Exception:  # one bad poll must not stop the next
            log.exception("feed poll failed")

    @poll_feeds.before_loop
    async def _before_poll(self) -> None:
        await self.bot.wait_until_ready()

    async def ingest_feeds(self) -> None:
        """Ingest every configured feed (re-ingesting is cheap: unchanged articles are skipped)."""
        report = await asyncio.to_thread(self.admin.ingest, list(self.feeds))
        added, updated, kept = report.count("added"), report.count("updated"), report.count("kept")
        log.info(
            "feed poll: %d added, %d updated, %d kept stored text (page fetch failed), %d errors",
            added,
            updated,
            kept,
            len(report.errors),
        )
        if added or updated or kept or report.errors:
            await self.bot.audit(
                f"📰 Feed poll: {added} added, {updated} updated, {len(report.errors)} errors."
                + (f" {kept} kept their stored text (page fetch failed)." if kept else ""),
                render.ingest_embed(report, f"{len(self.feeds)} feeds"),
            )
        if added or updated:
            # New reporting may contradict recent reporting: queue it for moderators (the
            # moderation cog posts pending suggestions with Accept/Dismiss buttons).
            queued = await asyncio.to_thread(self.admin.suggest_flags, SUGGEST_WINDOW_DAYS)
            log.info("feed poll: %d suggested flags queued", queued)


SUGGEST_WINDOW_DAYS = 3


async def setup(bot: FactdeskBot) -> None:
    await bot.add_cog(AdminCog(bot, bot.admin))
