"""Small fakes of factdesk's core for the Discord tests, and sample core objects.

The fakes return real :class:`Answer`, :class:`Digest` and :class:`IngestReport` objects, so the
bot's rendering runs on what the core really produces.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from bot.answer.models import Answer, ClaimWarning
from bot.core.models import CitedSentence, Passage, Source
from bot.digest.models import Digest, DigestStory, DisputedMark
from bot.digest.window import Window
from index.pipeline import IngestReport, ItemResult
from index.stats import IndexStats, OutletStats


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeAnswerer:
    """Streams fixed deltas, then a real :class:`Answer`; records the questions it was asked."""

    def __init__(
        self,
        answer: Answer | Callable[[str], Answer],
        deltas: Sequence[str] = (),
        between: Callable[[], None] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.answer = answer
        self.deltas = list(deltas)
        self.between = between
        self.error = error
        self.questions: list[str] = []
        self.kwargs: list[dict[str, Any]] = []

    async def astream(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[str | Answer]:
        self.questions.append(question)
        self.kwargs.append({"outlet": outlet, "since": since, "until": until})
        if self.error is not None:
            raise self.error
        for delta in self.deltas:
            if self.between is not None:
                self.between()
            yield delta
            await asyncio.sleep(0)
        yield self.answer(question) if callable(self.answer) else self.answer


class HashEmbedder:
    """Deterministic bag-of-words unit vectors: lets the real ClaimsService run without a model."""

    model_name = "hash-embedder"

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, hash(word) % 64] += 1.0
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-12)
        return out


class FakeDigestService:
    """Builds a real Digest per window and remembers posts the way the database does."""

    def __init__(self, digest: Callable[[Window, str | None], Digest] | None = None) -> None:
        self.make = digest or (lambda window, topic: make_digest(window, topic))
        self.created: list[tuple[Window, str | None]] = []
        self.posted: dict[str, tuple[int, int]] = {}

    def get_or_create(self, window: Window, topic: str | None = None, force: bool = False) -> Digest:
        self.created.append((window, topic))
        return self.make(window, topic)

    def was_posted(self, window: Window) -> bool:
        return window.key in self.posted

    def mark_posted(self, window: Window, channel_id: int, message_id: int) -> bool:
        if window.key in self.posted:
            return False
        self.posted[window.key] = (channel_id, message_id)
        return True


class FakeIndexAdmin:
    def __init__(self) -> None:
        self.ingested: list[list[str]] = []
        self.suggested: list[int] = []

    def suggest_flags(self, days: int) -> int:
        self.suggested.append(days)
        return 0

    def ingest(self, sources: Sequence[str], on_item: Any = None) -> IngestReport:
        self.ingested.append(list(sources))
        items = [ItemResult(s, "added", title=f"Article from {s}", outlet="Harbour Times", chunks=3) for s in sources]
        return IngestReport(items=items, seconds=0.5, chunks_written=3 * len(items))

    def stats(self) -> IndexStats:
        first, last = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 9, tzinfo=UTC)
        return IndexStats(
            articles=12,
            duplicates=2,
            pending=0,
            chunks=80,
            outlets=2,
            undated=0,
            first=first,
            last=last,
            embedding_model="all-MiniLM-L6-v2-onnx-int8",
            size_bytes=3_000_000,
            by_outlet=[
                OutletStats("Harbour Times", 7, 1, first, last),
                OutletStats("Northline", 5, 1, first, last),
            ],
        )


# --------------------------------------------------------------------------- sample core objects


def make_source(number: int, *, title: str | None = None, url: str | None = None, text: str = "") -> Source:
    published = datetime(2025, 4, number % 28 + 1, 9, 0, tzinfo=UTC)
    passage = Passage(
        chunk_id=f"c{number}",
        article_id=f"a{number}",
        text=text or f"Passage {number}: officials said talks continue and no date has been set.",
        title=title or f"Story number {number}",
        outlet="Harbour Times" if number % 2 else "Northline",
        url=url if url is not None else f"https://news.example/{number}",
        published_at=published,
        start=100 * number,
        end=100 * number + 80,
    )
    return Source(
        number=number,
        article_id=passage.article_id,
        title=passage.title,
        outlet=passage.outlet,
        url=passage.url,
        published_at=published,
        passages=(passage,),
    )


def make_answer(
    text: str = "No date has been set for the meeting [1][2]. Officials say talks continue [2].",
    *,
    question: str = "Is the meeting scheduled?",
    sources: Sequence[Source] | None = None,
    warnings: Sequence[ClaimWarning] = (),
    disagreements: Sequence[str] = (),
    refused: bool = False,
) -> Answer:
    sources = list(sources) if sources is not None else [make_source(1), make_source(2)]
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    sentences = [
        CitedSentence(
            text=re.sub(r"\s*\[\d+\]", "", part).strip(),
            citations=tuple(int(n) for n in re.findall(r"\[(\d+)\]", part)),
            support=0.8,
            supported=True,
        )
        for part in re.split(r"(?<=[.!?])\s+", text)
        if part.strip()
    ]
    return Answer(
        question=question,
        text=text,
        sentences=[] if refused else sentences,
        sources=[] if refused else [s for s in sources if s.number in numbers or not numbers],
        engine="refusal" if refused else "llm",
        refused=refused,
        as_of=None if refused else date(2025, 4, 5),
        disagreements=list(disagreements),
        warnings=list(warnings),
        support_score=0.0 if refused else 0.81,
        prompt_name="answer",
        prompt_hash="0123456789abcdef0123",
    )


def make_digest(window: Window, topic: str | None = None, stories: int = 2) -> Digest:
    sources = [
        Source(
            1,
            "a1",
            "Ceasefire plan presented",
            "Harbour Times",
            "https://news.example/1",
            window.start,
            also_in=("Northline",),
        ),
        Source(2, "a2", "Kell bridge closed for repairs", "Gazette", "https://news.example/2", window.start),
    ]
    made = [
        DigestStory(
            story_id="s1",
            headline="Gaza ceasefire plan presented",
            summary=[
                CitedSentence("Mediators presented a three-stage ceasefire plan.", (1,), 0.9, True),
                CitedSentence("Both sides said they would study it.", (1,), 0.8, True),
            ],
            outlets=("Harbour Times", "Northline"),
            article_ids=("a1",),
            first_seen=window.start,
            last_seen=window.end - timedelta(hours=1),
            disputed=[DisputedMark(7, "The plan was signed", "false", "Not signed yet", 1, "The plan was signed.")],
        ),
        DigestStory(
            story_id="s2",
            headline="Kell bridge closed",
            summary=[CitedSentence("The Kell bridge closed for two weeks of repairs.", (2,), 0.9, True)],
            outlets=("Gazette",),
            article_ids=("a2",),
            first_seen=window.start,
            last_seen=window.start,
        ),
    ][:stories]
    return Digest(
        window=window,
        topic=topic,
        generated_at=window.end,
        stories=made,
        sources=sources[: len(made)],
        article_count=3,
        story_count=len(made),
        engine="extractive",
    )
