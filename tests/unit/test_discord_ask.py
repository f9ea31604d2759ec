"""``/ask`` and mention mode, driven through real discord.py objects over the fake API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.errors import InvalidInputError
from bot.discord.bot import FactdeskBot
from bot.discord.cogs.ask import AskCog, EditThrottle
from bot.discord.errors import GENERIC_MESSAGE
from tests.discord_fakes.factories import AUDIT_ID, GENERAL_ID, MOD_ROLE_ID, MOD_USER_ID, NONE_MENTIONS, READER_ID
from tests.discord_fakes.harness import Harness, make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, FakeClock, make_answer
from tests.discord_fakes.transport import ApiCall, mentions_nothing

QUESTION = "Is the meeting scheduled?"
PREVIEW_EDIT = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"

CHANNEL_MESSAGE = discord.InteractionResponseType.channel_message
MODAL = discord.InteractionResponseType.modal


def build(tmp_path: Path, answerer: Any, **overrides: Any) -> FactdeskBot:
    settings = make_settings(tmp_path / "data", **overrides)
    return make_bot(settings, answerer)


async def use_clock(h: Harness, clock: FakeClock, **kwargs: Any) -> AskCog:
    """Replace the loaded Ask cog by one on a fake clock."""
    await h.bot.remove_cog("Ask")
    cog = AskCog(h.bot, clock=clock, **kwargs)
    await h.bot.add_cog(cog)
    return cog


def final_edit(calls: list[ApiCall]) -> ApiCall:
    edits = [c for c in calls if c.route == PREVIEW_EDIT and c.embeds]
    assert edits, [c.route for c in calls]
    return edits[-1]


def embeds_of(call: ApiCall) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in call.embeds]


# --------------------------------------------------------------------------- streaming


@pytest.mark.asyncio
async def test_ask_defers_streams_throttled_previews_then_shows_the_answer(tmp_path: Path, monkeypatch: Any) -> None:
    clock = FakeClock()
    deltas = [f"word{i} " for i in range(10)]
    answerer = FakeAnswerer(make_answer(), deltas=deltas, between=lambda: clock.advance(0.5))
    async with running(build(tmp_path, answerer), monkeypatch) as h:
        await use_clock(h, clock)
        calls = await h.slash("ask", question=QUESTION, outlet="Reuters")

    assert calls[0].route.endswith("/callback") and calls[0].payload == {"type": 5}  # deferred, public
    previews = [c for c in calls if c.route == PREVIEW_EDIT and not c.embeds]
    # deltas arrive every 0.5 s for 5 s: the first shows at once, then one edit per 1.5 s
    assert len(previews) == 4
    assert previews[0].content == "word0 …"
    assert previews[-1].content.startswith("word0 word1") and "word9" in previews[-1].content
    final = final_edit(calls)
    assert final.body["content"] is None  # the preview text is replaced by the embed
    assert embeds_of(final)[0].description == make_answer().text
    labels = [b["label"] for row in final.body["components"] for b in row["components"]]
    assert labels == ["Sources", "Flag a claim"]
    assert answerer.questions == [QUESTION] and answerer.kwargs[0]["outlet"] == "Reuters"


def test_edit_throttle() -> None:
    clock = FakeClock()
    throttle = EditThrottle(1.5, clock)
    seen = []
    for _ in range(8):
        seen.append(throttle.ready())
        clock.advance(0.5)
    assert seen == [True, False, False, True, False, False, True, False]


@pytest.mark.asyncio
async def test_every_send_and_edit_passes_allowed_mentions_none(tmp_path: Path, monkeypatch: Any) -> None:
    """Even with the bot-wide default removed, each call site sends ``allowed_mentions={"parse": []}``."""
    nasty = make_answer("Ping @everyone and <@123> and <@123456789012345678> now [1].")
    answerer = FakeAnswerer(nasty, deltas=["Ping @everyone ", "and <@123> "])
    async with running(build(tmp_path, answerer), monkeypatch) as h:
        assert h.bot.allowed_mentions is not None and h.bot.allowed_mentions.to_dict() == NONE_MENTIONS
        h.bot.allowed_mentions = None  # from here on only the per-call argument can set it
        calls = await h.slash("ask", question="What about @everyone?")
        answer_id = h.api.originals[next(iter(h.api.originals))]
        calls += await h.click(answer_id, "Sources")
        calls += await h.click(answer_id, "Flag a claim", user_id=MOD_USER_ID)
        calls += await h.submit(h.last_modal(), {"Claim": "Ping everyone now"}, user_id=MOD_USER_ID)
        calls += await h.click(answer_id, "Flag a claim", user_id=READER_ID)  # refused: error message
        calls += await h.slash("ask", question="x" * 5000)  # refused: error message

    sent = [c for c in calls if c.sends_message]
    kinds = {c.route.split("/")[1] + ":" + c.method for c in sent}  # responses, edits, follow-ups, channel posts
    assert kinds == {"interactions:POST", "webhooks:PATCH", "webhooks:POST", "channels:POST"}, kinds
    assert len(sent) == 7
    for call in sent:
        assert mentions_nothing(call.allowed_mentions), (call.route, call.payload)
        assert "@everyone" not in call.text()
        assert "<@123456789012345678>" not in call.text()


# --------------------------------------------------------------------------- buttons


@pytest.mark.asyncio
async def test_sources_button_is_ephemeral_and_shows_passages(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, FakeAnswerer(make_answer())), monkeypatch) as h:
        await h.slash("ask", question=QUESTION)
        answer_id = next(iter(h.api.originals.values()))
        calls = await h.click(answer_id, "Sources")

    reply = calls[0]
    assert reply.route.endswith("/callback") and reply.response_type is CHANNEL_MESSAGE
    assert reply.ephemeral
    titles = [e["title"] for e in reply.embeds]
    assert titles == ["[1] Story number 1", "[2] Story number 2"]
    assert "characters 100–180" in reply.embeds[0]["description"]


@pytest.mark.asyncio
async def test_flag_button_refuses_readers_and_prefills_the_modal_for_moderators(
    tmp_path: Path, monkeypatch: Any
) -> None:
    async with running(build(tmp_path, FakeAnswerer(make_answer())), monkeypatch) as h:
        await h.slash("ask", question=QUESTION)
        answer_id = next(iter(h.api.originals.values()))

        refused = await h.click(answer_id, "Flag a claim", user_id=READER_ID)
        assert refused[0].ephemeral and refused[0].content == "only moderators can flag claims"

        opened = await h.click(answer_id, "Flag a claim", user_id=555, roles=[MOD_ROLE_ID])  # moderator by role
        assert opened[0].response_type is MODAL  # a modal
        modal = h.last_modal()
        prefilled = {c.text: getattr(c.component, "default", None) for c in modal.children}  # type: ignore[attr-defined]
        assert prefilled["Claim"] == "No date has been set for the meeting."

        submitted = await h.submit(
            modal, {"Verdict": ["false"], "Note for readers": "Checked."}, user_id=555, roles=[MOD_ROLE_ID]
        )
        flagged = h.bot.claims.list()

    assert len(flagged) == 1 and flagged[0].verdict.value == "false" and flagged[0].note == "Checked."
    assert flagged[0].origin is not None and flagged[0].origin.endswith(f"/{answer_id}")
    followup = [c for c in submitted if c.route == "POST /webhooks/{webhook_id}/{webhook_token}"]
    assert followup and followup[0].ephemeral and followup[0].embeds[0]["title"] == "Claim #1 · FALSE"
    audit = [c for c in submitted if c.params.get("channel_id") == str(AUDIT_ID)]
    assert audit and "flagged claim #1 as false" in audit[0].content


@pytest.mark.asyncio
async def test_answer_buttons_still_work_after_their_view_is_gone(tmp_path: Path, monkeypatch: Any) -> None:
    """After the view times out or the bot restarts, clicks reach the registered posted-answer view."""
    async with running(build(tmp_path, FakeAnswerer(make_answer())), monkeypatch) as h:
        await h.slash("ask", question=QUESTION)
        answer_id = next(iter(h.api.originals.values()))
        h.forget_view(answer_id)  # what a restart loses
        assert not h.has_live_view(answer_id)

        sources = await h.click(answer_id, "Sources")
        refused = await h.click(answer_id, "Flag a claim", user_id=READER_ID)
        opened = await h.click(answer_id, "Flag a claim", user_id=555, roles=[MOD_ROLE_ID])
        modal = h.last_modal()

    reply = sources[0]
    assert reply.ephemeral and reply.response_type is CHANNEL_MESSAGE
    # The answer was recorded under the message carrying its buttons: the real passages, not the embed text.
    titles = [e["title"] for e in reply.embeds]
    assert titles[:2] == ["[1] Story number 1", "[2] Story number 2"]
    assert "Passage 1: officials said talks continue" in reply.embeds[0]["description"]
    assert refused[0].ephemeral and refused[0].content == "only moderators can flag claims"
    assert opened[0].response_type is MODAL
    prefilled = {c.text: getattr(c.component, "default", None) for c in modal.children}  # type: ignore[attr-defined]
    assert prefilled["Claim"] == "No date has been set for the meeting."


@pytest.mark.asyncio
async def test_buttons_of_an_answer_posted_before_answers_were_recorded(tmp_path: Path, monkeypatch: Any) -> None:
    """No record for the message (posted by an earlier version): Sources lists what the message shows."""

    class NoRecords:
        def record(self, key: str, answer: Any) -> None:
            pass

        def get(self, key: str) -> None:
            return None

    settings = make_settings(tmp_path / "data")
    async with running(make_bot(settings, FakeAnswerer(make_answer()), answer_posts=NoRecords()), monkeypatch) as h:
        await h.slash("ask", question=QUESTION)
        answer_id = next(iter(h.api.originals.values()))
        h.forget_view(answer_id)
        sources = await h.click(answer_id, "Sources")
        opened = await h.click(answer_id, "Flag a claim", user_id=555, roles=[MOD_ROLE_ID])
        modal = h.last_modal()
    shown = sources[0].embeds[0]["description"]
    assert "no longer loaded" in shown and "Story number 1" in shown and "Story number 2" in shown
    assert opened[0].response_type is MODAL
    prefilled = {c.text: getattr(c.component, "default", None) for c in modal.children}  # type: ignore[attr-defined]
    assert not prefilled["Claim"]  # nothing recorded: an empty form rather than text parsed back from the embed


# --------------------------------------------------------------------------- limits and errors


@pytest.mark.asyncio
async def test_rate_limit_per_user_and_channel(tmp_path: Path, monkeypatch: Any) -> None:
    clock = FakeClock()
    answerer = FakeAnswerer(make_answer())
    async with running(build(tmp_path, answerer, ask_rate_per_minute=2), monkeypatch) as h:
        await use_clock(h, clock)
        first = [await h.slash("ask", question=QUESTION) for _ in range(3)]
        assert first[2][0].ephemeral
        assert first[2][0].content == "You are asking too fast; try again in 60 s."
        clock.advance(61)
        later = await h.slash("ask", question=QUESTION)
        assert later[0].payload == {"type": 5}
        # the channel allows 3x the user rate: other users fill it up
        for user in (11, 12, 13, 14, 15):
            await h.slash("ask", question=QUESTION, user_id=user)
        blocked = await h.slash("ask", question=QUESTION, user_id=16)
    assert blocked[0].ephemeral and blocked[0].content.startswith("This channel is asking too fast")
    assert len(answerer.questions) == 8  # 2, then 1 after the minute, then 5 other users


@pytest.mark.asyncio
async def test_question_length_cap(tmp_path: Path, monkeypatch: Any) -> None:
    answerer = FakeAnswerer(make_answer())
    async with running(build(tmp_path, answerer, max_question_chars=50), monkeypatch) as h:
        calls = await h.slash("ask", question="why " * 20)
    assert len(calls) == 1 and calls[0].ephemeral
    assert calls[0].content == "Your question is 79 characters long; the limit is 50. Please shorten it."
    assert answerer.questions == []


@pytest.mark.asyncio
async def test_core_error_after_defer_replaces_the_public_placeholder_with_an_ephemeral_message(
    tmp_path: Path, monkeypatch: Any
) -> None:
    answerer = FakeAnswerer(make_answer(), error=InvalidInputError("the question is empty"))
    async with running(build(tmp_path, answerer), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTION)
    routes = [c.route.split(" ")[0] + " " + c.route.rsplit("/", 1)[-1] for c in calls]
    assert routes == ["POST callback", "DELETE @original", "POST {webhook_token}"]
    assert calls[-1].ephemeral and calls[-1].content == "the question is empty"


@pytest.mark.asyncio
async def test_unexpected_error_is_logged_with_the_command_and_reported_generically(
    tmp_path: Path, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    answerer = FakeAnswerer(make_answer(), error=ZeroDivisionError("boom"))
    async with running(build(tmp_path, answerer), monkeypatch) as h:
        with caplog.at_level(logging.ERROR, logger="bot.discord.errors"):
            calls = await h.slash("ask", question=QUESTION)
    assert calls[-1].ephemeral and calls[-1].content == GENERIC_MESSAGE
    records = [r for r in caplog.records if r.name == "bot.discord.errors"]
    assert records and records[0].getMessage() == "In /ask:"
    assert records[0].exc_info and records[0].exc_info[0] is ZeroDivisionError


@pytest.mark.asyncio
async def test_bad_since_is_a_user_error(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, FakeAnswerer(make_answer())), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTION, since="last tuesday")
    assert calls[0].ephemeral and "use a date such as 2025-04-05" in calls[0].content


# --------------------------------------------------------------------------- mention mode


@pytest.mark.asyncio
async def test_mention_mode_answers_in_a_reply_and_follow_ups_carry_earlier_turns(
    tmp_path: Path, monkeypatch: Any
) -> None:
    answerer = FakeAnswerer(lambda q: make_answer(question=q), deltas=["No date "])
    async with running(build(tmp_path, answerer, mention_mode=True), monkeypatch) as h:
        question = h.user_message(f"<@{h.bot.user.id}> {QUESTION}")  # type: ignore[union-attr]
        calls = await h.post(question)
        reply = calls[0]
        assert reply.route == "POST /channels/{channel_id}/messages"
        assert reply.payload and str(reply.payload["message_reference"]["message_id"]) == question["id"]
        assert mentions_nothing(reply.allowed_mentions)
        answer_id = int(reply.response["id"])
        assert calls[-1].params["message_id"] == str(answer_id) and calls[-1].embeds[0]["title"] == QUESTION

        follow_up = h.user_message("And where would it be held?", mention_bot=False, reply_to=h.api.messages[answer_id])
        await h.post(follow_up)

        unrelated = h.user_message("Nice weather today", mention_bot=False)
        assert await h.post(unrelated) == []

    assert answerer.questions[0] == QUESTION
    assert answerer.questions[1] == (
        "Earlier in this conversation:\n"
        f"Q: {QUESTION}\n"
        "A: No date has been set for the meeting. Officials say talks continue.\n"
        "Follow-up question: And where would it be held?"
    )


@pytest.mark.asyncio
async def test_mention_mode_threads_continue_without_mentions(tmp_path: Path, monkeypatch: Any) -> None:
    answerer = FakeAnswerer(lambda q: make_answer(question=q))
    async with running(build(tmp_path, answerer, mention_mode=True), monkeypatch) as h:
        thread = h.add_thread()
        await h.post(h.user_message(f"<@{h.bot.user.id}> {QUESTION}", channel_id=thread.id))  # type: ignore[union-attr]
        await h.post(h.user_message("Who is hosting?", mention_bot=False, channel_id=thread.id))
    assert len(answerer.questions) == 2
    assert answerer.questions[1].startswith(f"Earlier in this conversation:\nQ: {QUESTION}\n")
    assert answerer.questions[1].endswith("Follow-up question: Who is hosting?")


@pytest.mark.asyncio
async def test_mention_mode_follow_up_after_restart_uses_the_referenced_answer(
    tmp_path: Path, monkeypatch: Any
) -> None:
    answerer = FakeAnswerer(lambda q: make_answer(question=q))
    async with running(build(tmp_path, answerer, mention_mode=True), monkeypatch) as h:
        calls = await h.post(h.user_message(f"<@{h.bot.user.id}> {QUESTION}"))  # type: ignore[union-attr]
        answer_id = int(calls[0].response["id"])
        await use_clock(h, FakeClock())  # a fresh cog: empty memory, as after a restart
        await h.post(h.user_message("And the venue?", mention_bot=False, reply_to=h.api.messages[answer_id]))
    assert answerer.questions[1].startswith(f"Earlier in this conversation:\nQ: {QUESTION}\nA: No date has been set")


@pytest.mark.asyncio
async def test_mention_mode_off_ignores_mentions_and_errors_reply_in_channel(tmp_path: Path, monkeypatch: Any) -> None:
    answerer = FakeAnswerer(make_answer())
    async with running(build(tmp_path, answerer), monkeypatch) as h:
        assert await h.post(h.user_message(f"<@{h.bot.user.id}> {QUESTION}")) == []  # type: ignore[union-attr]
    failing = FakeAnswerer(make_answer(), error=InvalidInputError("the question is empty"))
    async with running(build(tmp_path, failing, mention_mode=True), monkeypatch) as h:
        calls = await h.post(h.user_message(f"<@{h.bot.user.id}> {QUESTION}"))  # type: ignore[union-attr]
    assert len(calls) == 1 and calls[0].content == "the question is empty"
    assert mentions_nothing(calls[0].allowed_mentions) and calls[0].params["channel_id"] == str(GENERAL_ID)


# --------------------------------------------------------------------------- the real answerer


def test_compose_question_keeps_the_newest_turns_within_the_limit() -> None:
    from bot.discord.conversation import ConversationMemory, Turn, compose_question

    memory = ConversationMemory(max_turns=3, depth=2)
    memory.remember(1, Turn("Q1?", "A1 [1]."))
    memory.remember(2, Turn("Q2?", "A2 [2][3].", parent=1))
    memory.remember(3, Turn("Q3?", "A3.", parent=2))
    assert [t.question for t in memory.chain(3)] == ["Q2?", "Q3?"]  # depth 2
    memory.remember(4, Turn("Q4?", "A4.", parent=3))
    assert not memory.knows(1)  # bounded
    composed = compose_question(memory.chain(3), "Q?", limit=1000)
    assert composed == "Earlier in this conversation:\nQ: Q2?\nA: A2.\nQ: Q3?\nA: A3.\nFollow-up question: Q?"
    long_turns = [Turn("old " * 50, "answer " * 200), Turn("new?", "short answer.")]
    capped = compose_question(long_turns, "Why?", limit=120)
    assert len(capped) <= 120 and "new?" in capped and "old" not in capped
    assert compose_question(long_turns, "Why?", limit=40) == "Why?"  # nothing fits: the question alone
