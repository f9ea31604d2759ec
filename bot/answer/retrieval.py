"""Hybrid retrieval: BM25 (tantivy) + dense vectors (exact, beside it), fused by score.

Questions that name outlets are searched once more within each named outlet, so a
question comparing two outlets' reports gets passages from both; multi-part
questions are split into parts, each contributing its best passage. Results are
spread across articles so one long article cannot fill the context.

Nothing is loaded per corpus: every search runs inside an index with its filters
(outlets, dates) applied there, and returns a few dozen candidates; a question
reads the store's generation (one small read) and, if another process changed the
index, the lexical index catches up with the changed articles only.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from bot.answer.query import Clause, OutletMatcher, QueryPlan, plan_query, split_parts
from bot.core.models import Passage
from index.embeddings import NamedEmbeddings, embed_array
from index.lexical import LexicalHit, LexicalIndex
from index.models import ChunkFilter
from index.store import ChunkRecord, ChunkStore

log = logging.getLogger(__name__)

RRF_K = 60
# Lexical candidates read per search before fusing chunk and best-sentence scores.
_LEXICAL_POOL = 100
_SENTENCE_POOL = 200
_DAY = 86400


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How the retriever searches. The defaults are what ships (measured in ``benchmarks/retrieval.py``).

    ``mode``, ``decompose``, ``outlet_clauses``, ``round_order`` and ``sentence_weight = 0`` switch one
    step off for the ablations (:meth:`ablation`); serving code never changes them.
    """

    candidates: int = 60  # candidates per search, lexical and dense
    per_article: int = 4  # at most this many passages of one article in the first k
    dense_weight: float = 0.3
    bm25_weight: float = 1.0
    clause_dates: bool = True  # a clause's own date ("the Fortune report on October 13") narrows its search
    clause_depth: int = 8  # outlet rounds interleaved before the global ranking
    decompose_depth: int = 3  # best passages each part of a multi-part question contributes
    clause_part_weight: float = 2.0  # weight of an outlet's own words next to the whole question
    sentence_weight: float = 0.4  # weight of the best sentence's BM25 in a chunk's lexical score
    mode: str = "full"  # ablations: bm25, dense, rrf (plain fusion of the two); full is the pipeline
    decompose: bool = True
    outlet_clauses: bool = True
    round_order: bool = True  # order each outlet round by match with the whole question

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}")

    @classmethod
    def ablation(cls, name: str) -> RetrievalConfig:
        """The config of a benchmark row: a mode, ``full``, or ``no-<step>`` (full minus one step)."""
        if name in MODES:
            return cls(mode=name)
        if name not in ABLATIONS:
            raise ValueError(f"unknown ablation {name!r}; expected one of {', '.join(MODES + tuple(ABLATIONS))}")
        return ABLATIONS[name]


MODES = ("full", "rrf", "bm25", "dense")
# The full pipeline minus one step each (benchmarks/retrieval.py; figures in the README).
ABLATIONS = {
    "no-outlets": RetrievalConfig(outlet_clauses=False),
    "no-decompose": RetrievalConfig(decompose=False),
    "no-sentences": RetrievalConfig(sentence_weight=0.0),
    "no-round-order": RetrievalConfig(round_order=False),
}


@dataclass(slots=True)
class Retrieval:
    """Ranked passages plus what was searched and how long each step took."""

    passages: list[Passage]
    plan: QueryPlan
    timings_ms: dict[str, float] = field(default_factory=dict)
    top_dense: float = 0.0
    top_bm25: float = 0.0


@dataclass(slots=True)
class _Question:
    """One question's searches: what is known about each candidate chunk, and its best scores."""

    vector: np.ndarray
    whole_question: str
    article_of: dict[str, str] = field(default_factory=dict)
    published_ts: dict[str, int] = field(default_factory=dict)
    dense_best: dict[str, float] = field(default_factory=dict)
    bm25_best: dict[str, float] = field(default_factory=dict)
    whole: dict[str, float] = field(default_factory=dict)  # the whole question's lexical score
    whole_top: float = 0.0
    cosine: dict[str, float] = field(default_factory=dict)
    alphas: dict[tuple[str, ...], float] = field(default_factory=dict)  # per text: its sentence-score weight
    # Per text's terms, every chunk BM25 and best-sentence BM25 this question has learnt (0: none
    # matches). A score does not depend on a search's filter, so no chunk is asked for twice.
    chunk_bm25: dict[tuple[str, ...], dict[str, float]] = field(default_factory=dict)
    sentence_bm25: dict[tuple[str, ...], dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Search:
    """The plan of one question: what it names, the filter every search keeps, its parts."""

    plan: QueryPlan
    base: ChunkFilter | None  # dates (and an explicit outlet): a hard filter on every search
    now: datetime
    explicit_outlet: bool
    empty_index: bool = False
    parts: list[str] = field(default_factory=list)  # of a multi-part question (full mode only)
    part_mentions: list[list[tuple[int, int, str]]] = field(default_factory=list)  # outlets each part names


@dataclass(slots=True)
class _Scored:
    """The whole question's two ranked lists (BM25, dense) within the base filter, with raw scores."""

    lists: list[list[str]]
    raw: tuple[dict[str, float], dict[str, float]]


class _Timer:
    """Milliseconds per step; ``since_start`` steps are measured from the question's start."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.ms: dict[str, float] = {}

    def step(self, name: str, *, since_start: bool = False) -> None:
        now = time.perf_counter()
        self.ms[name] = (now - (self.start if since_start else self.last)) * 1000
        self.last = now


def interleave(
    clause_lists: list[list[str]], fused: list[str], depth: int, strength: Callable[[str], float] | None = None
) -> list[str]:
    """Best passage of each outlet clause (and part) first, then alternate for ``depth`` rounds,
    then the global ranking.

    Within one round the passages are ordered by ``strength`` (how well each matches the
    whole question), so the first-mentioned outlet does not always take rank 1.
    """
    out: list[str] = []
    seen: set[str] = set()
    for level in range(depth):
        round_items = []
        for ranked in clause_lists:
            if level < len(ranked) and ranked[level] not in seen and ranked[level] not in round_items:
                round_items.append(ranked[level])
        if strength is not None:
            round_items.sort(key=lambda p: -strength(p))
        out.extend(round_items)
        seen.update(round_items)
    for pos in fused:
        if pos not in seen:
            out.append(pos)
            seen.add(pos)
    for ranked in clause_lists:
        for pos in ranked:
            if pos not in seen:
                out.append(pos)
                seen.add(pos)
    return out


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


class HybridRetriever:
    """Finds the passages that answer a question; follows the index as other processes change it.

    :meth:`retrieve` runs named steps: plan → score → outlet rounds → parts → fuse → diversify.
    """

    def __init__(
        self,
        store: ChunkStore,
        lexical: LexicalIndex,
        embeddings: NamedEmbeddings,
        config: RetrievalConfig | None = None,
        *,
        vectors: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self.config = config or RetrievalConfig()
        # The question's vector through the answer engine's cache (it scores sentences against the same
        # question), so one answer embeds its question once.
        self.vectors = vectors or (lambda texts: embed_array(self.embeddings, texts))
        self._generation: int | None = None
        self._matcher = OutletMatcher([])
        self._outlets: list[str] = []

    def with_config(self, config: RetrievalConfig) -> HybridRetriever:
        """A retriever on the same store and lexical index searching with ``config``."""
        return HybridRetriever(self.store, self.lexical, self.embeddings, config, vectors=self.vectors)

    # ------------------------------------------------------------------ freshness
    def refresh(self) -> None:
        """Follow the store: one small read per question; work only when the generation moved."""
        generation = self.store.generation()
        if generation == self._generation:
            return
        self.store.follow(generation)
        self.lexical.reload()
        if self.lexical.generation < generation or self.lexical.generation < 0:
            try:
                self.lexical.sync(self.store)
            except Exception as exc:  # another process is writing it: read what is committed
                log.info("lexical index not caught up now (%s); searching what is committed", exc)
        self._outlets = self.lexical.outlets()
        self._matcher = OutletMatcher(self._outlets)
        self._generation = generation

    def outlets(self) -> list[str]:
        self.refresh()
        return list(self._outlets)

    def first_chunks(self, start: datetime, end: datetime, max_index: int) -> tuple[list[ChunkRecord], np.ndarray]:
        """A digest window's leading chunks and vectors, from the lexical index as of the store's
        latest generation (serving processes never open Chroma's chunk collection)."""
        self.refresh()
        return self.lexical.first_chunks(start, end, max_index)

    # ------------------------------------------------------------------ search
    def retrieve(
        self,
        question: str,
        k: int = 10,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        now: datetime | None = None,
    ) -> Retrieval:
        timer = _Timer()
        self.refresh()
        timer.step("refresh", since_start=True)
        search = self._plan(question, outlet, since, until, now)
        timer.step("plan", since_start=True)
        if search.empty_index:
            return Retrieval([], search.plan, timer.ms)
        q = _Question(vector=self.vectors([question])[0].astype(np.float32), whole_question=question)
        timer.step("embed")
        scored = self._score(q, search)
        rounds = self._outlet_rounds(q, search) + self._part_lists(q, search)
        timer.step("search")
        ranked = self._fuse_all(q, search, scored, rounds)
        if self.config.mode == "full":
            ranked = self._diversify(q, ranked, k)
        passages = self._passages(q, ranked[:k])
        timer.step("fuse")
        timer.ms["total"] = (time.perf_counter() - timer.start) * 1000
        return Retrieval(
            passages,
            search.plan,
            timer.ms,
            top_dense=max(q.dense_best.values(), default=0.0),
            top_bm25=max(q.bm25_best.values(), default=0.0),
        )

    # ------------------------------------------------------------------ steps
    def _plan(
        self, question: str, outlet: str | None, since: datetime | None, until: datetime | None, now: datetime | None
    ) -> _Search:
        """What the question names, and the hard filter every search keeps."""
        plan_now = now or datetime.now(UTC)
        plan = plan_query(question, self._matcher, now=plan_now, since=since, until=until)
        if outlet:
            wanted = [o for o in self._outlets if o.lower() == outlet.strip().lower()]
            plan.outlets = wanted or [outlet]
            plan.clauses = [Clause(plan.outlets[0])]
        if self.lexical.count(None) == 0:
            return _Search(plan, None, plan_now, explicit_outlet=bool(outlet), empty_index=True)
        # An explicit outlet (--source, the Discord option) is a hard filter, not a hint like a named outlet.
        base = self._filter(plan, Clause(plan.outlets[0]) if outlet else None)
        if base is not None and not self._any(base) and plan.since_from_text:
            # "last week" read against today finds nothing in an older index: search every date
            # (answers still say how old their sources are) rather than answer nothing.
            plan.since, plan.widened = None, True
            base = self._filter(plan, Clause(plan.outlets[0]) if outlet else None)
        # Split and read once: the outlet searches and the decomposition both use the parts.
        parts = split_parts(question) if self.config.mode == "full" else []
        mentions = [self._matcher.find(part) for part in parts]
        return _Search(plan, base, plan_now, explicit_outlet=bool(outlet), parts=parts, part_mentions=mentions)

    def _score(self, q: _Question, search: _Search) -> _Scored:
        """The whole question, lexical and dense, within the base filter."""
        whole = self._lexical(q, q.whole_question, search.base, self.config.candidates)
        q.whole.update(whole)
        # The best score over the whole index: the search just made when nothing filters it.
        everywhere = whole if search.base is None else self._lexical(q, q.whole_question, None, 1)
        q.whole_top = max(everywhere.values(), default=0.0)
        lists, raw = self._search(q, whole, search.base)
        return _Scored(lists, raw)

    def _outlet_rounds(self, q: _Question, search: _Search) -> list[list[str]]:
        """Each outlet the question names, searched within that outlet (and its clause's date)."""
        if self.config.mode != "full" or not self.config.outlet_clauses:
            return []
        rounds: list[list[str]] = []
        for clause in search.plan.clauses:
            where = self._filter(search.plan, clause)
            if where is not None and not self._any(where):
                continue
            # Which words of a question belong to which outlet is ambiguous ("X, according to
            # Fortune, and Y ..." vs "Fortune's view on X ..."), so each outlet is searched with
            # the whole question (searching with its part alone measured worse), plus the words
            # of the part that names it, or else of the text from its mention to the next one.
            own = [
                p
                for p, found in zip(search.parts, search.part_mentions, strict=True)
                if any(m[2] == clause.outlet for m in found)
            ]
            clause_text = own[0] if len(own) == 1 else clause.text
            if self.config.clause_part_weight > 0 and clause_text:
                scores = self._combined(q, q.whole_question, clause_text, where)
            else:
                scores = self._lexical(q, q.whole_question, where, self.config.candidates)
            found, raw = self._search(q, scores, where)
            rounds.append(self._fuse(found, raw))
        return rounds

    def _part_lists(self, q: _Question, search: _Search) -> list[list[str]]:
        """Multi-part questions ("X, and Y, while Z"): each part's best lexical passages join the
        interleave (measured on full dev in benchmarks/retrieval.py: see the README)."""
        if not self.config.decompose or not search.parts:
            return []
        depth = self.config.decompose_depth
        lists: list[list[str]] = []
        for part, mentions in zip(search.parts, search.part_mentions, strict=True):
            part_where: ChunkFilter | None = None
            if mentions:
                # The part's own clause carries its date ("the Fortune report on October 13").
                own_clause = plan_query(part, self._matcher, now=search.now).clauses[0]
                part_where = self._filter(search.plan, own_clause)
            elif search.plan.outlets and not search.explicit_outlet:
                part_where = ChunkFilter(outlets=tuple(o for o in search.plan.outlets if o in self._outlets))
            where = search.base
            if part_where is not None and self._any(part_where):
                where = part_where & search.base
            found_part = self._lexical(q, part, where, depth)
            top = sorted(found_part, key=lambda c: -found_part[c])[:depth]
            for cid in top:
                q.bm25_best[cid] = max(q.bm25_best.get(cid, 0.0), found_part[cid])
            if top:
                lists.append(top)
        return lists

    def _fuse_all(self, q: _Question, search: _Search, scored: _Scored, rounds: list[list[str]]) -> list[str]:
        """One ranking: the global lists fused, status questions favouring recent reports, the
        outlet and part rounds interleaved first (the ablation modes: one list, or plain RRF)."""
        mode = self.config.mode
        if mode == "bm25":
            return scored.lists[0]
        if mode == "dense":
            return scored.lists[1]
        if mode == "rrf":
            return self._fuse(scored.lists)
        fused = self._fuse(scored.lists, scored.raw)
        if search.plan.status:
            fused = self._recency_boost(q, fused)
        strength = self._strength(q, rounds) if self.config.round_order and rounds else None
        return interleave(rounds, fused, self.config.clause_depth, strength) if rounds else fused

    # ------------------------------------------------------------------ lexical
    def _lexical(self, q: _Question, text: str, where: ChunkFilter | None, n: int) -> dict[str, float]:
        """The ``n`` best chunks within ``where``: BM25 plus the best sentence's BM25, rescaled.

        The sentence term picks, among an article's chunks, the one holding the sentence
        the question paraphrases (full dev, ``benchmarks/retrieval.py``: MRR@10 0.681 → 0.715,
        evidence recall@10 0.681 → 0.698). It is rescaled by the ratio of the best chunk's to
        the best sentence's score over the whole index, so it weighs the same in every search.
        """
        terms = self.lexical.terms(text)
        if not terms:
            return {}
        chunk_hits = self.lexical.top_chunks(terms, max(n, _LEXICAL_POOL), where)
        for hit in chunk_hits:
            q.article_of[hit.chunk_id] = hit.article_id
            q.published_ts[hit.chunk_id] = hit.published_ts
        chunks = {h.chunk_id: h.score for h in chunk_hits}
        q.chunk_bm25.setdefault(tuple(terms), {}).update(chunks)
        sentence_hits: list[LexicalHit] | None = None
        if where is None and self._sentence_scored() and tuple(terms) not in q.alphas:
            # Unfiltered, these searches' best hits are the whole index's: the weight needs no
            # searches of its own (two fewer per text; at 20k articles each scans ~1M sentences).
            sentence_hits = self.lexical.top_sentences(terms, _SENTENCE_POOL, where)
            q.alphas[tuple(terms)] = self._weight(chunk_hits[:1], sentence_hits[:1])
        alpha = self._alpha(terms, q)
        if alpha <= 0:
            return dict(sorted(chunks.items(), key=lambda kv: -kv[1])[:n])
        best: dict[str, float] = {}
        if sentence_hits is None:
            sentence_hits = self.lexical.top_sentences(terms, _SENTENCE_POOL, where)
        for hit in sentence_hits:
            q.article_of[hit.chunk_id] = hit.article_id
            q.published_ts[hit.chunk_id] = hit.published_ts
            best[hit.chunk_id] = max(best.get(hit.chunk_id, 0.0), hit.score)
        # A chunk in the hits has its best sentence there (its sentences share its outlet and date).
        q.sentence_bm25.setdefault(tuple(terms), {}).update(best)
        chunks.update(self._chunk_scores(q, terms, [c for c in best if c not in chunks]))
        best.update(self._best_sentences(q, terms, [c for c in chunks if c not in best]))
        combined = {c: score + alpha * best.get(c, 0.0) for c, score in chunks.items()}
        return dict(sorted(combined.items(), key=lambda kv: -kv[1])[:n])

    def _alpha(self, terms: Sequence[str], q: _Question) -> float:
        """Weight of the best-sentence score: ``sentence_weight`` times best chunk / best sentence."""
        if not self._sentence_scored():
            return 0.0
        key = tuple(terms)
        if key not in q.alphas:
            q.alphas[key] = self._weight(self.lexical.top_chunks(terms, 1), self.lexical.top_sentences(terms, 1))
        return q.alphas[key]

    def _sentence_scored(self) -> bool:
        """Whether the best sentence counts at all (the ablation baselines are plain BM25)."""
        return self.config.sentence_weight > 0 and self.config.mode == "full"

    def _weight(self, top_chunk: Sequence[LexicalHit], top_sentence: Sequence[LexicalHit]) -> float:
        """``sentence_weight`` times the index's best chunk score over its best sentence score."""
        if not top_chunk or not top_sentence or top_sentence[0].score <= 0:
            return 0.0
        return self.config.sentence_weight * top_chunk[0].score / top_sentence[0].score

    def _lexical_of(self, q: _Question, text: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """The same combined score for exactly these chunks."""
        terms = self.lexical.terms(text)
        if not terms or not chunk_ids:
            return {}
        chunks = self._chunk_scores(q, terms, chunk_ids)
        alpha = self._alpha(terms, q)
        if alpha <= 0:
            return chunks
        best = self._best_sentences(q, terms, list(chunks))
        return {c: score + alpha * best.get(c, 0.0) for c, score in chunks.items()}

    def _chunk_scores(self, q: _Question, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 of these chunks (those any term matches), each asked of the index once per question."""
        known = q.chunk_bm25.setdefault(tuple(terms), {})
        self._learn(known, chunk_ids, lambda unknown: self.lexical.chunk_scores(terms, unknown))
        return {c: known[c] for c in chunk_ids if known[c] > 0}

    def _best_sentences(self, q: _Question, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """The best sentence's BM25 of each of these chunks (those any term matches), asked once per question."""
        known = q.sentence_bm25.setdefault(tuple(terms), {})
        self._learn(known, chunk_ids, lambda unknown: self.lexical.best_sentence_scores(terms, unknown))
        return {c: known[c] for c in chunk_ids if known[c] > 0}

    @staticmethod
    def _learn(
        known: dict[str, float], chunk_ids: Sequence[str], search: Callable[[list[str]], dict[str, float]]
    ) -> None:
        unknown = [c for c in dict.fromkeys(chunk_ids) if c not in known]
        if unknown:
            found = search(unknown)
            known.update({c: found.get(c, 0.0) for c in unknown})

    def _combined(self, q: _Question, question: str, clause_text: str, where: ChunkFilter | None) -> dict[str, float]:
        """Whole question plus (weighted) the clause's own words, best ``candidates`` within ``where``."""
        first = self._lexical(q, question, where, self.config.candidates)
        second = self._lexical(q, clause_text, where, self.config.candidates)
        for cid in [c for c in second if c not in first]:
            first[cid] = 0.0
        fill = self._lexical_of(q, question, [c for c in second if first[c] == 0.0])
        first.update(fill)
        fill2 = self._lexical_of(q, clause_text, [c for c in first if c not in second])
        second.update(fill2)
        total = {c: first.get(c, 0.0) + self.config.clause_part_weight * second.get(c, 0.0) for c in first}
        return dict(sorted(total.items(), key=lambda kv: -kv[1])[: self.config.candidates])

    # ------------------------------------------------------------------ filters
    def _filter(self, plan: QueryPlan, clause: Clause | None) -> ChunkFilter | None:
        where: ChunkFilter | None = None
        if plan.since or plan.until:
            lo = int(plan.since.timestamp()) if plan.since else None
            hi = int(plan.until.timestamp()) if plan.until else None
            where = ChunkFilter(ts_min=lo, ts_max=hi)
        if clause is not None and clause.outlet is not None:
            known = clause.outlet in self._outlets
            outlet_where = ChunkFilter(outlets=(clause.outlet,) if known else ())
            where = outlet_where & where
        if clause is not None and self.config.clause_dates and (clause.day or clause.after or clause.before):
            # "the TechCrunch report published on October 7": that day, give or take a time zone;
            # "after October 4" / "before November 1": from / up to that day (questions often
            # mean it inclusively). A date no article matches is dropped rather than emptying the clause.
            lows, highs = [0], []
            if clause.day is not None:
                lows.append((_epoch_day(clause.day) - 1) * _DAY)
                highs.append((_epoch_day(clause.day) + 2) * _DAY)
            if clause.after is not None:
                lows.append((_epoch_day(clause.after) - 1) * _DAY)
            if clause.before is not None:
                highs.append((_epoch_day(clause.before) + 2) * _DAY)
            days = ChunkFilter(ts_min=max(lows), ts_max=min(highs) if highs else None)
            narrowed = days & where
            if self._any(narrowed):
                where = narrowed
        return where

    def _any(self, where: ChunkFilter) -> bool:
        return not where.empty and self.lexical.count(where) > 0

    # ------------------------------------------------------------------ dense and fusion
    def _search(
        self, q: _Question, lexical: dict[str, float], where: ChunkFilter | None
    ) -> tuple[list[list[str]], tuple[dict[str, float], dict[str, float]]]:
        """Two ranked lists of chunk ids (BM25, dense) within ``where``, with their scores."""
        bm25_list = sorted(lexical, key=lambda c: -lexical[c])[: self.config.candidates]
        bm25_raw = {c: lexical[c] for c in bm25_list}
        for cid, value in bm25_raw.items():
            q.bm25_best[cid] = max(q.bm25_best.get(cid, 0.0), value)
        dense_raw: dict[str, float] = {}
        for hit in self.lexical.dense(q.vector, self.config.candidates, where=where):
            dense_raw[hit.chunk_id] = hit.cosine
            q.article_of[hit.chunk_id] = hit.article_id
            q.published_ts[hit.chunk_id] = hit.published_ts
            q.cosine[hit.chunk_id] = hit.cosine
            q.dense_best[hit.chunk_id] = max(q.dense_best.get(hit.chunk_id, -1.0), hit.cosine)
        dense_list = list(dense_raw)
        return [bm25_list, dense_list], (bm25_raw, dense_raw)

    def _fuse(
        self, lists: Sequence[Sequence[str]], raw: tuple[dict[str, float], dict[str, float]] | None = None
    ) -> list[str]:
        """Score fusion when raw scores are given (the pipeline), reciprocal-rank fusion otherwise."""
        if raw is not None:
            return self._score_fuse(lists, raw)
        weights = [self.config.bm25_weight, self.config.dense_weight]
        scores: dict[str, float] = defaultdict(float)
        for weight, ranked in zip(weights, lists, strict=False):
            for rank, pos in enumerate(ranked):
                scores[pos] += weight / (RRF_K + rank + 1)
        return sorted(scores, key=lambda p: -scores[p])

    def _score_fuse(self, lists: Sequence[Sequence[str]], raw: tuple[dict[str, float], dict[str, float]]) -> list[str]:
        """Min-max normalised BM25 plus weighted cosine over the union of candidates."""
        bm25_scores, dense_scores = raw
        keys = list(dict.fromkeys(p for ranked in lists for p in ranked))
        if not keys:
            return []
        b = np.asarray([bm25_scores.get(p, 0.0) for p in keys])
        d = np.asarray([dense_scores.get(p, 0.0) for p in keys])
        b = b / b.max() if b.max() > 0 else b
        lo = min(d.min(), 0.0) if len(d) else 0.0
        d = (d - lo) / (d.max() - lo) if d.max() > lo else d
        total = self.config.bm25_weight * b + self.config.dense_weight * d
        order = np.argsort(-total, kind="stable")
        return [keys[i] for i in order]

    @staticmethod
    def _recency_boost(q: _Question, fused: list[str]) -> list[str]:
        """Status questions: blend relevance rank with recency rank among the candidates."""
        head = fused[:30]
        by_time = sorted(head, key=lambda c: -q.published_ts.get(c, -1))
        score = {c: 1 / (RRF_K + r) for r, c in enumerate(head)}
        for r, c in enumerate(by_time):
            score[c] += 0.5 / (RRF_K + r)
        return sorted(head, key=lambda c: -score[c]) + fused[30:]

    def _strength(self, q: _Question, clause_lists: list[list[str]]) -> Callable[[str], float]:
        """A passage's match with the whole question: lexical (scaled to the best) plus weighted cosine."""
        rounds = list(dict.fromkeys(c for ranked in clause_lists for c in ranked[: self.config.clause_depth]))
        q.whole.update(self._lexical_of(q, q.whole_question, [c for c in rounds if c not in q.whole]))
        q.cosine.update(self.lexical.similarities(q.vector, [c for c in rounds if c not in q.cosine]))
        scale = 1.0 / q.whole_top if q.whole_top > 0 else 0.0
        bm25_weight, dense_weight = self.config.bm25_weight, self.config.dense_weight

        def strength(cid: str) -> float:
            return bm25_weight * q.whole.get(cid, 0.0) * scale + dense_weight * q.cosine.get(cid, 0.0)

        return strength

    def _diversify(self, q: _Question, ranked: list[str], k: int) -> list[str]:
        """At most ``per_article`` passages of one article in the first k; the rest keep their order after."""
        counts: dict[str, int] = defaultdict(int)
        head: list[str] = []
        tail: list[str] = []
        for cid in ranked:
            article = q.article_of.get(cid, cid)
            if len(head) < k and counts[article] < self.config.per_article:
                head.append(cid)
                counts[article] += 1
            else:
                tail.append(cid)
        return head + tail

    def _passages(self, q: _Question, ranked: Sequence[str]) -> list[Passage]:
        """The ranked chunks as the lexical index stores them (the only chunk texts a question reads;
        Chroma's chunk collection is never opened by a reader)."""
        chunks = self.lexical.chunk_records(list(ranked))
        out: list[Passage] = []
        for rank, cid in enumerate([c for c in ranked if c in chunks], 1):
            chunk = chunks[cid]
            out.append(
                Passage(
                    chunk_id=cid,
                    article_id=chunk.article_id,
                    text=chunk.text,
                    title=chunk.title,
                    outlet=chunk.outlet,
                    url=chunk.url,
                    published_at=chunk.published_at,
                    start=chunk.start,
                    end=chunk.end,
                    score=1.0 / (RRF_K + rank),
                    dense_score=q.dense_best.get(cid, 0.0),
                    bm25_score=q.bm25_best.get(cid, 0.0),
                    rank=rank,
                )
            )
        return out
