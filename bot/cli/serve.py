"""``factdesk serve``: run the Discord bot on the application built from settings."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
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


DISCORD_HOST = ("discord.com", 443)
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0


async def wait_for_network(
    host: tuple[str, int] = DISCORD_HOST,
    *,
    attempts: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    probe_timeout: float = 10.0,
) -> None:
    """Return once ``host`` accepts a TCP connection, retrying with backoff (2 s doubling to 60 s).

    At boot the bot often starts before DNS or the route is up; each retry is one log line.
    ``attempts`` None retries forever (a service); otherwise ConfigError after that many tries.
    """
    delay = FIRST_RETRY_SECONDS
    tries = 0
    while True:
        tries += 1
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(*host), probe_timeout)
            writer.close()
            return
        except (OSError, TimeoutError) as exc:
            reason = network_reason(exc)
            if attempts is not None and tries >= attempts:
                raise ConfigError(
                    f"cannot reach Discord at {host[0]}:{host[1]} ({reason}); is the network up?"
                ) from None
            log.warning("cannot reach Discord at %s:%d (%s); retrying in %.0f s", host[0], host[1], reason, delay)
        await sleep(delay)
        delay = min(delay * 2, MAX_RETRY_SECONDS)


def network_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return " ".join(str(exc).split())[:120] or type(exc).__name__


async def run_bot(bot: FactdeskBot, token: str) -> None:
    await wait_for_network()
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
    import aiohttp
    import discord

    try:
        asyncio.run(run_bot(bot, token))
    except (aiohttp.ClientConnectionError, OSError) as exc:  # the network went away between probe and login
        raise ConfigError(f"cannot reach Discord ({network_reason(exc)}); is the network up?") from None
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


@app.command("invite-url")
@user_errors
def invite_url_command(
    ctx: typer.Context,
    application_id: int | None = typer.Option(
        None, "--application-id", help="The application (client) id; default: read from DISCORD_TOKEN."
    ),
) -> None:
    """Print the URL that adds the bot to a server, with exactly the scopes and permissions it needs."""
    from bot.app.doctor import token_application_id
    from bot.discord.invite import invite_url

    if application_id is None:
        token = discord_token(state(ctx).settings)
        found = token_application_id(token)
        if found is None:
            raise ConfigError(
                "cannot read the application id from DISCORD_TOKEN; pass --application-id "
                "(developer portal, General Information)"
            )
        application_id = int(found)
    typer.echo(invite_url(application_id))
