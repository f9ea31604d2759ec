"""MultiHop-RAG evaluation with the benchmark authors' own retrieval metric.

Authors' rule: skip null queries; take the top-10 chunk texts; remove spaces and
newlines from gold facts and chunks; a chunk is relevant when any gold fact is
a substring of it. Hits@k is the share of queries with a relevant chunk in the
top k, MRR@10 the mean reciprocal rank of the first relevant chunk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SPACE = re.compile(r"[ \n]")


@dataclass(frozen=True, slots=True)
class Query:
    query: str
    answer: str
    question_type: str
    facts: tuple[str, ...]


def load_queries(path: Path) -> list[Query]:
    records = json.loads(path.read_text())
    return [
        Query(
            query=r["query"],
            answer=str(r.get("answer", "")),
            question_type=str(r.get("question_type", "")),
            facts=tuple(e["fact"] for e in r.get("evidence_list", []) if e.get("fact")),
        )
        for r in records
    ]


def squash(text: str) -> str:
    return _SPACE.sub("", text)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(slots=True)
class RetrievalScores:
    """Per-query results accumulated into the benchmark's figures."""

    k: int
    hits4: list[float] = field(default_factory=list)
    hits10: list[float] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    facts_found: int = 0
    facts_total: int = 0
    full_evidence: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    by_type: dict[str, list[float]] = field(default_factory=dict)

    def add(self, query: Query, chunk_texts: Sequence[str], latency_ms: float) -> None:
        facts = [squash(f) for f in query.facts]
        chunks = [squash(t) for t in chunk_texts[: self.k]]
        relevant = [any(f in c for f in facts) for c in chunks]
        first = next((i for i, r in enumerate(relevant) if r), None)
        self.hits4.append(1.0 if first is not None and first < 4 else 0.0)
        self.hits10.append(1.0 if first is not None and first < 10 else 0.0)
        self.rr.append(1.0 / (first + 1) if first is not None and first < 10 else 0.0)
        found = [any(f in c for c in chunks[:10]) for f in facts]
        self.facts_found += sum(found)
        self.facts_total += len(facts)
        self.full_evidence.append(1.0 if facts and all(found) else 0.0)
        self.latencies_ms.append(latency_ms)
        self.by_type.setdefault(query.question_type, []).append(self.hits10[-1])

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "queries": len(self.hits10),
            "hits@4": _mean(self.hits4),
            "hits@10": _mean(self.hits10),
            "mrr@10": _mean(self.rr),
            "evidence_recall@10": self.facts_found / self.facts_total if self.facts_total else 0.0,
            "full_evidence@10": _mean(self.full_evidence),
            "retrieval_p50_ms": _pct(lat, 50),
            "retrieval_p95_ms": _pct(lat, 95),
            "hits@10_by_type": {t: _mean(v) for t, v in sorted(self.by_type.items())},
        }


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _pct(sorted_values: Sequence[float], pct: int) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


def evaluate_retrieval(
    queries: Sequence[Query],
    search: Callable[[str, int], list[str]],
    k: int = 10,
    progress: Callable[[int], None] | None = None,
) -> RetrievalScores:
    """Run ``search(question, k) -> chunk texts`` over the non-null queries."""
    scores = RetrievalScores(k=k)
    for i, query in enumerate(q for q in queries if q.question_type != "null_query"):
        started = time.perf_counter()
        texts = search(query.query, k)
        scores.add(query, texts, (time.perf_counter() - started) * 1000)
        if progress is not None:
            progress(i + 1)
    return scores


@dataclass(slots=True)
class AnswerScores:
    """Refusal behaviour and answer correctness over a query set."""

    null_total: int = 0
    null_refused: int = 0
    answerable_total: int = 0
    answerable_refused: int = 0
    inference_total: int = 0
    inference_contains_gold: int = 0
    context_tokens: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    by_engine: dict[str, int] = field(default_factory=dict)  # which engine wrote each answer

    def add(
        self,
        query: Query,
        refused: bool,
        text: str,
        context_tokens: int,
        latency_ms: float,
        engine: str = "extractive",
    ) -> None:
        self.latencies_ms.append(latency_ms)
        # With an LLM configured, "extractive" answers are fallbacks: unavailable or unsupported drafts.
        kind = "refusal" if refused else engine
        self.by_engine[kind] = self.by_engine.get(kind, 0) + 1
        if query.question_type == "null_query":
            self.null_total += 1
            self.null_refused += refused
            return
        self.answerable_total += 1
        self.answerable_refused += refused
        self.context_tokens.append(context_tokens)
        if query.question_type == "inference_query":
            self.inference_total += 1
            self.inference_contains_gold += query.answer.lower() in text.lower()

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "null_refusal_rate": self.null_refused / self.null_total if self.null_total else 0.0,
            "false_refusal_rate": self.answerable_refused / self.answerable_total if self.answerable_total else 0.0,
            "inference_answer_contains_gold": (
                self.inference_contains_gold / self.inference_total if self.inference_total else 0.0
            ),
            "prompt_tokens_per_answer": _mean([float(t) for t in self.context_tokens]),
            "answer_p50_ms": _pct(lat, 50),
            "answer_p95_ms": _pct(lat, 95),
            "answered_queries": len(self.latencies_ms),
            "answers_by_engine": dict(sorted(self.by_engine.items())),
        }
