"""The bot itself: built on the application, loads one cog per feature, owns the error boundary.

Nothing global: the application (:class:`bot.app.Factdesk`, or anything shaped like
:class:`bot.app.services.FactdeskLike`) is passed in (as in discord.py's
``examples/advanced_startup.py``), so tests build the same bot on fakes and never connect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.services import (
    AnswererLike,
    AnswerPostsLike,
    ClaimsLike,
    DigestServiceLike,
    FactdeskLike,
    IndexAdminLike,
)
from bot.core.clock import utc_now, zone
from bot.core.settings import Settings
from bot.discord.errors import NO_MENTIONS, describe, report_interaction_error
from bot.discord.ui import actor_of

log = logging.getLogger(__name__)

DEFAULT_EXTENSIONS: tuple[str, ...] = (
    "bot.discord.cogs.ask",
    "bot.discord.cogs.digest",
    "bot.discord.cogs.moderation",
    "bot.discord.cogs.admin",
)


def make_intents(mention_mode: bool) -> discord.Intents:
    """Only the intents the bot uses.

    ``guilds`` keeps the channel and thread cache (digest, moderator and audit channels).
    Slash commands, buttons, modals and message menus need no intent at all.
    Mention mode adds ``guild_messages`` (to receive messages) and the privileged
    ``message_content``: Discord delivers the text of a message that @-mentions the
    bot without it, but follow-ups in a thread the bot answered in, and replies with
    the ping switched off, would arrive empty. Turn on "Message Content Intent" in the
    developer portal when FACTDESK_MENTION_MODE is set, or Discord refuses the login.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    if mention_mode:
        intents.guild_messages = True
        intents.message_content = True
    return intents


class FactdeskTree(app_commands.CommandTree["FactdeskBot"]):
    """The command tree; its ``on_error`` is the app-command half of the one error boundary."""

    async def on_error(
        self, interaction: discord.Interaction[FactdeskBot], error: app_commands.AppCommandError
    ) -> None:
        await report_interaction_error(interaction, error)


class FactdeskBot(commands.Bot):
    """Slash commands for questions, digests, claims and the index; mention mode optional."""

    def __init__(
        self,
        app: FactdeskLike,
        *,
        feeds: Sequence[str] | None = None,
        feed_interval_minutes: float | None = None,
        clock: Callable[[], datetime] = utc_now,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        sync_commands: bool = True,
    ) -> None:
        settings = app.settings
        zone(settings.timezone)  # fail at startup, not at the first digest, on an unknown zone
        # A text bot: discord.py's "PyNaCl/davey is not installed, voice will NOT be supported" is noise.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(settings.mention_mode),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=FactdeskTree,
        )
        self.app = app
        self.feeds = tuple(settings.feeds if feeds is None else feeds)
        self.feed_interval_minutes = (
            settings.feed_poll_minutes if feed_interval_minutes is None else feed_interval_minutes
        )
        self.clock = clock
        self.initial_extensions = tuple(extensions)
        self.sync_commands = sync_commands

    # The application's parts, as the cogs use them.
    @property
    def settings(self) -> Settings:
        return self.app.settings

    @property
    def answerer(self) -> AnswererLike:
        return self.app.answerer

    @property
    def claims(self) -> ClaimsLike:
        return self.app.claims

    @property
    def digests(self) -> DigestServiceLike:
        return self.app.digests

    @property
    def admin(self) -> IndexAdminLike:
        return self.app.admin

    @property
    def answer_posts(self) -> AnswerPostsLike:
        return self.app.answer_posts

    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.sync_commands:
            synced = await self.sync_app_commands()
            log.info("synced %d application commands", len(synced))

    async def sync_app_commands(self) -> list[app_commands.AppCommand]:
        """Copy the commands to the dev guild and sync there (instant), or sync globally.

        Global syncs can take a while to reach clients and are rate limited; a dev
        guild (FACTDESK_DISCORD_GUILD_ID) is the way to iterate quickly.
        """
        if self.settings.discord_guild_id:
            guild = discord.Object(id=self.settings.discord_guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self.tree.sync(guild=guild)
        return await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d guilds", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def on_command_error(self, context: commands.Context[Any], exception: commands.CommandError, /) -> None:
        """The prefix/mention half of the error boundary (the bot has no prefix commands of its own)."""
        if isinstance(exception, commands.CommandNotFound):
            return  # a mention-mode question parsed as a prefix: the ask cog answers it
        where = context.command.qualified_name if context.command else "prefix command"
        text = describe(exception, where)
        try:
            await context.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not report an error in %s: %s", where, exc)

    def is_moderator(self, user: discord.abc.User) -> bool:
        """For UX only (hiding a modal from non-moderators); the core checks again on every change."""
        return self.claims.is_moderator(actor_of(user))

    async def resolve_channel(self, channel_id: int | None) -> discord.abc.Messageable | None:
        """A configured channel from the cache, else from the API; None (logged) if it is unusable."""
        if not channel_id:
            return None
        channel = self.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden, discord.InvalidData) as exc:
                log.warning("channel %s is not available: %s", channel_id, exc)
                return None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("channel %s (%s) cannot receive messages", channel_id, type(channel).__name__)
            return None
        return channel

    async def audit(self, text: str, embed: discord.Embed | None = None) -> None:
        """Record a moderation action in the audit channel (and the log); never fails the action."""
        log.info("audit: %s", text)
        channel = await self.resolve_channel(self.settings.audit_channel_id)
        if channel is None:
            return
        try:
            if embed is None:
                await channel.send(text, allowed_mentions=NO_MENTIONS)
            else:
                await channel.send(text, embed=embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not write to the audit channel: %s", exc)
