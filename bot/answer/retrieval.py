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
from functools import partial

import numpy as np

from bot.answer.query import Clause, OutletMatcher, QueryPlan, plan_query, split_parts
from bot.core.models import Passage
from index.embeddings import NamedEmbeddings, embed_array
from index.lexical import LexicalIndex
from index.models import ChunkFilter
from index.store import ChunkStore

log = logging.getLogger(__name__)

RRF_K = 60
# Lexical candidates read per search before fusing chunk and best-sentence scores.
_LEXICAL_POOL = 100
_SENTENCE_POOL = 200
_DAY = 86400


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


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


class HybridRetriever:
    """Finds the passages that answer a question; follows the index as other processes change it."""

    def __init__(
        self,
        store: ChunkStore,
        lexical: LexicalIndex,
        embeddings: NamedEmbeddings,
        *,
        candidates: int = 60,
        per_article: int = 4,
        dense_weight: float = 0.3,
        bm25_weight: float = 1.0,
        mode: str = "full",
        clause_dates: bool = True,
        clause_depth: int = 8,
        decompose: bool = True,
        decompose_depth: int = 3,
        outlet_clauses: bool = True,
        clause_part_weight: float = 2.0,
        sentence_weight: float = 0.4,
        round_order: bool = True,
        vectors: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        """``mode`` is for ablations: ``bm25``, ``dense``, ``rrf`` (plain fusion) or ``full``.

        ``vectors`` embeds the question when given: a cache shared with the answer engine, which
        embeds the question again with its candidate sentences (one MiniLM call saved per answer).
        """
        if mode not in ("full", "rrf", "bm25", "dense"):
            raise ValueError(f"unknown retrieval mode {mode!r}")
        self.mode = mode
        self.clause_dates = clause_dates
        self.clause_depth = clause_depth
        self.decompose = decompose
        self.outlet_clauses = outlet_clauses
        self.clause_part_weight = clause_part_weight
        self.sentence_weight = sentence_weight
        self.round_order = round_order
        self.decompose_depth = decompose_depth
        self.store = store
        self.lexical = lexical
        self.embeddings = embeddings
        self._vectors = vectors
        self.candidates = candidates
        self.per_article = per_article
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self._generation: int | None = None
        self._matcher = OutletMatcher([])
        self._outlets: list[str] = []

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
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        self.refresh()
        timings["refresh"] = (time.perf_counter() - t0) * 1000
        plan_now = now or datetime.now(UTC)
        plan = plan_query(question, self._matcher, now=plan_now, since=since, until=until)
        if outlet:
            wanted = [o for o in self._outlets if o.lower() == outlet.strip().lower()]
            plan.outlets = wanted or [outlet]
            plan.clauses = [Clause(plan.outlets[0])]
        timings["plan"] = (time.perf_counter() - t0) * 1000
        if self.lexical.count(None) == 0:
            return Retrieval([], plan, timings)

        # An explicit outlet (--source, the Discord option) is a hard filter, not a hint like a named outlet.
        base = self._filter(plan, Clause(plan.outlets[0]) if outlet else None)
        if base is not None and not self._any(base) and plan.since_from_text:
            # "last week" read against today finds nothing in an older index: search every date
            # (answers still say how old their sources are) rather than answer nothing.
            plan.since, plan.widened = None, True
            base = self._filter(plan, Clause(plan.outlets[0]) if outlet else None)
        t1 = time.perf_counter()
        vector = (self._vectors or partial(embed_array, self.embeddings))([question])[0]
        timings["embed"] = (time.perf_counter() - t1) * 1000

        t2 = time.perf_counter()
        q = _Question(vector=vector.astype(np.float32), whole_question=question)
        whole = self._lexical(q, question, base, self.candidates)
        q.whole.update(whole)
        q.whole_top = max(self._lexical(q, question, None, 1).values(), default=0.0)
        global_lists, global_raw = self._search(q, whole, base)
        clause_lists: list[list[str]] = []
        # Split and read once: the outlet searches and the decomposition both use the parts.
        all_parts = split_parts(question) if self.mode == "full" else []
        part_mentions = [self._matcher.find(part) for part in all_parts]
        for clause in plan.clauses if self.mode == "full" and self.outlet_clauses else []:
            where = self._filter(plan, clause)
            if where is not None and not self._any(where):
                continue
            # Which words of a question belong to which outlet is ambiguous ("X, according to
            # Fortune, and Y ..." vs "Fortune's view on X ..."), so each outlet is searched with
            # the whole question (searching with its part alone measured worse), plus the words
            # of the part that names it, or else of the text from its mention to the next one.
            own = [
                p
                for p, found in zip(all_parts, part_mentions, strict=True)
                if any(m[2] == clause.outlet for m in found)
            ]
            clause_text = own[0] if len(own) == 1 else clause.text
            if self.clause_part_weight > 0 and clause_text:
                scores = self._combined(q, question, clause_text, where)
            else:
                scores = self._lexical(q, question, where, self.candidates)
            found, raw = self._search(q, scores, where)
            clause_lists.append(self._fuse(found, raw))
        if self.decompose and all_parts:
            # Multi-part questions ("X, and Y, while Z"): each part's best lexical passages join
            # the interleave (measured on full dev in benchmarks/retrieval.py: see the README).
            for part, mentions in zip(all_parts, part_mentions, strict=True):
                part_where: ChunkFilter | None = None
                if mentions:
                    # The part's own clause carries its date ("the Fortune report on October 13").
                    own_clause = plan_query(part, self._matcher, now=plan_now).clauses[0]
                    part_where = self._filter(plan, own_clause)
                elif plan.outlets and not outlet:
                    part_where = ChunkFilter(outlets=tuple(o for o in plan.outlets if o in self._outlets))
                where = base
                if part_where is not None and self._any(part_where):
                    where = part_where & base
                found_part = self._lexical(q, part, where, self.decompose_depth)
                top = sorted(found_part, key=lambda c: -found_part[c])[: self.decompose_depth]
                for cid in top:
                    q.bm25_best[cid] = max(q.bm25_best.get(cid, 0.0), found_part[cid])
                if top:
                    clause_lists.append(top)
        timings["search"] = (time.perf_counter() - t2) * 1000

        t3 = time.perf_counter()
        if self.mode == "bm25":
            ranked = global_lists[0]
        elif self.mode == "dense":
            ranked = global_lists[1]
        elif self.mode == "rrf":
            ranked = self._fuse(global_lists)
        else:
            fused = self._fuse(global_lists, global_raw)
            if plan.status:
                fused = self._recency_boost(q, fused)
            strength = self._strength(q, clause_lists) if self.round_order and clause_lists else None
            ranked = self._interleave(clause_lists, fused, strength) if clause_lists else fused
            ranked = self._diversify(q, ranked, k)
        passages = self._passages(q, ranked[:k])
        timings["fuse"] = (time.perf_counter() - t3) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return Retrieval(
            passages,
            plan,
            timings,
            top_dense=max(q.dense_best.values(), default=0.0),
            top_bm25=max(q.bm25_best.values(), default=0.0),
        )

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
        alpha = self._alpha(terms, q)
        if alpha <= 0:
            return dict(sorted(chunks.items(), key=lambda kv: -kv[1])[:n])
        best: dict[str, float] = {}
        for hit in self.lexical.top_sentences(terms, _SENTENCE_POOL, where):
            q.article_of[hit.chunk_id] = hit.article_id
            q.published_ts[hit.chunk_id] = hit.published_ts
            best[hit.chunk_id] = max(best.get(hit.chunk_id, 0.0), hit.score)
        missing_chunks = [c for c in best if c not in chunks]
        chunks.update(self.lexical.chunk_scores(terms, missing_chunks))
        missing_best = [c for c in chunks if c not in best]
        best.update(self.lexical.best_sentence_scores(terms, missing_best))
        combined = {c: score + alpha * best.get(c, 0.0) for c, score in chunks.items()}
        return dict(sorted(combined.items(), key=lambda kv: -kv[1])[:n])

    def _alpha(self, terms: Sequence[str], q: _Question) -> float:
        """Weight of the best-sentence score: ``sentence_weight`` times best chunk / best sentence."""
        if self.sentence_weight <= 0 or self.mode != "full":  # ablation baselines: plain BM25
            return 0.0
        key = tuple(terms)
        if key not in q.alphas:
            top_chunk = self.lexical.top_chunks(terms, 1)
            top_sentence = self.lexical.top_sentences(terms, 1)
            ok = top_chunk and top_sentence and top_sentence[0].score > 0
            q.alphas[key] = self.sentence_weight * top_chunk[0].score / top_sentence[0].score if ok else 0.0
        return q.alphas[key]

    def _lexical_of(self, q: _Question, text: str, chunk_ids: Sequence[str]) -> dict[str, float]:
        """The same combined score for exactly these chunks."""
        terms = self.lexical.terms(text)
        if not terms or not chunk_ids:
            return {}
        chunks = self.lexical.chunk_scores(terms, chunk_ids)
        alpha = self._alpha(terms, q)
        if alpha <= 0:
            return chunks
        best = self.lexical.best_sentence_scores(terms, list(chunks))
        return {c: score + alpha * best.get(c, 0.0) for c, score in chunks.items()}

    def _combined(self, q: _Question, question: str, clause_text: str, where: ChunkFilter | None) -> dict[str, float]:
        """Whole question plus (weighted) the clause's own words, best ``candidates`` within ``where``."""
        first = self._lexical(q, question, where, self.candidates)
        second = self._lexical(q, clause_text, where, self.candidates)
        for cid in [c for c in second if c not in first]:
            first[cid] = 0.0
        fill = self._lexical_of(q, question, [c for c in second if first[c] == 0.0])
        first.update(fill)
        fill2 = self._lexical_of(q, clause_text, [c for c in first if c not in second])
        second.update(fill2)
        total = {c: first.get(c, 0.0) + self.clause_part_weight * second.get(c, 0.0) for c in first}
        return dict(sorted(total.items(), key=lambda kv: -kv[1])[: self.candidates])

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
        if clause is not None and self.clause_dates and (clause.day or clause.after or clause.before):
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
        bm25_list = sorted(lexical, key=lambda c: -lexical[c])[: self.candidates]
        bm25_raw = {c: lexical[c] for c in bm25_list}
        for cid, value in bm25_raw.items():
            q.bm25_best[cid] = max(q.bm25_best.get(cid, 0.0), value)
        dense_raw: dict[str, float] = {}
        for hit in self.lexical.dense(q.vector, self.candidates, where=where):
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
        weights = [self.bm25_weight, self.dense_weight]
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
        total = self.bm25_weight * b + self.dense_weight * d
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

    def _interleave(
        self, clause_lists: list[list[str]], fused: list[str], strength: Callable[[str], float] | None = None
    ) -> list[str]:
        """Best passage of each outlet clause first, then alternate, then the global ranking.

        Within one round the passages are ordered by ``strength`` (how well each matches the
        whole question), so the first-mentioned outlet does not always take rank 1.
        """
        out: list[str] = []
        seen: set[str] = set()
        depth = 0
        while depth < self.clause_depth:
            round_items = []
            for ranked in clause_lists:
                if depth < len(ranked) and ranked[depth] not in seen and ranked[depth] not in round_items:
                    round_items.append(ranked[depth])
            if strength is not None:
                round_items.sort(key=lambda p: -strength(p))
            out.extend(round_items)
            seen.update(round_items)
            depth += 1
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

    def _strength(self, q: _Question, clause_lists: list[list[str]]) -> Callable[[str], float]:
        """A passage's match with the whole question: lexical (scaled to the best) plus weighted cosine."""
        rounds = list(dict.fromkeys(c for ranked in clause_lists for c in ranked[: self.clause_depth]))
        q.whole.update(self._lexical_of(q, q.whole_question, [c for c in rounds if c not in q.whole]))
        q.cosine.update(self.lexical.similarities(q.vector, [c for c in rounds if c not in q.cosine]))
        scale = 1.0 / q.whole_top if q.whole_top > 0 else 0.0

        def strength(cid: str) -> float:
            return self.bm25_weight * q.whole.get(cid, 0.0) * scale + self.dense_weight * q.cosine.get(cid, 0.0)

        return strength

    def _diversify(self, q: _Question, ranked: list[str], k: int) -> list[str]:
        """At most ``per_article`` passages of one article in the first k; the rest keep their order after."""
        counts: dict[str, int] = defaultdict(int)
        head: list[str] = []
        tail: list[str] = []
        for cid in ranked:
            article = q.article_of.get(cid, cid)
            if len(head) < k and counts[article] < self.per_article:
                head.append(cid)
                counts[article] += 1
            else:
                tail.append(cid)
        return head + tail

    def _passages(self, q: _Question, ranked: Sequence[str]) -> list[Passage]:
        """The ranked chunks read from the store (the only chunk texts a question reads)."""
        chunks = self.store.chunks_by_id(list(ranked))
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
