"""``/ask`` and mention mode: stream a cited answer into one message, then show the final embeds.

The preview is the model's raw text (edited at most every ``edit_interval`` seconds
to stay inside Discord's rate limits); the final embed is the verified answer,
which replaces it. Limits (length, rate) are checked before any work is done.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer.models import Answer
from bot.core.clock import parse_since
from bot.core.errors import InvalidInputError, PermissionDeniedError
from bot.core.text.markers import strip_citations
from bot.discord import render
from bot.discord.conversation import ConversationMemory, Turn, compose_question
from bot.discord.errors import NO_MENTIONS, report_message_error
from bot.discord.ratelimit import AskLimits
from bot.discord.ui import FactdeskView, FlagModal

if TYPE_CHECKING:
    from bot.answer.posts import PostedAnswer
    from bot.discord.bot import FactdeskBot

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.5  # seconds between preview edits: Discord allows ~5 edits per 5 s per channel
# Preview edits one answer may make, whatever the stream does (the final answer is one more edit
# plus at most render.MAX_ANSWER_MESSAGES - 1 follow-ups).
MAX_PREVIEW_EDITS = 5
ANSWER_VIEW_TIMEOUT = 3600.0


class EditThrottle:
    """Lets an edit through at most once per ``interval`` seconds; the first one immediately."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self) -> bool:
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


class AnswerTarget(Protocol):
    """Where an answer is shown: an interaction's original response, or a reply to a message."""

    async def preview(self, text: str) -> None: ...

    async def finish(
        self, groups: list[list[discord.Embed]], view: discord.ui.View | None
    ) -> tuple[discord.Message, discord.Message]:
        """Show the answer; returns its first message and the message that carries ``view``."""
        ...

    async def discard(self) -> None: ...


class InteractionTarget:
    """The deferred ``/ask`` response: edited with previews, then the first embeds; the rest as follow-ups."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction

    async def preview(self, text: str) -> None:
        await self.interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)

    async def finish(
        self, groups: list[list[discord.Embed]], view: discord.ui.View | None
    ) -> tuple[discord.Message, discord.Message]:
        last = len(groups) - 1
        first_view: dict[str, Any] = {"view": view} if view is not None and last == 0 else {}
        message = await self.interaction.edit_original_response(
            content=None, embeds=groups[0], allowed_mentions=NO_MENTIONS, **first_view
        )
        carrier: discord.Message = message
        for i, group in enumerate(groups[1:], start=1):
            extra: dict[str, Any] = {"view": view} if view is not None and i == last else {}
            carrier = await self.interaction.followup.send(
                embeds=group, allowed_mentions=NO_MENTIONS, wait=True, **extra
            )
        return message, carrier

    async def discard(self) -> None:
        """Drop the public "thinking…" message so the error can be shown privately instead."""
        try:
            await self.interaction.delete_original_response()
        except discord.HTTPException as exc:
            log.debug("could not delete the original response: %s", exc)


class MessageTarget:
    """A reply to the question message (mention mode), created by the first preview."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.sent: discord.Message | None = None

    async def preview(self, text: str) -> None:
        if self.sent is None:
            self.sent = await self.message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
        else:
            self.sent = await self.sent.edit(content=text, allowed_mentions=NO_MENTIONS)

    async def finish(
        self, groups: list[list[discord.Embed]], view: discord.ui.View | None
    ) -> tuple[discord.Message, discord.Message]:
        last = len(groups) - 1
        first_view: dict[str, Any] = {"view": view} if view is not None and last == 0 else {}
        if self.sent is None:
            self.sent = await self.message.reply(
                embeds=groups[0], mention_author=False, allowed_mentions=NO_MENTIONS, **first_view
            )
        else:
            self.sent = await self.sent.edit(content=None, embeds=groups[0], allowed_mentions=NO_MENTIONS, **first_view)
        carrier = self.sent
        for i, group in enumerate(groups[1:], start=1):
            extra: dict[str, Any] = {"view": view} if view is not None and i == last else {}
            carrier = await self.message.channel.send(embeds=group, allowed_mentions=NO_MENTIONS, **extra)
        return self.sent, carrier

    async def discard(self) -> None:
        if self.sent is not None:
            try:
                await self.sent.delete()
            except discord.HTTPException as exc:
                log.debug("could not delete the preview: %s", exc)


SOURCES_BUTTON_ID = "factdesk:answer:sources"
FLAG_BUTTON_ID = "factdesk:answer:flag"


class AnswerView(FactdeskView):
    """Buttons under an answer: its cited passages (for anyone) and flagging a claim (moderators).

    The buttons carry fixed custom ids, so after this view times out or the bot restarts,
    :class:`PostedAnswerView` answers their clicks from the answer recorded for that message.
    """

    def __init__(self, bot: FactdeskBot, answer: Answer, timeout: float | None = ANSWER_VIEW_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.bot = bot
        self.answer = answer

    @discord.ui.button(label="Sources", emoji="📚", style=discord.ButtonStyle.secondary, custom_id=SOURCES_BUTTON_ID)
    async def sources(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        groups = render.group_embeds(render.sources_embeds(self.answer))
        await interaction.response.send_message(embeds=groups[0], ephemeral=True, allowed_mentions=NO_MENTIONS)
        for group in groups[1:]:
            await interaction.followup.send(embeds=group, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Flag a claim", emoji="🚩", style=discord.ButtonStyle.danger, custom_id=FLAG_BUTTON_ID)
    async def flag(self, interaction: discord.Interaction, button: discord.ui.Button[AnswerView]) -> None:
        first = self.answer.sentences[0].text if self.answer.sentences else self.answer.text
        await open_flag_modal(self.bot, interaction, first)


class PostedAnswerView(FactdeskView):
    """The answer buttons of messages whose :class:`AnswerView` is gone (timed out, or a restart).

    Registered once, without a message: discord.py routes a click here only when no live view
    owns that message. The answer was recorded under the id of the message carrying the buttons
    (``answer_posts``), so Sources shows its cited passages and Flag its first sentence. A message
    posted before answers were recorded gets the sources its embeds list and an empty flag form.
    """

    def __init__(self, bot: FactdeskBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Sources", emoji="📚", style=discord.ButtonStyle.secondary, custom_id=SOURCES_BUTTON_ID)
    async def sources(self, interaction: discord.Interaction, button: discord.ui.Button[PostedAnswerView]) -> None:
        posted = await self._posted(interaction)
        if posted is not None:
            groups = render.group_embeds(render.source_passages_embeds(posted.sources))
            await interaction.response.send_message(embeds=groups[0], ephemeral=True, allowed_mentions=NO_MENTIONS)
            for group in groups[1:]:
                await interaction.followup.send(embeds=group, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        embeds = interaction.message.embeds if interaction.message is not None else []
        text = "\n".join(
            f.value for e in embeds for f in e.fields if f.name in ("Sources", "Sources (continued)") and f.value
        )
        note = "The passages behind this answer are no longer loaded (it was posted before the bot restarted)."
        embed = discord.Embed(title="Sources", description=render.truncate(f"{note}\n\n{text}".strip(), 4000))
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="Flag a claim", emoji="🚩", style=discord.ButtonStyle.danger, custom_id=FLAG_BUTTON_ID)
    async def flag(self, interaction: discord.Interaction, button: discord.ui.Button[PostedAnswerView]) -> None:
        posted = await self._posted(interaction)
        await open_flag_modal(self.bot, interaction, posted.first_sentence if posted is not None else "")

    async def _posted(self, interaction: discord.Interaction) -> PostedAnswer | None:
        if interaction.message is None:
            return None
        return await asyncio.to_thread(self.bot.answer_posts.get, str(interaction.message.id))


async def open_flag_modal(bot: FactdeskBot, interaction: discord.Interaction, sentence: str) -> None:
    """Moderators only: the flag form, prefilled with ``sentence`` without its [n] markers."""
    if not bot.is_moderator(interaction.user):
        raise PermissionDeniedError("only moderators can flag claims")
    origin = interaction.message.jump_url if interaction.message is not None else None
    await interaction.response.send_modal(FlagModal(bot, text=strip_citations(sentence), origin=origin))


class AskCog(commands.Cog, name="Ask"):
    """Questions by slash command or (optionally) by mentioning the bot."""

    def __init__(
        self,
        bot: FactdeskBot,
        *,
        clock: Callable[[], float] = time.monotonic,
        edit_interval: float = EDIT_INTERVAL,
        limits: AskLimits | None = None,
        memory: ConversationMemory | None = None,
    ) -> None:
        self.bot = bot
        self.settings = bot.settings
        self.clock = clock
        self.edit_interval = edit_interval
        self.limits = limits or AskLimits(bot.settings.ask_rate_per_minute, clock=clock)
        self.memory = memory or ConversationMemory()

    # ------------------------------------------------------------------ shared
    def check_question(self, question: str) -> str:
        text = " ".join(question.split())
        if not text:
            raise InvalidInputError("Please ask a question, e.g. “Is the summit scheduled?”")
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise InvalidInputError(
                f"Your question is {len(text)} characters long; the limit is {limit}. Please shorten it."
            )
        return text

    async def stream_answer(
        self,
        target: AnswerTarget,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        title: str | None = None,
    ) -> tuple[Answer, discord.Message]:
        """Preview the draft as it arrives (throttled), then replace it with the verified answer."""
        throttle = EditThrottle(self.edit_interval, self.clock)
        draft = ""
        previews = 0
        answer: Answer | None = None
        async for item in self.bot.answerer.astream(question, outlet=outlet, since=since):
            if isinstance(item, Answer):
                answer = item
                break
            draft = (draft + item)[-render.CONTENT_LIMIT * 2 :]  # the preview shows only the tail
            if draft.strip() and previews < MAX_PREVIEW_EDITS and throttle.ready():
                previews += 1
                await target.preview(render.preview_text(draft))
        if answer is None:
            raise RuntimeError("the answer stream ended without a final answer")
        view = None if answer.refused else AnswerView(self.bot, answer)
        groups = render.answer_messages(answer, title=title)
        message, carrier = await target.finish(groups, view)
        if view is not None:  # what the buttons need after a restart, keyed by the message carrying them
            await asyncio.to_thread(self.bot.answer_posts.record, str(carrier.id), answer)
        return answer, message

    # ------------------------------------------------------------------ /ask
    @app_commands.command(name="ask", description="Ask about the indexed news; every sentence cites its sources.")
    @app_commands.describe(
        question="Your question, e.g. “Is the Putin–Zelenskyy meeting scheduled?”",
        outlet="Only articles from this outlet",
        since="Only articles since a date (2025-04-05) or a span (24h, 7d)",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: str,
        outlet: str | None = None,
        since: str | None = None,
    ) -> None:
        text = self.check_question(question)
        since_at = parse_since(since, self.bot.clock(), self.settings.timezone, option="since")
        self.limits.check(interaction.user.id, interaction.channel_id)
        await interaction.response.defer(thinking=True)
        target = InteractionTarget(interaction)
        try:
            answer, message = await self.stream_answer(target, text, outlet=outlet or None, since=since_at)
        except Exception:
            await target.discard()
            raise
        thread_id = interaction.channel_id if isinstance(interaction.channel, discord.Thread) else None
        self.memory.remember(message.id, Turn(text, answer.text), thread_id)

    # ------------------------------------------------------------------ mention mode
    def _addressed(self, message: discord.Message) -> bool:
        """Mentions the bot, replies to one of its answers, or continues a thread it answered in."""
        me = self.bot.user
        if me is None:
            return False
        if any(user.id == me.id for user in message.mentions):
            return True
        reference = message.reference
        if reference is not None and reference.message_id is not None:
            if self.memory.knows(reference.message_id):
                return True
            resolved = reference.resolved
            if isinstance(resolved, discord.Message) and resolved.author.id == me.id:
                return True
        return isinstance(message.channel, discord.Thread) and self.memory.in_thread(message.channel.id)

    def _strip_mentions(self, content: str) -> str:
        me = self.bot.user
        if me is not None:
            content = re.sub(rf"<@!?{me.id}>", " ", content)
        return " ".join(content.split())

    def _earlier_turns(self, message: discord.Message) -> tuple[list[Turn], int | None]:
        """The turns a follow-up continues, from memory, else from the referenced bot message itself."""
        reference = message.reference
        reply_to = reference.message_id if reference is not None else None
        thread_id = message.channel.id if isinstance(message.channel, discord.Thread) else None
        previous = self.memory.previous(reply_to, thread_id)
        if previous is not None:
            return self.memory.chain(previous), previous
        resolved = reference.resolved if reference is not None else None
        me = self.bot.user
        if isinstance(resolved, discord.Message) and me is not None and resolved.author.id == me.id:
            earlier = resolved.embeds[0].description if resolved.embeds else resolved.content
            question = resolved.embeds[0].title if resolved.embeds and resolved.embeds[0].title else ""
            if earlier:
                return [Turn(question or "", earlier)], resolved.id
        return [], None

    @commands.Cog.listener("on_message")
    async def on_mention(self, message: discord.Message) -> None:
        if not self.settings.mention_mode or message.author.bot or message.guild is None:
            return
        if not self._addressed(message):
            return
        try:
            question = self.check_question(self._strip_mentions(message.content))
            self.limits.check(message.author.id, message.channel.id)
            turns, previous = self._earlier_turns(message)
            full = compose_question(turns, question, self.settings.max_question_chars)
            target = MessageTarget(message)
            try:
                answer, sent = await self.stream_answer(target, full, title=question)
            except Exception:
                await target.discard()
                raise
        except Exception as exc:
            await report_message_error(message, exc, "mention ask")
            return
        thread_id = message.channel.id if isinstance(message.channel, discord.Thread) else None
        self.memory.remember(sent.id, Turn(question, answer.text, previous), thread_id)


async def setup(bot: FactdeskBot) -> None:
    await bot.add_cog(AskCog(bot))
    bot.add_view(PostedAnswerView(bot))
