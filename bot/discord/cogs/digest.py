"""``/digest`` and the automatic daily digest, posted once per day with a thread for discussion.

The daily digest covers the 24 hours before ``digest_time`` (in the configured
timezone). Whether a window was posted is stored by the digest service in the
database, so a restart, a reconnect or a second tick never posts it twice. That
makes extra ticks free: the loop also runs hourly for a few hours after
``digest_time`` (a failed run is retried), and a bot that was offline at
``digest_time`` posts the day's digest as soon as it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.app.services import DigestServiceLike
from bot.core.clock import zone
from bot.core.errors import ConfigError, InvalidInputError
from bot.digest.models import Digest
from bot.digest.window import Window, day_window, since_window
from bot.discord import render
from bot.discord.errors import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
RETRY_HOURS = 3  # also try 1..3 hours after digest_time: posting is idempotent, a failed run gets retried


def run_times(at: time, timezone: str, retries: int = RETRY_HOURS) -> list[time]:
    """``at`` and the hourly retries after it, as timezone-aware times for ``tasks.loop``."""
    tz = zone(timezone)
    base = datetime.combine(date(2000, 1, 1), at.replace(tzinfo=None))
    return [(base + timedelta(hours=k)).time().replace(tzinfo=tz) for k in range(retries + 1)]


def daily_window(
    now: datetime, at: time, timezone: str, grace: timedelta = timedelta(hours=RETRY_HOURS + 1)
) -> Window | None:
    """The 24 hours ending at the latest local ``at`` before ``now``, or None if it is not due.

    Today's window is due from ``at`` until midnight; just after midnight yesterday's
    is still due for ``grace`` (so a 23:30 digest retried at 00:30 is not lost).
    Built from local wall-clock times, so a DST change day is 23 or 25 hours long.
    """
    tz = zone(timezone)
    local = now.astimezone(tz)
    wall = at.replace(tzinfo=None)
    end = datetime.combine(local.date(), wall, tzinfo=tz)
    if local < end:
        end = datetime.combine(local.date() - timedelta(days=1), wall, tzinfo=tz)
        if now - end > grace:
            return None
    start = datetime.combine(end.date() - timedelta(days=1), wall, tzinfo=tz)
    return Window(start, end, timezone)


def requested_window(day: str | None, now: datetime, timezone: str) -> Window:
    """``/digest date:`` as that local day, else the last 24 hours (to the hour, so digests are reused)."""
    if day and day.strip():
        try:
            parsed = date.fromisoformat(day.strip())
        except ValueError:
            raise InvalidInputError(f"date {day.strip()[:40]!r}: use YYYY-MM-DD, e.g. 2025-06-11") from None
        return day_window(parsed, timezone)
    return since_window(timedelta(hours=24), now.replace(minute=0, second=0, microsecond=0), timezone)


class DigestCog(commands.Cog, name="Digest"):
    """Digests on request, and the daily one in the digest channel."""

    def __init__(
        self,
        bot: FactdeskBot,
        digests: DigestServiceLike,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.bot = bot
        self.digests = digests
        self.settings = bot.settings
        self.clock = clock or bot.clock
        self._post_lock = asyncio.Lock()
        self.daily.change_interval(time=run_times(self.settings.digest_time, self.settings.timezone))

    async def cog_load(self) -> None:
        if self.settings.digest_channel_id:
            self.daily.start()
        else:
            log.info("daily digest off: no FACTDESK_DIGEST_CHANNEL_ID")

    async def cog_unload(self) -> None:
        self.daily.cancel()

    # ------------------------------------------------------------------ /digest
    @app_commands.command(name="digest", description="The top stories of a day, each sentence cited.")
    @app_commands.describe(
        topic="Only stories about this, e.g. ceasefire",
        date="A day as YYYY-MM-DD (server timezone); default: the last 24 hours",
    )
    async def digest(self, interaction: discord.Interaction, topic: str | None = None, date: str | None = None) -> None:
        service = self.digests
        window = requested_window(date, self.clock(), self.settings.timezone)
        await interaction.response.defer(thinking=True)
        result = await asyncio.to_thread(service.get_or_create, window, (topic or "").strip() or None)
        for group in render.group_embeds(render.digest_embeds(result)):
            await interaction.followup.send(embeds=group, allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ daily
    @tasks.loop(time=time(0, tzinfo=UTC))  # the real time is set in __init__ from the settings
    async def daily(self) -> None:
        try:
            await self.post_if_due()
        except Exception:  # a failed day must not stop tomorrow's digest
            log.exception("daily digest failed")

    @daily.before_loop
    async def _catch_up(self) -> None:
        """Wait for the cache, then post today's digest if it is due and was missed while offline."""
        await self.bot.wait_until_ready()
        try:
            await self.post_if_due()
        except Exception:
            log.exception("catching up on the daily digest failed")

    async def post_if_due(self, now: datetime | None = None) -> discord.Message | None:
        """Post the current daily window's digest unless it is not due yet or was already posted."""
        service = self.digests
        window = daily_window(now or self.clock(), self.settings.digest_time, self.settings.timezone)
        if window is None:
            return None
        async with self._post_lock:
            if await asyncio.to_thread(service.was_posted, window):
                log.debug("digest for %s already posted", window.key)
                return None
            channel = await self.bot.resolve_channel(self.settings.digest_channel_id)
            if channel is None:
                raise ConfigError("FACTDESK_DIGEST_CHANNEL_ID does not name a channel the bot can post in")
            digest = await asyncio.to_thread(service.get_or_create, window)
            message = await self.send_digest(channel, digest)
            if not await asyncio.to_thread(service.mark_posted, window, message.channel.id, message.id):
                log.warning("digest for %s was marked posted by someone else meanwhile", window.key)
        await self.open_thread(message, window)
        log.info("posted the digest for %s (message %s)", window.key, message.id)
        return message

    async def send_digest(self, channel: discord.abc.Messageable, digest: Digest) -> discord.Message:
        """Embeds if the bot may embed links here, else the plain-text version; returns the first message."""
        messages: list[discord.Message] = []
        if self._can_embed(channel):
            for group in render.group_embeds(render.digest_embeds(digest)):
                messages.append(await channel.send(embeds=group, allowed_mentions=NO_MENTIONS))
        else:
            for piece in render.digest_text(digest):
                messages.append(await channel.send(piece, suppress_embeds=True, allowed_mentions=NO_MENTIONS))
        return messages[0]

    @staticmethod
    def _can_embed(channel: discord.abc.Messageable) -> bool:
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            me = channel.guild.me
            return me is None or channel.permissions_for(me).embed_links
        return True

    async def open_thread(self, message: discord.Message, window: Window) -> discord.Thread | None:
        """One thread per day under the digest, for discussion; failures are logged, not fatal."""
        if not isinstance(message.channel, discord.TextChannel):
            return None
        day = window.end.astimezone(window.zone).date()
        try:
            thread = await message.create_thread(
                name=f"Digest {day.isoformat()} — discussion", auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
            await thread.send(
                "Discuss today's stories here. Ask questions with /ask; every answer cites its sources.",
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("could not open the digest thread: %s", exc)
            return None
        return thread


async def setup(bot: FactdeskBot) -> None:
    await bot.add_cog(DigestCog(bot, bot.digests))
