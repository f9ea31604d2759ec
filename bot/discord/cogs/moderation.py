"""Claim moderation: ``/flag``, ``/claims``, ``/claim show|update|resolve``, the "Flag as disputed"
message menu, and the moderator queue of suggested flags with Accept/Dismiss buttons.

Every change goes through the claims core with the acting user as an ``Actor``;
the core refuses non-moderators (``PermissionDeniedError``), and the error
boundary shows its message ephemerally. No ``default_permissions`` are set: the
moderators are the ones in the settings, whom Discord's permission flags know
nothing about, and hiding the commands would hide them from those moderators
too. Every action is written to the audit channel.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.claims.models import Verdict
from bot.core.errors import PermissionDeniedError
from bot.discord import render
from bot.discord.errors import NO_MENTIONS, report_interaction_error
from bot.discord.ui import FlagModal, actor_of

if TYPE_CHECKING:
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)

SUGGESTION_POLL_MINUTES = 5.0
HISTORY_SCAN = 200  # recent moderator-channel messages read once to find suggestions posted before a restart
LIST_LIMIT = 100

VERDICT_CHOICES = [app_commands.Choice(name=v.value, value=v.value) for v in Verdict]
STATUS_CHOICES = [
    app_commands.Choice(name="open", value="open"),
    app_commands.Choice(name="resolved", value="resolved"),
    app_commands.Choice(name="all", value="all"),
]


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"factdesk:suggestion:(?P<action>accept|dismiss):(?P<id>[0-9]+)",
):
    """Accept/Dismiss on a suggested flag; the id lives in the custom id, so buttons survive restarts."""

    def __init__(self, action: str, suggestion_id: int) -> None:
        accept = action == "accept"
        super().__init__(
            discord.ui.Button(
                label="Accept (flag as disputed)" if accept else "Dismiss",
                style=discord.ButtonStyle.success if accept else discord.ButtonStyle.secondary,
                custom_id=f"factdesk:suggestion:{action}:{suggestion_id}",
            )
        )
        self.action = action
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            cog = interaction.client.get_cog("Moderation") if isinstance(interaction.client, commands.Bot) else None
            if not isinstance(cog, ModerationCog):
                raise RuntimeError("the moderation cog is not loaded")
            await cog.decide_suggestion(interaction, self.action, self.suggestion_id)
        except Exception as exc:
            await report_interaction_error(interaction, exc, f"suggestion {self.action} #{self.suggestion_id}")


def suggestion_view(suggestion_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SuggestionButton("accept", suggestion_id))
    view.add_item(SuggestionButton("dismiss", suggestion_id))
    return view


class ModerationCog(commands.Cog, name="Moderation"):
    """Flagging and reviewing disputed claims."""

    claim = app_commands.Group(name="claim", description="Show, update or resolve a flagged claim")

    def __init__(self, bot: FactdeskBot) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.claims = bot.claims
        self._announced: set[int] | None = None
        self.flag_menu = app_commands.ContextMenu(name="Flag as disputed", callback=self.flag_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.flag_menu)
        self.bot.add_dynamic_items(SuggestionButton)
        if self.settings.moderator_channel_id:
            self.suggestion_poll.start()

    async def cog_unload(self) -> None:
        self.suggestion_poll.cancel()
        self.bot.remove_dynamic_items(SuggestionButton)
        self.bot.tree.remove_command(self.flag_menu.name, type=self.flag_menu.type)

    # ------------------------------------------------------------------ flagging
    @app_commands.command(name="flag", description="Flag a claim as false, misleading, disputed… (moderators)")
    @app_commands.describe(
        text="The claim, as stated in the news",
        verdict="Your rating of the claim",
        note="Why, for readers (shown with answers that repeat the claim)",
        evidence_url="A link that supports the verdict",
    )
    @app_commands.choices(verdict=VERDICT_CHOICES)
    async def flag(
        self,
        interaction: discord.Interaction,
        text: str,
        verdict: app_commands.Choice[str],
        note: str | None = None,
        evidence_url: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_of(interaction.user)
        evidence = [evidence_url] if evidence_url else []
        claim = await asyncio.to_thread(self.claims.flag, actor, text, verdict.value, note or "", evidence, None)
        embed = render.claim_embed(claim)
        await interaction.followup.send(
            f"Flagged as claim #{claim.id}.", embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.bot.audit(f"🚩 {actor.name} ({actor.id}) flagged claim #{claim.id} as {claim.verdict.value}.", embed)

    async def flag_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message menu: a flag form prefilled with the message text; the origin is the message link."""
        if not self.bot.is_moderator(interaction.user):
            raise PermissionDeniedError("only moderators can flag claims")
        text = message.content or (message.embeds[0].description or "" if message.embeds else "")
        await interaction.response.send_modal(
            FlagModal(
                self.bot,
                text=text,
                verdict=Verdict.DISPUTED,
                origin=message.jump_url,
                title="Flag as disputed",
            )
        )

    # ------------------------------------------------------------------ reading
    @app_commands.command(name="claims", description="List flagged claims")
    @app_commands.describe(status="Which claims (default: open)")
    @app_commands.choices(status=STATUS_CHOICES)
    async def claims_list(
        self, interaction: discord.Interaction, status: app_commands.Choice[str] | None = None
    ) -> None:
        wanted = status.value if status is not None else "open"
        found = await asyncio.to_thread(self.claims.list, None if wanted == "all" else wanted, None, None)
        newest = sorted(found, key=lambda c: c.id, reverse=True)[:LIST_LIMIT]
        embeds = render.claims_list_embeds(newest, wanted if wanted != "all" else "flagged")
        if len(found) > len(newest):
            embeds[-1].set_footer(text=f"Showing the newest {len(newest)} of {len(found)}.")
        groups = render.group_embeds(embeds)
        await interaction.response.send_message(embeds=groups[0], ephemeral=True, allowed_mentions=NO_MENTIONS)
        for group in groups[1:]:
            await interaction.followup.send(embeds=group, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @claim.command(name="show", description="Show one claim")
    @app_commands.describe(claim_id="The claim's number, e.g. 12")
    async def claim_show(self, interaction: discord.Interaction, claim_id: int) -> None:
        found = await asyncio.to_thread(self.claims.get, claim_id)
        await interaction.response.send_message(embed=render.claim_embed(found), allowed_mentions=NO_MENTIONS)

    # ------------------------------------------------------------------ changing
    @claim.command(name="update", description="Change a claim's verdict or note, or add evidence (moderators)")
    @app_commands.describe(
        claim_id="The claim's number",
        verdict="The new verdict",
        note="The new note (replaces the old one)",
        evidence_url="A link to add to the evidence",
    )
    @app_commands.choices(verdict=VERDICT_CHOICES)
    async def claim_update(
        self,
        interaction: discord.Interaction,
        claim_id: int,
        verdict: app_commands.Choice[str] | None = None,
        note: str | None = None,
        evidence_url: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_of(interaction.user)
        evidence: list[str] | None = None
        if evidence_url:
            current = await asyncio.to_thread(self.claims.get, claim_id)
            evidence = [*current.evidence_urls, evidence_url]
        updated = await asyncio.to_thread(
            self.claims.update, actor, claim_id, verdict.value if verdict else None, note, evidence
        )
        embed = render.claim_embed(updated)
        await interaction.followup.send(
            f"Updated claim #{updated.id}.", embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.bot.audit(f"✏️ {actor.name} ({actor.id}) updated claim #{updated.id}.", embed)

    @claim.command(name="resolve", description="Close a claim, e.g. corrected at the source (moderators)")
    @app_commands.describe(claim_id="The claim's number", note="Why it is resolved")
    async def claim_resolve(self, interaction: discord.Interaction, claim_id: int, note: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        actor = actor_of(interaction.user)
        resolved = await asyncio.to_thread(self.claims.resolve, actor, claim_id, note)
        embed = render.claim_embed(resolved)
        await interaction.followup.send(
            f"Resolved claim #{resolved.id}.", embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        await self.bot.audit(f"✅ {actor.name} ({actor.id}) resolved claim #{resolved.id}: {note[:200]}", embed)

    # ------------------------------------------------------------------ suggestions
    @tasks.loop(minutes=SUGGESTION_POLL_MINUTES)
    async def suggestion_poll(self) -> None:
        try:
            await self.post_pending_suggestions()
        except Exception:
            log.exception("posting suggested flags failed")

    @suggestion_poll.before_loop
    async def _before_poll(self) -> None:
        await self.bot.wait_until_ready()

    async def post_pending_suggestions(self) -> int:
        """Post each pending suggestion not yet in the moderator channel; returns how many were posted."""
        channel = await self.bot.resolve_channel(self.settings.moderator_channel_id)
        if channel is None:
            return 0
        pending = await asyncio.to_thread(self.claims.pending_suggestions)
        if self._announced is None:
            self._announced = await self._posted_before(channel)
        posted = 0
        for suggestion in pending:
            if suggestion.id in self._announced:
                continue
            await channel.send(
                embed=render.suggestion_embed(suggestion),
                view=suggestion_view(suggestion.id),
                allowed_mentions=NO_MENTIONS,
            )
            self._announced.add(suggestion.id)
            posted += 1
        return posted

    async def _posted_before(self, channel: discord.abc.Messageable) -> set[int]:
        """Suggestion ids the bot already posted (read from its recent messages' footers)."""
        found: set[int] = set()
        me = self.bot.user
        try:
            async for message in channel.history(limit=HISTORY_SCAN):
                if me is None or message.author.id != me.id:
                    continue
                for embed in message.embeds:
                    match = render.SUGGESTION_FOOTER.match(embed.footer.text or "")
                    if match:
                        found.add(int(match.group(1)))
        except discord.HTTPException as exc:
            log.warning("could not read the moderator channel's history: %s", exc)
        return found

    async def decide_suggestion(self, interaction: discord.Interaction, action: str, suggestion_id: int) -> None:
        """Accept (flag the claim) or dismiss; the message then shows the decision without buttons."""
        await interaction.response.defer()
        actor = actor_of(interaction.user)
        if action == "accept":
            suggestion, claim = await asyncio.to_thread(self.claims.accept_suggestion, actor, suggestion_id)
            text = f"🚩 {actor.name} ({actor.id}) accepted suggestion #{suggestion.id} as claim #{claim.id}."
            embed = render.claim_embed(claim)
        else:
            suggestion = await asyncio.to_thread(self.claims.dismiss_suggestion, actor, suggestion_id)
            text = f"🗑️ {actor.name} ({actor.id}) dismissed suggestion #{suggestion.id}."
            embed = render.suggestion_embed(suggestion)
        await interaction.edit_original_response(
            embed=render.suggestion_embed(suggestion), view=None, allowed_mentions=NO_MENTIONS
        )
        await self.bot.audit(text, embed)


async def setup(bot: FactdeskBot) -> None:
    await bot.add_cog(ModerationCog(bot))
