"""Discord's side of the wire: a recording fake REST API and a fake gateway, nothing else faked.

discord.py sends everything through two methods: ``HTTPClient.request`` (bot-token calls:
channel messages, threads, command sync) and ``AsyncWebhookAdapter.request`` (interaction
responses and follow-ups). :class:`FakeDiscordAPI` replaces only those, records each call
(method, route, JSON payload) and answers with plausible payloads, routing interaction
callbacks by :class:`discord.InteractionResponseType`. :class:`FakeGateway` delivers gateway
events (GUILD_CREATE, THREAD_CREATE, INTERACTION_CREATE, MESSAGE_CREATE) to the connection
state's handlers, as discord.py's own ``tests/test_app_commands_invoke.py`` does.

The discord.py internals this needs are all here, and only these: ``Client.http.request`` and
``webhook.async_.async_context`` (the two transports), ``Client._connection`` with its
``parse_*`` event handlers (the gateway's receiving end), setting the connection's user and
application id as READY would, and reading the views it keeps per message (a test stops one
to stand for a restart).
"""

from __future__ import annotations

import itertools
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import discord
import discord.interactions
import discord.webhook.async_
from discord.http import Route

from tests.discord_fakes.factories import (
    APP_ID,
    EPHEMERAL,
    GENERAL_ID,
    LOADING,
    bot_user_payload,
    iso,
    message_payload,
    thread_payload,
)

_MESSAGE_RESPONSES = (
    discord.InteractionResponseType.channel_message,
    discord.InteractionResponseType.deferred_channel_message,
)


def mentions_nothing(allowed: Any) -> bool:
    """``allowed_mentions`` as ``AllowedMentions.none()`` sends it (``replied_user: False`` for replies)."""
    return (
        isinstance(allowed, dict)
        and allowed.get("parse") == []
        and set(allowed) <= {"parse", "replied_user"}
        and not allowed.get("replied_user")
    )


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
    def response_type(self) -> discord.InteractionResponseType | None:
        """An interaction callback's response type (None for other calls)."""
        if not self.route.endswith("/callback") or not self.payload:
            return None
        return discord.InteractionResponseType(self.payload.get("type"))

    @property
    def sends_message(self) -> bool:
        """True for every call that creates or edits message content (the ones that could mention)."""
        if self.method not in ("POST", "PATCH") or self.payload is None:
            return False
        if self.route.endswith("/callback"):
            return self.response_type in (
                discord.InteractionResponseType.channel_message,
                discord.InteractionResponseType.message_update,
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
        """Store a new message in ``channel_id`` (by the bot unless ``author`` is given)."""
        data = message_payload(self.snowflake(), channel_id, body, author=author, webhook=webhook, flags=flags)
        self.messages[int(data["id"])] = data
        return data

    def thread(self, parent_id: int, name: str) -> dict[str, Any]:
        return thread_payload(self.snowflake(), parent_id, name)

    def _edit(self, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        data = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                data[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        data["flags"] = int(data.get("flags") or 0) & ~LOADING
        data["edited_timestamp"] = iso()
        return data

    def _callback(self, params: dict[str, str], payload: Any) -> Any:
        """An interaction response, by its :class:`discord.InteractionResponseType`."""
        token = params.get("webhook_token", "")
        kind = discord.InteractionResponseType(payload.get("type"))
        info: dict[str, Any] = {"id": params["webhook_id"], "type": discord.InteractionType.application_command.value}
        body = payload.get("data") or {}
        if kind in _MESSAGE_RESPONSES:
            loading = kind is discord.InteractionResponseType.deferred_channel_message
            message = self.message(_interaction_channel(token), body, webhook=True, flags=LOADING if loading else 0)
            self.originals[token] = int(message["id"])
            info.update(
                response_message_id=message["id"],
                response_message_loading=loading,
                response_message_ephemeral=bool(int(message["flags"]) & EPHEMERAL),
            )
            return {"interaction": info, "resource": {"type": kind.value, "message": message}}
        if kind is discord.InteractionResponseType.message_update:  # the message the component is on
            message = self._edit(self.originals[token], body)
            return {"interaction": info, "resource": {"type": kind.value, "message": message}}
        return {"interaction": info}  # deferred updates, modals, autocomplete: no message

    def _respond(self, method: str, path: str, params: dict[str, str], payload: Any) -> Any:
        key = f"{method} {path}"
        token = params.get("webhook_token", "")
        channel_id = int(params.get("channel_id") or GENERAL_ID)
        if key == "POST /interactions/{webhook_id}/{webhook_token}/callback":
            return self._callback(params, payload)
        if key == "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            return self.messages[self.originals[token]]
        if key == "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            return self._edit(self.originals[token], payload)
        if key == "DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original":
            self.messages.pop(self.originals.pop(token, 0), None)
            return None
        if key == "POST /webhooks/{webhook_id}/{webhook_token}":
            return self.message(_interaction_channel(token), payload, webhook=True)
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


def _interaction_channel(token: str) -> int:
    """The channel an interaction token names (see factories.interaction_token)."""
    match = re.match(r"tok-(\d+)-", token)
    return int(match.group(1)) if match else GENERAL_ID


class FakeWebhookAdapter(discord.webhook.async_.AsyncWebhookAdapter):
    """The interaction/webhook transport, answered by :class:`FakeDiscordAPI`."""

    def __init__(self, api: FakeDiscordAPI) -> None:
        super().__init__()
        self.api = api

    async def request(self, route: Route, session: Any, *, payload: Any = None, **kwargs: Any) -> Any:
        return self.api.handle(route, payload)


class FakeGateway:
    """Gateway events for ``client``, handled by discord.py's own connection state."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._state = client._connection

    def ready(self) -> None:
        """What READY leaves behind that the bot uses: its user and application id."""
        self._state.application_id = APP_ID
        self._state.user = discord.ClientUser(state=self._state, data=bot_user_payload())  # type: ignore[arg-type]

    def guild_create(self, payload: dict[str, Any]) -> None:
        self._state.parse_guild_create(payload)  # type: ignore[arg-type]

    def thread_create(self, payload: dict[str, Any]) -> None:
        self._state.parse_thread_create(payload)  # type: ignore[arg-type]

    def interaction_create(self, payload: dict[str, Any]) -> None:
        self._state.parse_interaction_create(payload)  # type: ignore[arg-type]

    def message_create(self, payload: dict[str, Any]) -> None:
        self._state.parse_message_create(payload)  # type: ignore[arg-type]

    def live_views(self) -> dict[int, discord.ui.View]:
        """The views the connection keeps for sent messages, by message id (no public accessor)."""
        return self._state._view_store._synced_message_views  # type: ignore[no-any-return]
