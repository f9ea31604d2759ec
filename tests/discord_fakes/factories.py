"""Gateway and REST payloads for one fake guild, shaped as Discord sends them.

Every number that is a Discord protocol value comes from discord.py's enums and flags
(``ChannelType``, ``MessageType``, ``InteractionType``, ``MessageFlags`` ...); the ids are
the fake guild's. discord.py turns these payloads into its own objects when they go
through :class:`tests.discord_fakes.transport.FakeGateway` or come back from the fake API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

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

EPHEMERAL = discord.MessageFlags.ephemeral.flag
LOADING = discord.MessageFlags.loading.flag


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


def bot_user_payload() -> dict[str, Any]:
    return user_payload(APP_ID, "factdesk", bot=True)


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
        "type": discord.ChannelType.text.value,
        "name": name,
        "position": 0,
        "permission_overwrites": list(overwrites),
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
    }


def guild_payload() -> dict[str, Any]:
    """GUILD_CREATE for the newsroom: five channels (one denies embeds), a moderator role, the bot."""
    deny_embeds = {
        "id": str(GUILD_ID),
        "type": 0,  # a role overwrite (discord.py has no public enum for overwrite types)
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
        "members": [{**member_payload(APP_ID, "factdesk"), "user": bot_user_payload()}],
        "threads": [],
        "member_count": 4,
        "emojis": [],
        "stickers": [],
        "features": [],
        "verification_level": discord.VerificationLevel.none.value,
        "default_message_notifications": discord.NotificationLevel.all_messages.value,
        "explicit_content_filter": discord.ContentFilter.disabled.value,
        "mfa_level": discord.MFALevel.disabled.value,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "large": False,
    }


def message_payload(
    message_id: int,
    channel_id: int,
    body: dict[str, Any],
    *,
    author: dict[str, Any] | None = None,
    webhook: bool = False,
    flags: int = 0,
) -> dict[str, Any]:
    """A message as the API returns it: ``body``'s content, embeds and components."""
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "guild_id": str(GUILD_ID),
        "author": author or bot_user_payload(),
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
        "type": discord.MessageType.default.value,
        "flags": flags | int(body.get("flags") or 0),
    }
    if webhook:
        data["webhook_id"] = str(APP_ID)
        data["application_id"] = str(APP_ID)
    return data


def thread_payload(thread_id: int, parent_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(APP_ID),
        "name": name,
        "type": discord.ChannelType.public_thread.value,
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


def interaction_token(channel_id: int, n: int) -> str:
    """Interaction tokens encode their channel, so the fake API knows where a response goes."""
    return f"tok-{channel_id}-{n}"


def interaction_payload(
    interaction_id: int,
    token: str,
    kind: discord.InteractionType,
    data: dict[str, Any],
    *,
    user_id: int = READER_ID,
    roles: Iterable[int] = (),
    channel_id: int = GENERAL_ID,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """INTERACTION_CREATE from a member of the newsroom (on ``message`` for a component)."""
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind.value,
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
        "context": 0,  # a guild (discord.py reads it into AppCommandContext, no enum)
    }
    if message is not None:
        payload["message"] = message
    return payload


def command_data(command: app_commands.Command[Any, ..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """A slash command's interaction data, nested under its groups as Discord sends subcommands."""
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


def message_command_data(command_id: int, name: str, message: dict[str, Any]) -> dict[str, Any]:
    """A message context-menu command on ``message``."""
    return {
        "id": str(command_id),
        "type": discord.AppCommandType.message.value,
        "name": name,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }


def button_data(message: dict[str, Any], label: str) -> dict[str, Any]:
    """A press of the button labelled ``label`` on ``message``."""
    buttons = [
        c
        for row in message["components"]
        for c in row.get("components", [])
        if c.get("type") == discord.ComponentType.button.value
    ]
    matching = [b for b in buttons if b.get("label") == label]
    assert matching, f"no button {label!r}; have {[b.get('label') for b in buttons]}"
    return {"custom_id": matching[0]["custom_id"], "component_type": discord.ComponentType.button.value}


def modal_submit_data(modal: discord.ui.Modal, values: dict[str, str | list[str]]) -> dict[str, Any]:
    """``modal`` submitted with values keyed by label text (a list for selects); defaults elsewhere."""
    components: list[dict[str, Any]] = []
    for label in modal.children:
        assert isinstance(label, discord.ui.Label)
        inner = label.component
        value = values.get(label.text)
        if isinstance(inner, discord.ui.TextInput):
            text = value if isinstance(value, str) else (inner.default or "")
            field: dict[str, Any] = {
                "type": discord.ComponentType.text_input.value,
                "custom_id": inner.custom_id,
                "value": text,
            }
        elif isinstance(inner, discord.ui.Select):
            chosen = value if isinstance(value, list) else [o.value for o in inner.options if o.default]
            field = {"type": discord.ComponentType.string_select.value, "custom_id": inner.custom_id, "values": chosen}
        else:
            continue
        components.append({"type": discord.ComponentType.label.value, "component": field})
    return {"custom_id": modal.custom_id, "components": components}


def user_message_payload(
    message_id: int,
    content: str,
    *,
    author_id: int = READER_ID,
    channel_id: int = GENERAL_ID,
    mention_bot: bool = True,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """MESSAGE_CREATE from a reader (mentioning the bot, or replying to ``reply_to``)."""
    message = message_payload(message_id, channel_id, {"content": content}, author=user_payload(author_id, "reader"))
    message["member"] = {k: v for k, v in member_payload(author_id, "reader").items() if k != "user"}
    if mention_bot:
        message["mentions"] = [bot_user_payload()]
    if reply_to is not None:
        message["message_reference"] = {
            "message_id": reply_to["id"],
            "channel_id": reply_to["channel_id"],
            "guild_id": str(GUILD_ID),
        }
        message["referenced_message"] = reply_to
    return message
