"""Discord without a network: real discord.py objects over a recording fake transport.

discord.py sends everything through two methods: ``HTTPClient.request`` (bot-token
calls: channel messages, threads, command sync) and ``AsyncWebhookAdapter.request``
(interaction responses and follow-ups). :class:`FakeDiscordAPI` replaces only those,
records each call (method, route, JSON payload) and answers with plausible payloads.
Everything above them is the real library: ``Interaction`` objects built from
gateway payloads (as discord.py's own ``tests/test_app_commands_invoke.py`` does),
``InteractionResponse``, webhooks, ``Message``, views, modals and the command tree.

Also here: small fake core services returning real ``Answer``/``Digest`` objects.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord
import discord.interactions
import discord.webhook.async_
import numpy as np
from discord import app_commands
from discord.http import Route

from bot.answer.models import Answer, ClaimWarning
from bot.core.models import CitedSentence, Passage, Source
from bot.digest.models import Digest, DigestStory, DisputedMark
from bot.digest.window import Window
from bot.discord.bot import FactdeskBot
from index.pipeline import IngestReport, ItemResult
from index.stats import IndexStats, OutletStats

APP_ID = 100_000_000_000_000_001  # also the bot user's id
GUILD_ID = 200_000_000_000_000_001
GENERAL_ID = 300_000_000_000_000_001
DIGEST_ID = 300_000_000_000_000_002
MODS_ID = 300_000_000_000_000_003
AUDIT_ID = 300_000_000_000_000_004
PLAIN_ID = 300_000_000_000_000_005  # a channel where the bot may not embed links
MOD_ROLE_ID = 400_000_000_000_000_001
MOD_USER_ID = 500_000_000_000_000_001
READER_ID = 500_000_000_000_000_002
ROLE_MOD_ID = 500_000_000_000_000_003  # a moderator by role only

NONE_MENTIONS: dict[str, list[str]] = {"parse": []}


def mentions_nothing(allowed: Any) -> bool:
    """``allowed_mentions`` as ``AllowedMentions.none()`` sends it (``replied_user: False`` for replies)."""
    return (
        isinstance(allowed, dict)
        and allowed.get("parse") == []
        and set(allowed) <= {"parse", "replied_user"}
        and not allowed.get("replied_user")
    )


EPHEMERAL = 64
LOADING = 128


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat()


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def member_payload(user_id: int, name: str, roles: Iterable[int] = ()) -> dict[str, Any]:
    return {
        "user": user_payload(user_id, name),
        "roles": [str(r) for r in roles],
        "joined_at": iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": str(discord.Permissions.text().value),
    }


def role_payload(role_id: int, name: str, permissions: discord.Permissions, position: int = 0) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions.value),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def channel_payload(channel_id: int, name: str, overwrites: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "guild_id": str(GUILD_ID),
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": list(overwrites),
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
    }


def guild_payload() -> dict[str, Any]:
    deny_embeds = {
        "id": str(GUILD_ID),
        "type": 0,
        "allow": "0",
        "deny": str(discord.Permissions(embed_links=True).value),
    }
    return {
        "id": str(GUILD_ID),
        "name": "Newsroom",
        "owner_id": str(MOD_USER_ID),
        "roles": [
            role_payload(GUILD_ID, "@everyone", discord.Permissions.text() | discord.Permissions(view_channel=True)),
            role_payload(MOD_ROLE_ID, "Moderators", discord.Permissions.none(), position=1),
        ],
        "channels": [
            channel_payload(GENERAL_ID, "general"),
            channel_payload(DIGEST_ID, "digest"),
            channel_payload(MODS_ID, "moderators"),
            channel_payload(AUDIT_ID, "audit-log"),
            channel_payload(PLAIN_ID, "plain", [deny_embeds]),
        ],
        "members": [{**member_payload(APP_ID, "factdesk"), "user": user_payload(APP_ID, "factdesk", bot=True)}],
        "threads": [],
        "member_count": 4,
        "emojis": [],
        "stickers": [],
        "features": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "large": False,
    }


# --------------------------------------------------------------------------- the fake API


@dataclass
class ApiCall:
    """One request as discord.py sent it."""

    method: str
    route: str  # the route template, e.g. "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    params: dict[str, str]
    payload: Any
    at: float = field(default_factory=time.perf_counter)
    response: Any = None

    @property
    def body(self) -> dict[str, Any]:
        """The message part: an interaction callback's ``data``, else the payload itself."""
        payload = self.payload or {}
        if self.route.endswith("/callback"):
            return dict(payload.get("data") or {})
        return dict(payload)

    @property
    def sends_message(self) -> bool:
        """True for every call that creates or edits message content (the ones that could mention)."""
        if self.method not in ("POST", "PATCH") or self.payload is None:
            return False
        if self.route.endswith("/callback"):
            return self.payload.get("type") in (
                discord.InteractionResponseType.channel_message.value,
                discord.InteractionResponseType.message_update.value,
            )
        return "/messages" in self.route or self.route.endswith("{webhook_token}")

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.body.get("flags") or 0) & EPHEMERAL)

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.body.get("embeds") or [])

    @property
    def allowed_mentions(self) -> Any:
        return self.body.get("allowed_mentions")

    def text(self) -> str:
        """Content plus every embed string, for "does it say X" assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)


def _route_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


class FakeDiscordAPI:
    """Records every request and answers like Discord would, keeping the messages it created."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.originals: dict[str, int] = {}  # interaction token -> original response message id
        self.failures: dict[str, int] = {}  # route template -> HTTP status to fail with (once)
        self._ids = itertools.count(900_000_000_000_000_001)

    def snowflake(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------------ transports
    async def http_request(self, route: Route, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        return self.handle(route, kwargs.get("json"))

    def install(self, bot: discord.Client, monkeypatch: Any) -> None:
        """Route ``bot``'s HTTP client and every webhook (interaction) request through this fake."""
        bot.http.request = self.http_request  # type: ignore[method-assign]
        adapter = FakeWebhookAdapter(self)
        context: ContextVar[discord.webhook.async_.AsyncWebhookAdapter] = ContextVar("fake_webhook", default=adapter)
        monkeypatch.setattr(discord.webhook.async_, "async_context", context)
        monkeypatch.setattr(discord.interactions, "async_context", context)

    # ------------------------------------------------------------------ recording
    def handle(self, route: Route, payload: dict[str, Any] | None) -> Any:
        path = route.url[len(Route.BASE) :].split("?")[0]
        match = _route_pattern(route.path).match(path)
        params = match.groupdict() if match else {}
        key = f"{route.method} {route.path}"
        call = ApiCall(route.method, key, params, payload)
        self.calls.append(call)
        status = self.failures.pop(key, None)
        if status is not None:
            response = SimpleNamespace(status=status, reason="Forbidden" if status == 403 else "Error")
            error = discord.Forbidden if status == 403 else discord.HTTPException
            raise error(response, {"message": "injected failure", "code": 0})  # type: ignore[arg-type]
        call.response = self._respond(route.method, route.path, params, payload or {})
        return call.response

    def message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        webhook: bool = False,
        flags: int = 0,
    ) -> dict[str, Any]:
        message_id = self.snowflake()
        data: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(GUILD_ID),
            "author": author or user_payload(APP_ID, "factdesk", bot=True),
            "content": body.get("content") or "",
            "timestamp": iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": flags | int(body.get("flags") or 0),
        }
        if webhook:
            data["webhook_id"] = str(APP_ID)
            data["application_id"] = str(APP_ID)
        self.messages[message_id] = data
        return data

    def _edit(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        data = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                data[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        data["flags"] = int(data.get("flags") or 0) & ~LOADING
        data["edited_timestamp"] = iso()
        return data

    def _respond(self, method: str, path: str, params: dict[str, str], payload: Any) -> Any:
        key = f"{method} {path}"
        token = params.get("webhook_token", "")
        channel_id = int(params.get("channel_id") or GENERAL_ID)
        if key == "POST /interactions/{webhook_id}/{webhook_token}/callback":
            kind = payload.get("type")
            info: dict[str, Any] = {"id": params["webhook_id"], "type": 2}
            body = payload.get("data") or {}
            if kind in (4, 5):
                flags = LOADING if kind == discord.InteractionResponseType.deferred_channel_message.value else 0
                message = self.message(self._interaction_channel(token), body, webhook=True, flags=flags)
                self.originals[token] = int(message["id"])
                info.update(
                    response_message_id=message["id"],
                    response_message_loading=kind == discord.InteractionResponseType.deferred_channel_message.value,
                    response_message_ephemeral=bool(int(message["flags"]) & EPHEMERAL),
                )
                return {"interaction": info, "resource": {"type": kind, "message": message}}
            if kind == discord.InteractionResponseType.message_update.value:  # update the message the component is on
                message = self._edit(self.originals[token], body)
                return {"interaction": info, "resource": {"type": kind, "message": message}}
            return {"interaction": info}
        if key == "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            return self.messages[self.originals[token]]
        if key == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            return self._edit(self.originals[token], payload)
        if key == "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            self.messages.pop(self.originals.pop(token, 0), None)
            return None
        if key == "POST /webhooks/{webhook_id}/{webhook_token}":
            return self.message(self._interaction_channel(token), payload, webhook=True)
        if key == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}":
            return self._edit(int(params["message_id"]), payload)
        if key == "POST /channels/{channel_id}/messages":
            return self.message(channel_id, payload)
        if key == "PATCH /channels/{channel_id}/messages/{message_id}":
            return self._edit(int(params["message_id"]), payload)
        if key == "DELETE /channels/{channel_id}/messages/{message_id}":
            self.messages.pop(int(params["message_id"]), None)
            return None
        if key == "GET /channels/{channel_id}/messages":
            found = [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]
            return sorted(found, key=lambda m: int(m["id"]), reverse=True)
        if key == "POST /channels/{channel_id}/messages/{message_id}/threads":
            return self.thread(channel_id, str(payload.get("name", "thread")))
        if key in (
            "PUT /applications/{application_id}/commands",
            "PUT /applications/{application_id}/guilds/{guild_id}/commands",
        ):
            return [
                {
                    "description": "",
                    **cmd,
                    "id": str(self.snowflake()),
                    "application_id": str(APP_ID),
                    "version": "1",
                }
                for cmd in payload or []
            ]
        raise AssertionError(f"the fake Discord API does not know {key}")

    def thread(self, parent_id: int, name: str) -> dict[str, Any]:
        return {
            "id": str(self.snowflake()),
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(APP_ID),
            "name": name,
            "type": 11,
            "member_count": 1,
            "message_count": 0,
            "rate_limit_per_user": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso(),
                "locked": False,
            },
        }

    # interaction tokens encode their channel (see Harness.interaction_payload)
    @staticmethod
    def _interaction_channel(token: str) -> int:
        match = re.match(r"tok-(\d+)-", token)
        return int(match.group(1)) if match else GENERAL_ID

    # ------------------------------------------------------------------ queries
    def message_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.sends_message]

    def calls_to(self, fragment: str) -> list[ApiCall]:
        return [c for c in self.calls if fragment in c.route]

    def channel_posts(self, channel_id: int) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if c.route == "POST /channels/{channel_id}/messages" and int(c.params["channel_id"]) == channel_id
        ]


class FakeWebhookAdapter(discord.webhook.async_.AsyncWebhookAdapter):
    """The interaction/webhook transport, answered by :class:`FakeDiscordAPI`."""

    def __init__(self, api: FakeDiscordAPI) -> None:
        super().__init__()
        self.api = api

    async def request(self, route: Route, session: Any, *, payload: Any = None, **kwargs: Any) -> Any:
        return self.api.handle(route, payload)


# --------------------------------------------------------------------------- harness


_DISPATCH_TASKS = ("CommandTree-invoker", "discord-ui-", "discord.py: ")


class Harness:
    """A bot on the fake API with one cached guild: sends gateway payloads, waits for the handlers."""

    def __init__(self, bot: FactdeskBot, api: FakeDiscordAPI) -> None:
        self.bot = bot
        self.api = api
        self.state = bot._connection
        self._tokens = itertools.count(1)

    def prepare(self) -> None:
        """The cache a READY and GUILD_CREATE would have filled (call inside ``async with bot``)."""
        self.state.application_id = APP_ID
        me: Any = user_payload(APP_ID, "factdesk", bot=True)
        self.state.user = discord.ClientUser(state=self.state, data=me)
        guild = discord.Guild(data=guild_payload(), state=self.state)  # type: ignore[arg-type]
        self.state._add_guild(guild)

    @property
    def guild(self) -> discord.Guild:
        guild = self.bot.get_guild(GUILD_ID)
        assert guild is not None
        return guild

    def add_thread(self, parent_id: int = GENERAL_ID, name: str = "conversation") -> discord.Thread:
        thread = discord.Thread(guild=self.guild, state=self.state, data=self.api.thread(parent_id, name))  # type: ignore[arg-type]
        self.guild._add_thread(thread)
        return thread

    # ------------------------------------------------------------------ payloads
    def interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user_id: int = READER_ID,
        roles: Iterable[int] = (),
        channel_id: int = GENERAL_ID,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        token = f"tok-{channel_id}-{next(self._tokens)}"
        payload: dict[str, Any] = {
            "id": str(self.api.snowflake()),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id),
            "channel": channel_payload(channel_id, "channel"),
            "member": member_payload(user_id, f"user{str(user_id)[-1]}", roles),
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(discord.Permissions.text().value),
            "attachment_size_limit": 8_000_000,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
        }
        if message is not None:
            payload["message"] = message
            self.api.originals[token] = int(message["id"])  # a component's "original" is its message
        return payload

    @staticmethod
    def command_data(command: app_commands.Command[Any, ..., Any], options: dict[str, Any]) -> dict[str, Any]:
        types = {p.name: p.type.value for p in command.parameters}
        opts: list[dict[str, Any]] = [
            {"type": types[name], "name": name, "value": value} for name, value in options.items() if value is not None
        ]
        node: app_commands.Command[Any, ..., Any] | app_commands.Group = command
        data: dict[str, Any] = {"type": discord.AppCommandType.chat_input.value, "name": node.name, "options": opts}
        while node.parent is not None:
            subcommand = discord.AppCommandOptionType.subcommand.value
            data = {
                "type": discord.AppCommandType.chat_input.value,
                "name": node.parent.name,
                "options": [{**data, "type": subcommand}],
            }
            node = node.parent
        data["id"] = str(hash(node))
        return data

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
            discord.InteractionType.application_command.value,
            self.command_data(command, options),
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
        data = {
            "id": str(self.api.snowflake()),
            "type": discord.AppCommandType.message.value,
            "name": name,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        return await self.dispatch(
            self.interaction_payload(discord.InteractionType.application_command.value, data, **who)
        )

    async def click(self, message_id: int, label: str, **who: Any) -> list[ApiCall]:
        """Press the button labelled ``label`` on a message the bot sent."""
        message = self.api.messages[message_id]
        buttons = [
            c
            for row in message["components"]
            for c in row.get("components", [])
            if c.get("type") == discord.ComponentType.button.value
        ]
        matching = [b for b in buttons if b.get("label") == label]
        assert matching, f"no button {label!r}; have {[b.get('label') for b in buttons]}"
        data = {"custom_id": matching[0]["custom_id"], "component_type": 2}
        channel_id = int(message["channel_id"])
        return await self.dispatch(
            self.interaction_payload(
                discord.InteractionType.component.value, data, message=message, channel_id=channel_id, **who
            )
        )

    def last_modal(self) -> discord.ui.Modal:
        modals = list(self.state._view_store._modals.values())
        assert modals, "no modal is open"
        return modals[-1]

    async def submit(self, modal: discord.ui.Modal, values: dict[str, str | list[str]], **who: Any) -> list[ApiCall]:
        """Submit ``modal`` with values keyed by label text (a list for selects)."""
        components: list[dict[str, Any]] = []
        for label in modal.children:
            assert isinstance(label, discord.ui.Label)
            inner = label.component
            value = values.get(label.text)
            if isinstance(inner, discord.ui.TextInput):
                text = value if isinstance(value, str) else (inner.default or "")
                components.append(
                    {
                        "type": discord.ComponentType.label.value,
                        "component": {
                            "type": discord.ComponentType.text_input.value,
                            "custom_id": inner.custom_id,
                            "value": text,
                        },
                    }
                )
            elif isinstance(inner, discord.ui.Select):
                chosen = value if isinstance(value, list) else [o.value for o in inner.options if o.default]
                components.append(
                    {
                        "type": discord.ComponentType.label.value,
                        "component": {
                            "type": discord.ComponentType.string_select.value,
                            "custom_id": inner.custom_id,
                            "values": chosen,
                        },
                    }
                )
        data = {"custom_id": modal.custom_id, "components": components}
        return await self.dispatch(self.interaction_payload(discord.InteractionType.modal_submit.value, data, **who))

    async def dispatch(self, payload: dict[str, Any]) -> list[ApiCall]:
        """INTERACTION_CREATE through the real connection state, then wait for the handlers."""
        before = len(self.api.calls)
        self.state.parse_interaction_create(payload)  # type: ignore[arg-type]
        await self.settle()
        return self.api.calls[before:]

    def user_message(
        self,
        content: str,
        *,
        author_id: int = READER_ID,
        channel_id: int = GENERAL_ID,
        mention_bot: bool = True,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message = self.api.message(channel_id, {"content": content}, author=user_payload(author_id, "reader"))
        message["member"] = {k: v for k, v in member_payload(author_id, "reader").items() if k != "user"}
        if mention_bot:
            message["mentions"] = [user_payload(APP_ID, "factdesk", bot=True)]
        if reply_to is not None:
            message["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                "guild_id": str(GUILD_ID),
            }
            message["referenced_message"] = reply_to
        return message

    async def post(self, message: dict[str, Any]) -> list[ApiCall]:
        """MESSAGE_CREATE through the real connection state, then wait for the listeners."""
        before = len(self.api.calls)
        self.state.parse_message_create(message)  # type: ignore[arg-type]
        await self.settle()
        return self.api.calls[before:]


# --------------------------------------------------------------------------- fake core services


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeAnswerer:
    """Streams fixed deltas, then a real :class:`Answer`; records the questions it was asked."""

    def __init__(
        self,
        answer: Answer | Callable[[str], Answer],
        deltas: Sequence[str] = (),
        between: Callable[[], None] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.answer = answer
        self.deltas = list(deltas)
        self.between = between
        self.error = error
        self.questions: list[str] = []
        self.kwargs: list[dict[str, Any]] = []

    async def astream(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[str | Answer]:
        self.questions.append(question)
        self.kwargs.append({"outlet": outlet, "since": since, "until": until})
        if self.error is not None:
            raise self.error
        for delta in self.deltas:
            if self.between is not None:
                self.between()
            yield delta
            await asyncio.sleep(0)
        yield self.answer(question) if callable(self.answer) else self.answer


class HashEmbedder:
    """Deterministic bag-of-words unit vectors: lets the real ClaimsService run without a model."""

    model_name = "hash-embedder"

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, hash(word) % 64] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-12)
        return out


class FakeDigestService:
    """Builds a real Digest per window and remembers posts the way the database does."""

    def __init__(self, digest: Callable[[Window, str | None], Digest] | None = None) -> None:
        self.make = digest or (lambda window, topic: make_digest(window, topic))
        self.created: list[tuple[Window, str | None]] = []
        self.posted: dict[str, tuple[int, int]] = {}

    def get_or_create(self, window: Window, topic: str | None = None, force: bool = False) -> Digest:
        self.created.append((window, topic))
        return self.make(window, topic)

    def was_posted(self, window: Window) -> bool:
        return window.key in self.posted

    def mark_posted(self, window: Window, channel_id: int, message_id: int) -> bool:
        if window.key in self.posted:
            return False
        self.posted[window.key] = (channel_id, message_id)
        return True


class FakeIndexAdmin:
    def __init__(self) -> None:
        self.ingested: list[list[str]] = []
        self.suggested: list[int] = []

    def suggest_flags(self, days: int) -> int:
        self.suggested.append(days)
        return 0

    def ingest(self, sources: Sequence[str], on_item: Any = None) -> IngestReport:
        self.ingested.append(list(sources))
        items = [ItemResult(s, "added", title=f"Article from {s}", outlet="Harbour Times", chunks=3) for s in sources]
        return IngestReport(items=items, seconds=0.5, chunks_written=3 * len(items))

    def stats(self) -> IndexStats:
        first, last = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 9, tzinfo=UTC)
        return IndexStats(
            articles=12,
            duplicates=2,
            pending=0,
            chunks=80,
            outlets=2,
            undated=0,
            first=first,
            last=last,
            embedding_model="all-MiniLM-L6-v2-onnx-int8",
            size_bytes=3_000_000,
            by_outlet=[
                OutletStats("Harbour Times", 7, 1, first, last),
                OutletStats("Northline", 5, 1, first, last),
            ],
        )


# --------------------------------------------------------------------------- sample core objects


def make_source(number: int, *, title: str | None = None, url: str | None = None, text: str = "") -> Source:
    published = datetime(2025, 4, number % 28 + 1, 9, 0, tzinfo=UTC)
    passage = Passage(
        chunk_id=f"c{number}",
        article_id=f"a{number}",
        text=text or f"Passage {number}: officials said talks continue and no date has been set.",
        title=title or f"Story number {number}",
        outlet="Harbour Times" if number % 2 else "Northline",
        url=url if url is not None else f"https://news.example/{number}",
        published_at=published,
        start=100 * number,
        end=100 * number + 80,
    )
    return Source(
        number=number,
        article_id=passage.article_id,
        title=passage.title,
        outlet=passage.outlet,
        url=passage.url,
        published_at=published,
        passages=(passage,),
    )


def make_answer(
    text: str = "No date has been set for the meeting [1][2]. Officials say talks continue [2].",
    *,
    question: str = "Is the meeting scheduled?",
    sources: Sequence[Source] | None = None,
    warnings: Sequence[ClaimWarning] = (),
    disagreements: Sequence[str] = (),
    refused: bool = False,
) -> Answer:
    sources = list(sources) if sources is not None else [make_source(1), make_source(2)]
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    sentences = [
        CitedSentence(
            text=re.sub(r"\s*\[\d+\]", "", part).strip(),
            citations=tuple(int(n) for n in re.findall(r"\[(\d+)\]", part)),
            support=0.8,
            supported=True,
        )
        for part in re.split(r"(?<=[.!?])\s+", text)
        if part.strip()
    ]
    return Answer(
        question=question,
        text=text,
        sentences=[] if refused else sentences,
        sources=[] if refused else [s for s in sources if s.number in numbers or not numbers],
        engine="refusal" if refused else "llm",
        refused=refused,
        as_of=None if refused else date(2025, 4, 5),
        disagreements=list(disagreements),
        warnings=list(warnings),
        support_score=0.0 if refused else 0.81,
        prompt_name="answer",
        prompt_hash="0123456789abcdef0123",
    )


def make_digest(window: Window, topic: str | None = None, stories: int = 2) -> Digest:
    sources = [
        Source(
            1,
            "a1",
            "Ceasefire plan presented",
            "Harbour Times",
            "https://news.example/1",
            window.start,
            also_in=("Northline",),
        ),
        Source(2, "a2", "Kell bridge closed for repairs", "Gazette", "https://news.example/2", window.start),
    ]
    made = [
        DigestStory(
            story_id="s1",
            headline="Gaza ceasefire plan presented",
            summary=[
                CitedSentence("Mediators presented a three-stage ceasefire plan.", (1,), 0.9, True),
                CitedSentence("Both sides said they would study it.", (1,), 0.8, True),
            ],
            outlets=("Harbour Times", "Northline"),
            article_ids=("a1",),
            first_seen=window.start,
            last_seen=window.end - timedelta(hours=1),
            disputed=[DisputedMark(7, "The plan was signed", "false", "Not signed yet", 1, "The plan was signed.")],
        ),
        DigestStory(
            story_id="s2",
            headline="Kell bridge closed",
            summary=[CitedSentence("The Kell bridge closed for two weeks of repairs.", (2,), 0.9, True)],
            outlets=("Gazette",),
            article_ids=("a2",),
            first_seen=window.start,
            last_seen=window.start,
        ),
    ][:stories]
    return Digest(
        window=window,
        topic=topic,
        generated_at=window.end,
        stories=made,
        sources=sources[: len(made)],
        article_count=3,
        story_count=len(made),
        engine="extractive",
    )


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
    from bot.discord.bot import FactdeskBot

    names = ("claims", "digests", "admin", "answer_posts")
    parts = {k: parts_and_options.pop(k) for k in names if k in parts_and_options}
    return FactdeskBot(FakeApp(settings, answerer, **parts), **parts_and_options)


@asynccontextmanager
async def running(bot: FactdeskBot, monkeypatch: Any) -> AsyncIterator[Harness]:
    """``bot`` started against the fake API: cache filled, extensions loaded, commands synced."""
    api = FakeDiscordAPI()
    api.install(bot, monkeypatch)
    async with bot:
        harness = Harness(bot, api)
        harness.prepare()
        await bot.setup_hook()
        yield harness
