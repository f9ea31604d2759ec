"""A running bot on the fake Discord: start it, send it events, read what it sent back.

:func:`running` starts a real :class:`FactdeskBot` whose two transports go to
:class:`~tests.discord_fakes.transport.FakeDiscordAPI`, with the newsroom guild in its cache and
its commands synced. :class:`Harness` then plays members: slash commands, context menus,
button presses, modal submits and plain messages, each as the gateway payload Discord would
send, and waits until the bot's handlers are done.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.discord.bot import FactdeskBot
from tests.discord_fakes import factories
from tests.discord_fakes.factories import (
    AUDIT_ID,
    DIGEST_ID,
    GENERAL_ID,
    GUILD_ID,
    MOD_ROLE_ID,
    MOD_USER_ID,
    MODS_ID,
    READER_ID,
)
from tests.discord_fakes.services import FakeDigestService, FakeIndexAdmin, HashEmbedder
from tests.discord_fakes.transport import ApiCall, FakeDiscordAPI, FakeGateway

# Names of the tasks discord.py runs handlers in (the command tree, views and modals, listeners).
_DISPATCH_TASKS = ("CommandTree-invoker", "discord-ui-", "discord.py: ")


class Harness:
    """A bot on the fake API with one cached guild: sends gateway payloads, waits for the handlers."""

    def __init__(self, bot: FactdeskBot, api: FakeDiscordAPI) -> None:
        self.bot = bot
        self.api = api
        self.gateway = FakeGateway(bot)
        self.modals: list[discord.ui.Modal] = []  # every modal the bot opened, in order
        self._tokens = itertools.count(1)

    def prepare(self) -> None:
        """The cache READY and GUILD_CREATE fill (call inside ``async with bot``)."""
        self.gateway.ready()
        self.gateway.guild_create(factories.guild_payload())

    @property
    def guild(self) -> discord.Guild:
        guild = self.bot.get_guild(GUILD_ID)
        assert guild is not None
        return guild

    def add_thread(self, parent_id: int = GENERAL_ID, name: str = "conversation") -> discord.Thread:
        data = self.api.thread(parent_id, name)
        self.gateway.thread_create(data)
        thread = self.guild.get_thread(int(data["id"]))
        assert thread is not None
        return thread

    # ------------------------------------------------------------------ payloads
    def interaction_payload(
        self,
        kind: discord.InteractionType,
        data: dict[str, Any],
        *,
        user_id: int = READER_ID,
        roles: Iterable[int] = (),
        channel_id: int = GENERAL_ID,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        token = factories.interaction_token(channel_id, next(self._tokens))
        who = {"user_id": user_id, "roles": roles, "channel_id": channel_id, "message": message}
        payload = factories.interaction_payload(self.api.snowflake(), token, kind, data, **who)
        if message is not None:
            self.api.originals[token] = int(message["id"])  # a component's "original" is its message
        return payload

    # ------------------------------------------------------------------ driving
    async def settle(self) -> None:
        """Wait until every handler task the last event started (and those they started) is done."""
        for _ in range(50):
            pending = [
                t
                for t in asyncio.all_tasks()
                if not t.done() and t is not asyncio.current_task() and t.get_name().startswith(_DISPATCH_TASKS)
            ]
            if not pending:
                return
            await asyncio.wait(pending, timeout=30)
        raise AssertionError("handlers did not settle")

    async def slash(self, name: str, *, group: str | None = None, **options: Any) -> list[ApiCall]:
        """Invoke ``/name`` (or ``/group name``) as a member; returns the API calls it made."""
        user_id = options.pop("user_id", READER_ID)
        roles = options.pop("roles", ())
        channel_id = options.pop("channel_id", GENERAL_ID)
        command = self.find_command(name, group)
        payload = self.interaction_payload(
            discord.InteractionType.application_command,
            factories.command_data(command, options),
            user_id=user_id,
            roles=roles,
            channel_id=channel_id,
        )
        return await self.dispatch(payload)

    def find_command(self, name: str, group: str | None = None) -> app_commands.Command[Any, ..., Any]:
        found = self.bot.tree.get_command(group or name)
        if group is not None and isinstance(found, app_commands.Group):
            found = found.get_command(name)
        assert isinstance(found, app_commands.Command), f"no command {group or ''} {name}"
        return found

    async def message_menu(self, name: str, message: dict[str, Any], **who: Any) -> list[ApiCall]:
        data = factories.message_command_data(self.api.snowflake(), name, message)
        return await self.dispatch(self.interaction_payload(discord.InteractionType.application_command, data, **who))

    async def click(self, message_id: int, label: str, **who: Any) -> list[ApiCall]:
        """Press the button labelled ``label`` on a message the bot sent."""
        message = self.api.messages[message_id]
        data = factories.button_data(message, label)
        channel_id = int(message["channel_id"])
        payload = self.interaction_payload(
            discord.InteractionType.component, data, message=message, channel_id=channel_id, **who
        )
        return await self.dispatch(payload)

    def last_modal(self) -> discord.ui.Modal:
        assert self.modals, "no modal was opened"
        return self.modals[-1]

    async def submit(self, modal: discord.ui.Modal, values: dict[str, str | list[str]], **who: Any) -> list[ApiCall]:
        """Submit ``modal`` with values keyed by label text (a list for selects)."""
        data = factories.modal_submit_data(modal, values)
        return await self.dispatch(self.interaction_payload(discord.InteractionType.modal_submit, data, **who))

    async def dispatch(self, payload: dict[str, Any]) -> list[ApiCall]:
        """INTERACTION_CREATE through the real connection state, then wait for the handlers."""
        before = len(self.api.calls)
        self.gateway.interaction_create(payload)
        await self.settle()
        return self.api.calls[before:]

    def user_message(self, content: str, **options: Any) -> dict[str, Any]:
        """A reader's message, stored on the fake API (see :func:`factories.user_message_payload`)."""
        message = factories.user_message_payload(self.api.snowflake(), content, **options)
        self.api.messages[int(message["id"])] = message
        return message

    async def post(self, message: dict[str, Any]) -> list[ApiCall]:
        """MESSAGE_CREATE through the real connection state, then wait for the listeners."""
        before = len(self.api.calls)
        self.gateway.message_create(message)
        await self.settle()
        return self.api.calls[before:]

    def forget_view(self, message_id: int) -> None:
        """Stop the live view on a message, as a timeout or a restart does (clicks then reach
        the bot's registered persistent views)."""
        self.gateway.live_views()[message_id].stop()

    def has_live_view(self, message_id: int) -> bool:
        return message_id in self.gateway.live_views()


# --------------------------------------------------------------------------- assembling a bot


def make_settings(data_dir: Any, **overrides: Any) -> Any:
    """Settings naming the fake guild's channels and moderators."""
    from bot.core.settings import load_settings

    values: dict[str, Any] = {
        "data_dir": data_dir,
        "discord_guild_id": GUILD_ID,
        "digest_channel_id": DIGEST_ID,
        "moderator_channel_id": MODS_ID,
        "audit_channel_id": AUDIT_ID,
        "moderator_user_ids": [MOD_USER_ID],
        "moderator_role_ids": [MOD_ROLE_ID],
        "digest_time": "08:00",
        "timezone": "Europe/London",
    }
    values.update(overrides)
    return load_settings(None, **values)


def make_claims(settings: Any) -> Any:
    """The real claims core on SQLite, with a deterministic embedder."""
    from bot.claims.service import ClaimsService

    return ClaimsService.from_settings(settings, HashEmbedder())


@dataclass
class FakeApp:
    """What the bot receives (``bot.app.services.FactdeskLike``): fakes where a test wants them,
    the real claims core and posted-answer records on SQLite otherwise."""

    settings: Any
    answerer: Any
    claims: Any = None
    digests: Any = None
    admin: Any = None
    answer_posts: Any = None

    def __post_init__(self) -> None:
        from bot.answer.posts import AnswerPosts

        if self.claims is None:
            self.claims = make_claims(self.settings)
        if self.digests is None:
            self.digests = FakeDigestService()
        if self.admin is None:
            self.admin = FakeIndexAdmin()
        if self.answer_posts is None:
            self.answer_posts = AnswerPosts(self.claims.engine)


def make_bot(settings: Any, answerer: Any, **parts_and_options: Any) -> FactdeskBot:
    """A bot on a :class:`FakeApp`; ``claims``/``digests``/``admin``/``answer_posts`` replace its parts,
    anything else is passed to :class:`FactdeskBot` (``feeds``, ``clock`` ...)."""
    names = ("claims", "digests", "admin", "answer_posts")
    parts = {k: parts_and_options.pop(k) for k in names if k in parts_and_options}
    return FactdeskBot(FakeApp(settings, answerer, **parts), **parts_and_options)


@asynccontextmanager
async def running(bot: FactdeskBot, monkeypatch: Any) -> AsyncIterator[Harness]:
    """``bot`` started against the fake API: cache filled, extensions loaded, commands synced."""
    api = FakeDiscordAPI()
    api.install(bot, monkeypatch)
    harness = Harness(bot, api)
    send_modal = discord.InteractionResponse.send_modal

    async def recording_send_modal(response: discord.InteractionResponse, modal: discord.ui.Modal) -> Any:
        harness.modals.append(modal)
        return await send_modal(response, modal)

    monkeypatch.setattr(discord.InteractionResponse, "send_modal", recording_send_modal)
    async with bot:
        harness.prepare()
        await bot.setup_hook()
        yield harness
