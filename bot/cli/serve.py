"""``factdesk serve``: run the Discord bot with the parts built from settings."""

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


def build_bot(settings: Settings) -> FactdeskBot:
    """Every part from settings: one store, claims (with the answer's claim matcher), digests, index admin.

    Feeds come from ``settings.feeds``, polled every ``settings.feed_poll_minutes``.
    """
    from bot.app.wiring import build_answerer, build_digest_service, build_store
    from bot.claims.matching import ClaimMatcher
    from bot.claims.service import ClaimsService
    from bot.core.llm import make_chat_model
    from bot.discord.bot import FactdeskBot
    from bot.discord.services import IndexAdmin

    store = build_store(settings)
    claims = ClaimsService.from_settings(settings, store.embeddings)
    matcher = ClaimMatcher(claims, store.embeddings)
    digests = build_digest_service(settings, store, chat_model=make_chat_model(settings), claim_matcher=matcher)
    answerer = build_answerer(settings, store, claim_matcher=matcher, timelines=digests)
    feeds = list(settings.feeds)
    interval = settings.feed_poll_minutes
    return FactdeskBot(
        settings,
        answerer=answerer,
        claims=claims,
        digests=digests,
        admin=IndexAdmin(settings, store),
        feeds=feeds,
        feed_interval_minutes=interval,
    )


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
    bot = build_bot(settings)
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
