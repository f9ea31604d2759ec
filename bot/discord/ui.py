"""Shared Discord UI pieces: who is acting, the base view, and the "flag a claim" modal.

The modal is opened from an answer's "Flag a claim" button and from the "Flag as
disputed" message menu; both end in the same core call, ``ClaimsService.flag``,
which decides whether the user may flag at all.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.claims.models import Verdict
from bot.claims.service import MAX_CLAIM_CHARS, Actor
from bot.discord import render
from bot.discord.errors import NO_MENTIONS, report_interaction_error

if TYPE_CHECKING:
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)

MODAL_NOTE_CHARS = 1000
MODAL_URL_CHARS = 500


def actor_of(user: discord.abc.User) -> Actor:
    """The core's view of a Discord user: id as a string, display name, and role ids (members only)."""
    roles = getattr(user, "roles", None) or ()
    return Actor(id=str(user.id), name=str(user), role_ids=frozenset(role.id for role in roles))


class FactdeskView(discord.ui.View):
    """A view whose errors go through the bot's one error handler."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        custom_id = getattr(item, "custom_id", None) or type(item).__name__
        await report_interaction_error(interaction, error, f"{type(self).__name__} button {custom_id}")


class FlagModal(discord.ui.Modal):
    """Claim text (prefilled), verdict, note and evidence URL; submitting calls ``claims.flag``."""

    def __init__(
        self,
        bot: FactdeskBot,
        *,
        text: str = "",
        verdict: Verdict = Verdict.DISPUTED,
        origin: str | None = None,
        title: str = "Flag a claim",
    ) -> None:
        super().__init__(title=title, timeout=600)
        self.bot = bot
        self.origin = origin
        self.claim_text: discord.ui.TextInput[FlagModal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph,
            default=" ".join(text.split())[:MAX_CLAIM_CHARS] or None,
            max_length=MAX_CLAIM_CHARS,
        )
        self.verdict: discord.ui.Select[FlagModal] = discord.ui.Select(
            options=[discord.SelectOption(label=v.value, value=v.value, default=v is verdict) for v in Verdict],
            min_values=1,
            max_values=1,
        )
        self.note: discord.ui.TextInput[FlagModal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph, required=False, max_length=MODAL_NOTE_CHARS
        )
        self.evidence: discord.ui.TextInput[FlagModal] = discord.ui.TextInput(
            required=False, max_length=MODAL_URL_CHARS, placeholder="https://…"
        )
        self.add_item(discord.ui.Label(text="Claim", component=self.claim_text))
        self.add_item(discord.ui.Label(text="Verdict", component=self.verdict))
        self.add_item(discord.ui.Label(text="Note for readers", component=self.note))
        self.add_item(discord.ui.Label(text="Evidence URL", component=self.evidence))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_of(interaction.user)
        verdict = self.verdict.values[0] if self.verdict.values else Verdict.DISPUTED.value
        evidence = [self.evidence.value.strip()] if self.evidence.value.strip() else []
        claim = await asyncio.to_thread(
            self.bot.claims.flag,
            actor,
            self.claim_text.value,
            verdict,
            self.note.value,
            evidence,
            self.origin,
        )
        embed = render.claim_embed(claim)
        await interaction.followup.send(
            f"Flagged as claim #{claim.id}.", embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.bot.audit(f"🚩 {actor.name} ({actor.id}) flagged claim #{claim.id} as {claim.verdict.value}.", embed)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        await report_interaction_error(interaction, error, "flag modal")
