"""An answer and its parts as the front ends and ``--json`` see them (passages and sources: :mod:`bot.core.models`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from bot.core.models import CitedSentence, Passage, Source
from bot.core.render import source_line

Engine = Literal["llm", "extractive", "refusal"]


@dataclass(frozen=True, slots=True)
class ClaimWarning:
    """A moderator-flagged claim that a used passage states."""

    claim_id: int
    claim: str
    verdict: str
    note: str
    flagged_at: datetime
    source_number: int | None

    def render(self) -> str:
        when = self.flagged_at.date().isoformat()
        note = f" — {self.note}" if self.note else ""
        where = f" (source [{self.source_number}])" if self.source_number else ""
        return f"⚠ Moderators marked “{self.claim}” as {self.verdict.upper()} on {when}{note}{where}."


@dataclass(slots=True)
class Answer:
    """The full result of a question: text for people, structure for front ends and --json."""

    question: str
    text: str
    sentences: list[CitedSentence]
    sources: list[Source]
    engine: Engine
    refused: bool = False
    as_of: date | None = None
    notes: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    timeline: str = ""
    warnings: list[ClaimWarning] = field(default_factory=list)
    support_score: float = 0.0
    prompt_name: str = ""
    prompt_hash: str = ""
    review_prompt: str = ""  # "verify@<hash>" when the LLM second-checked doubtful sentences
    retrieval: list[Passage] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    searched: str = ""

    def cited_numbers(self) -> list[int]:
        seen: list[int] = []
        for sentence in self.sentences:
            for n in sentence.citations:
                if n not in seen:
                    seen.append(n)
        return sorted(seen)

    def render_sources(self) -> str:
        cited = set(self.cited_numbers())
        return "\n".join(source_line(s) for s in self.sources if s.number in cited)

    def render(self) -> str:
        """Plain text as the CLI prints it: answer, notes, warnings, then sources."""
        parts = [self.text]
        if self.disagreements:
            parts.append("\n".join(f"Sources disagree: {d}" for d in self.disagreements))
        if self.warnings:
            parts.append("\n".join(w.render() for w in self.warnings))
        if self.timeline:
            parts.append("Story so far (from daily digests):\n" + self.timeline)
        if self.notes:
            parts.append("\n".join(f"Note: {n}" for n in self.notes))
        sources = self.render_sources()
        if sources:
            parts.append("Sources:\n" + sources)
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "engine": self.engine,
            "refused": self.refused,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "sentences": [s.to_dict() for s in self.sentences],
            "citations": self.cited_numbers(),
            "sources": [s.to_dict() for s in self.sources],
            "notes": self.notes,
            "disagreements": self.disagreements,
            "timeline": self.timeline,
            "warnings": [
                {
                    "claim_id": w.claim_id,
                    "claim": w.claim,
                    "verdict": w.verdict,
                    "note": w.note,
                    "flagged_at": w.flagged_at.isoformat(),
                    "source": w.source_number,
                }
                for w in self.warnings
            ],
            "support_score": round(self.support_score, 4),
            "prompt": {"name": self.prompt_name, "hash": self.prompt_hash},
            "review_prompt": self.review_prompt or None,
            "retrieval": [p.to_dict() for p in self.retrieval],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "tokens": self.tokens,
            "searched": self.searched,
        }
