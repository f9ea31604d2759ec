"""The Discord front end's one error boundary: user mistakes get a short reply, bugs get logged.

Slash commands (the tree's ``on_error``), buttons and modals (their ``on_error``),
prefix commands (``on_command_error``) and mention-mode messages all end here, so
a user sees the same wording for the same problem wherever it happened.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import FactdeskError
from bot.core.text.sanitize import clean_inline
from bot.discord.render import escape

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
GENERIC_MESSAGE = "Something went wrong; the error was logged."


class RateLimitedError(FactdeskError):
    """The user or channel asked too often; the message says when to try again."""

    def __init__(self, retry_after: float, scope: str = "you") -> None:
        seconds = max(1, round(retry_after))
        who = "You are" if scope == "you" else "This channel is"
        super().__init__(f"{who} asking too fast; try again in {seconds} s.")
        self.retry_after = retry_after


def unwrap(error: BaseException) -> BaseException:
    """The exception the command actually raised, without discord.py's wrappers."""
    while True:
        if isinstance(
            error, app_commands.CommandInvokeError | commands.CommandInvokeError | commands.HybridCommandError
        ):
            error = error.original
        else:
            return error


def user_message(error: BaseException) -> str | None:
    """What to tell the user about an expected error, or None if it is a bug.

    Messages can quote what the user typed (``--since '[x](https://…)'``): escaped like article text.
    """
    if isinstance(error, FactdeskError):
        return escape(clean_inline(str(error)))
    if isinstance(error, app_commands.CommandOnCooldown | commands.CommandOnCooldown):
        return f"Slow down a little; try again in {max(1, round(error.retry_after))} s."
    if isinstance(error, app_commands.NoPrivateMessage | commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.MissingPermissions | commands.MissingPermissions):
        return "You don't have the permissions this command needs."
    if isinstance(error, app_commands.BotMissingPermissions | commands.BotMissingPermissions):
        missing = ", ".join(error.missing_permissions)
        return f"I am missing permissions here: {missing}."
    if isinstance(error, app_commands.CheckFailure | commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, app_commands.TransformerError):
        return escape(clean_inline(f"I could not understand {str(error.value)[:100]!r}."))
    if isinstance(error, commands.UserInputError):
        return escape(clean_inline(str(error)))
    return None


def describe(error: BaseException, where: str) -> str:
    """The reply text; unexpected errors are logged with their traceback and where they happened."""
    original = unwrap(error)
    text = user_message(original)
    if text is not None:
        log.info("user error in %s: %s", where, text)
        return text
    log.exception("In %s:", where, exc_info=original)
    return GENERIC_MESSAGE


def interaction_origin(interaction: discord.Interaction) -> str:
    """The command's qualified name, or the component id, for the log line."""
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return f"component {custom_id}" if custom_id else f"interaction {interaction.type.name}"


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply only the user can see, whether or not the interaction was already answered or deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def report_interaction_error(
    interaction: discord.Interaction, error: BaseException, where: str | None = None
) -> None:
    """Tell the user ephemerally; log bugs. Never raises (a failing error handler hides the first error)."""
    text = describe(error, where or interaction_origin(interaction))
    try:
        await send_ephemeral(interaction, text)
    except discord.HTTPException as exc:
        log.warning("could not report an error to %s: %s", interaction.user, exc)


async def report_message_error(message: discord.Message, error: BaseException, where: str) -> None:
    """Mention mode has no ephemeral replies: answer the message itself, without pinging anyone."""
    text = describe(error, where)
    try:
        await message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not report an error in channel %s: %s", message.channel.id, exc)
