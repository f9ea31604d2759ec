"""Data shared by retrieval, verification, answers and digests: passages, cited sources, cited sentences.

One cited-source model (:class:`Source`) serves answers and digests alike: an article with a
number local to the answer or digest, and the passages of it that were shown to the engine
(none once a digest is stored).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# What every engine says when the indexed articles do not answer a question.
REFUSAL = "The indexed articles don't say."


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    chunk_id: str
    article_id: str
    text: str
    title: str
    outlet: str
    url: str | None
    published_at: datetime | None
    start: int
    end: int
    score: float = 0.0
    dense_score: float = 0.0
    bm25_score: float = 0.0
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "article_id": self.article_id,
            "title": self.title,
            "outlet": self.outlet,
            "url": self.url,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "span": [self.start, self.end],
            "score": round(self.score, 6),
            "dense_score": round(self.dense_score, 6),
            "bm25_score": round(self.bm25_score, 6),
            "rank": self.rank,
        }


@dataclass(frozen=True, slots=True)
class Source:
    """One numbered source of an answer or a digest: an article and the passages of it shown to the engine.

    Numbers are local to the answer or digest. A stored digest keeps its sources without passages.
    """

    number: int
    article_id: str
    title: str
    outlet: str
    url: str | None
    published_at: datetime | None
    passages: tuple[Passage, ...] = ()
    also_in: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n…\n".join(p.text for p in self.passages)

    def to_dict(self, passages: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "article_id": self.article_id,
            "title": self.title,
            "outlet": self.outlet,
            "url": self.url,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "also_in": list(self.also_in),
        }
        if passages:
            data["passages"] = [
                {"chunk_id": p.chunk_id, "span": [p.start, p.end], "text": p.text} for p in self.passages
            ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        """The inverse of :meth:`to_dict` (passages carry their article's title, outlet and date again)."""
        published_at = datetime.fromisoformat(data["published_at"]) if data.get("published_at") else None
        source = cls(
            number=int(data["number"]),
            article_id=str(data["article_id"]),
            title=str(data["title"]),
            outlet=str(data["outlet"]),
            url=data.get("url"),
            published_at=published_at,
            passages=(),
            also_in=tuple(data.get("also_in", [])),
        )
        passages = tuple(
            Passage(
                chunk_id=str(p["chunk_id"]),
                article_id=source.article_id,
                text=str(p["text"]),
                title=source.title,
                outlet=source.outlet,
                url=source.url,
                published_at=published_at,
                start=int(p["span"][0]),
                end=int(p["span"][1]),
            )
            for p in data.get("passages", [])
        )
        return replace(source, passages=passages)


@dataclass(frozen=True, slots=True)
class CitedSentence:
    """A sentence of the answer with the sources it cites and how well they support it."""

    text: str
    citations: tuple[int, ...]
    support: float  # 0..1, best support among its cited sources
    supported: bool
    missing: tuple[str, ...] = ()  # facts (entities, numbers, words) no cited source states

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "citations": list(self.citations),
            "support": round(self.support, 4),
            "supported": self.supported,
        }
        if self.missing:
            out["missing"] = list(self.missing)
        return out
