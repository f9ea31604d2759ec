"""``factdesk serve``: run the Discord bot on the application built from settings."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import typer

from bot.cli.app import app, state, user_errors
from bot.core.errors import ConfigError
from bot.core.settings import Settings

if TYPE_CHECKING:
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)

TOKEN_MISSING = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
    "then set DISCORD_TOKEN in .env or the environment"
)


def discord_token(settings: Settings) -> str:
    """The bot token, or a ConfigError saying exactly what to set."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(TOKEN_MISSING)
    return token


async def run_bot(bot: FactdeskBot, token: str) -> None:
    async with bot:
        await bot.start(token)


@app.command()
@user_errors
def serve(ctx: typer.Context) -> None:
    """Run the Discord bot: /ask, /digest and the daily digest, claim moderation, /ingest."""
    settings = state(ctx).settings
    token = discord_token(settings)  # before building anything: the most common first-run mistake
    logging.getLogger().setLevel(logging.DEBUG if state(ctx).verbose else logging.INFO)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    from bot.discord.bot import FactdeskBot

    bot = FactdeskBot(state(ctx).app)  # feeds: settings.feeds, polled every settings.feed_poll_minutes
    import discord

    try:
        asyncio.run(run_bot(bot, token))
    except discord.LoginFailure:
        raise ConfigError(
            "Discord rejected DISCORD_TOKEN: copy the bot token again from the developer portal"
        ) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "mention mode needs the Message Content Intent: enable it for the bot in the developer portal, "
            "or unset FACTDESK_MENTION_MODE"
        ) from None
    except KeyboardInterrupt:
        log.info("stopped")
