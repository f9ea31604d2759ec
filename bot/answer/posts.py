"""Posted answers: what an answer's buttons need after the answer has left memory.

A front end records an answer under a key of its choosing (the Discord bot: the id of the
message that carries the buttons). After a restart, the Flag button prefills the answer's
first sentence and the Sources button shows the cited passages from this record, instead of
reading them back out of the rendered message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.answer.models import Answer
from bot.core.clock import utc_now
from bot.core.db.base import Base
from bot.core.models import Source


class AnswerPostRow(Base):
    __tablename__ = "answer_posts"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    question: Mapped[str] = mapped_column(sa.Text)
    first_sentence: Mapped[str] = mapped_column(sa.Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    posted_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True, slots=True)
class PostedAnswer:
    """An answer as its buttons need it: the question, its first sentence, its cited sources."""

    key: str
    question: str
    first_sentence: str
    sources: tuple[Source, ...]


class AnswerPosts:
    """Posted answers by key, in the application's database (table ``answer_posts``)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    def record(self, key: str, answer: Answer) -> None:
        """Remember ``answer`` under ``key`` (again: the newer answer wins)."""
        cited = set(answer.cited_numbers())
        first = answer.sentences[0].text if answer.sentences else answer.text
        row = AnswerPostRow(
            key=key,
            question=answer.question,
            first_sentence=first,
            sources=[s.to_dict() for s in answer.sources if s.number in cited],
            posted_at=self._clock(),
        )
        with self._sessions.begin() as session:
            session.merge(row)

    def get(self, key: str) -> PostedAnswer | None:
        with self._sessions() as session:
            row = session.get(AnswerPostRow, key)
            if row is None:
                return None
            return PostedAnswer(
                key=row.key,
                question=row.question,
                first_sentence=row.first_sentence,
                sources=tuple(Source.from_dict(s) for s in row.sources),
            )
