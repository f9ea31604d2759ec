"""The invite URL: exactly the scopes and channel permissions the bot uses, nothing more."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def bot_permissions() -> discord.Permissions:
    """What the cogs do: read and answer in channels, cited embeds, the digest's thread, the moderators' scan."""
    return discord.Permissions(
        view_channel=True,  # see the channels it answers and posts in
        send_messages=True,  # answers, digests, suggested flags, the audit log
        embed_links=True,  # cited answers and digests are embeds
        read_message_history=True,  # mention-mode follow-ups; finding earlier suggestion posts
        create_public_threads=True,  # the daily digest opens a thread for discussion
        send_messages_in_threads=True,  # ... and posts its stories there
    )


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(application_id, permissions=bot_permissions(), scopes=SCOPES)
