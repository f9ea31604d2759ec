"""Mention-mode conversations: which earlier question and answer a follow-up refers to.

A follow-up is a reply to one of the bot's answers, or a message in a thread the
bot answered in. The turns are kept in a bounded in-memory map keyed by the bot's
answer message id (like llmcord's message nodes); after a restart the referenced
message itself still supplies the previous answer text.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from bot.core.text.markers import strip_citations

HEADER = "Earlier in this conversation:"
FOLLOW_UP = "Follow-up question:"


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: str
    parent: int | None = None  # the bot's answer message this turn followed up on


class ConversationMemory:
    """Recent turns by answer message id, and the latest answer per thread; both bounded."""

    def __init__(self, max_turns: int = 500, depth: int = 3) -> None:
        self.max_turns = max_turns
        self.depth = depth
        self._turns: OrderedDict[int, Turn] = OrderedDict()
        self._threads: OrderedDict[int, int] = OrderedDict()

    def remember(self, answer_message_id: int, turn: Turn, thread_id: int | None = None) -> None:
        self._turns[answer_message_id] = turn
        self._turns.move_to_end(answer_message_id)
        while len(self._turns) > self.max_turns:
            self._turns.popitem(last=False)
        if thread_id is not None:
            self._threads[thread_id] = answer_message_id
            self._threads.move_to_end(thread_id)
            while len(self._threads) > self.max_turns:
                self._threads.popitem(last=False)

    def knows(self, message_id: int) -> bool:
        return message_id in self._turns

    def in_thread(self, thread_id: int) -> bool:
        return thread_id in self._threads

    def previous(self, reply_to: int | None, thread_id: int | None) -> int | None:
        """The answer a new message follows up on: the one it replies to, else the thread's latest."""
        if reply_to is not None and reply_to in self._turns:
            return reply_to
        if thread_id is not None:
            return self._threads.get(thread_id)
        return None

    def chain(self, answer_message_id: int | None) -> list[Turn]:
        """Up to ``depth`` turns ending at ``answer_message_id``, oldest first."""
        turns: list[Turn] = []
        current = answer_message_id
        while current is not None and current in self._turns and len(turns) < self.depth:
            turn = self._turns[current]
            turns.append(turn)
            current = turn.parent
        return list(reversed(turns))


def compose_question(turns: list[Turn], question: str, limit: int, answer_chars: int = 400) -> str:
    """The follow-up with as many recent turns as fit in ``limit`` characters (newest kept first).

    Citation markers are dropped from earlier answers: their numbers refer to the old sources.
    """
    if not turns:
        return question
    tail = f"\n{FOLLOW_UP} {question}"
    budget = limit - len(HEADER) - len(tail) - 1
    blocks: list[str] = []
    for turn in reversed(turns):
        answer = strip_citations(turn.answer)
        if len(answer) > answer_chars:
            answer = answer[: answer_chars - 1].rstrip() + "…"
        block = f"Q: {turn.question}\nA: {answer}" if turn.question else f"A: {answer}"
        if sum(len(b) + 1 for b in blocks) + len(block) + 1 > budget:
            break
        blocks.insert(0, block)
    if not blocks:
        return question
    return "\n".join([HEADER, *blocks]) + tail
