"""Hybrid retrieval: BM25 (bm25s sidecar) + dense vectors (Chroma), fused by reciprocal rank.

Questions that name outlets are searched once more within each named outlet, so a
question comparing two outlets' reports gets passages from both; multi-part
questions are split into parts, each contributing its best passage. Results are
spread across articles so one long article cannot fill the context.
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
from index.bm25 import BM25Index
from index.embeddings import NamedEmbeddings, embed_array
from index.store import ChunkRecord, ChunkStore

log = logging.getLogger(__name__)

RRF_K = 60
# Up to this many chunks, dense search is exact over vectors held in memory (384 floats each:
# ~150 MB at the limit); beyond it, Chroma's HNSW index answers.
EXACT_SEARCH_MAX_CHUNKS = 100_000


@dataclass(slots=True)
class Retrieval:
    """Ranked passages plus what was searched and how long each step took."""

    passages: list[Passage]
    plan: QueryPlan
    timings_ms: dict[str, float] = field(default_factory=dict)
    top_dense: float = 0.0
    top_bm25: float = 0.0


@dataclass(frozen=True, slots=True)
class _Scores:
    """The question scored against every chunk: BM25, and cosine when vectors are in memory."""

    bm25: np.ndarray
    dense: np.ndarray | None
    vector: np.ndarray


@dataclass(slots=True)
class _Corpus:
    """Chunk texts and metadata aligned with the BM25 ids, loaded once per store generation."""

    generation: str
    ids: list[str]
    texts: list[str]
    chunks: list[ChunkRecord]
    position: dict[str, int]
    outlet_of: np.ndarray  # int code per chunk
    outlet_codes: dict[str, int]
    published_ts: np.ndarray
    article_of: list[str]
    bm25: BM25Index
    matcher: OutletMatcher
    vectors: np.ndarray | None  # unit chunk vectors for exact search; None = ask Chroma (large indexes)
    day_of: np.ndarray  # days since epoch of publication, -1 unknown


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


class HybridRetriever:
    """Finds the passages that answer a question; rebuilds its view when the index changes."""

    def __init__(
        self,
        store: ChunkStore,
        bm25_loader: Callable[[], BM25Index],
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
    ) -> None:
        """``mode`` is for ablations: ``bm25``, ``dense``, ``rrf`` (plain fusion) or ``full``."""
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
        self.bm25_loader = bm25_loader
        self.embeddings = embeddings
        self.candidates = candidates
        self.per_article = per_article
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self._corpus: _Corpus | None = None

    # ------------------------------------------------------------------ corpus view
    def corpus(self) -> _Corpus:
        generation = self.store.generation()
        if self._corpus is None or self._corpus.generation != generation:
            self._corpus = self._load(generation)
        return self._corpus

    def _load(self, generation: str) -> _Corpus:
        started = time.perf_counter()
        bm25 = self.bm25_loader()
        exact = self.store.chunk_count() <= EXACT_SEARCH_MAX_CHUNKS
        chunks, vectors = self.store.chunks(with_vectors=exact)
        ids = [c.id for c in chunks]
        by_id = {cid: i for i, cid in enumerate(ids)}
        order = [by_id[cid] for cid in bm25.ids if cid in by_id]
        if len(order) != len(ids):
            log.warning("BM25 sidecar and store disagree (%d vs %d chunks)", len(bm25.ids), len(ids))
        ids = [ids[i] for i in order]
        chunks = [chunks[i] for i in order]
        texts = [c.text for c in chunks]
        matrix = vectors[order] if vectors is not None else None
        published = np.asarray([c.published_ts for c in chunks], dtype=np.int64)
        outlets = sorted({c.outlet for c in chunks})
        codes = {o: i for i, o in enumerate(outlets)}
        corpus = _Corpus(
            generation=generation,
            ids=ids,
            texts=texts,
            chunks=chunks,
            position={cid: i for i, cid in enumerate(ids)},
            outlet_of=np.asarray([codes[c.outlet] for c in chunks], dtype=np.int32),
            outlet_codes=codes,
            published_ts=published,
            article_of=[c.article_id for c in chunks],
            bm25=bm25,
            matcher=OutletMatcher(outlets),
            vectors=matrix,
            day_of=np.where(published >= 0, published // 86400, -1),
        )
        log.info("retriever loaded %d chunks in %.0f ms", len(ids), (time.perf_counter() - started) * 1000)
        return corpus

    def outlets(self) -> list[str]:
        return sorted(self.corpus().outlet_codes)

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
        corpus = self.corpus()
        plan_now = now or datetime.now(UTC)
        plan = plan_query(question, corpus.matcher, now=plan_now, since=since, until=until)
        if outlet:
            wanted = [o for o in corpus.outlet_codes if o.lower() == outlet.strip().lower()]
            plan.outlets = wanted or [outlet]
            plan.clauses = [Clause(plan.outlets[0])]
        timings["plan"] = (time.perf_counter() - t0) * 1000
        if not corpus.ids:
            return Retrieval([], plan, timings)

        # An explicit outlet (--source, the Discord option) is a hard filter, not a hint like a named outlet.
        base_mask = self._mask(corpus, plan, Clause(plan.outlets[0]) if outlet else None)
        if base_mask is not None and not base_mask.any() and plan.since_from_text:
            # "last week" read against today finds nothing in an older index: search every date
            # (answers still say how old their sources are) rather than answer nothing.
            plan.since, plan.widened = None, True
            base_mask = self._mask(corpus, plan, Clause(plan.outlets[0]) if outlet else None)
        t1 = time.perf_counter()
        vector = embed_array(self.embeddings, [question])[0]
        timings["embed"] = (time.perf_counter() - t1) * 1000

        t2 = time.perf_counter()
        # Scored once; the global search and every outlet's search only mask these.
        scored = _Scores(
            bm25=self._lexical(corpus, question),
            dense=corpus.vectors @ vector.astype(np.float32) if corpus.vectors is not None else None,
            vector=vector,
        )
        dense_best: dict[int, float] = {}
        bm25_best: dict[int, float] = {}
        global_lists, global_raw = self._search(corpus, scored, base_mask, dense_best, bm25_best)
        clause_lists: list[list[int]] = []
        # Split and read once: the outlet searches and the decomposition both use the parts.
        all_parts = split_parts(question) if self.mode == "full" else []
        part_mentions = [corpus.matcher.find(part) for part in all_parts]
        for clause in plan.clauses if self.mode == "full" and self.outlet_clauses else []:
            mask = self._mask(corpus, plan, clause)
            if mask is not None and not mask.any():
                continue
            # Which words of a question belong to which outlet is ambiguous ("X, according to
            # Fortune, and Y ..." vs "Fortune's view on X ..."), so each outlet is searched with
            # the whole question (searching with its part alone measured worse), plus the words
            # of the part that names it, or else of the text from its mention to the next one.
            clause_scored = scored
            if self.clause_part_weight > 0:
                own = [
                    p
                    for p, found in zip(all_parts, part_mentions, strict=True)
                    if any(m[2] == clause.outlet for m in found)
                ]
                clause_text = own[0] if len(own) == 1 else clause.text
                if clause_text:
                    extra = self._lexical(corpus, clause_text)
                    clause_scored = _Scores(
                        bm25=scored.bm25 + self.clause_part_weight * extra, dense=scored.dense, vector=scored.vector
                    )
            found, raw = self._search(corpus, clause_scored, mask, dense_best, bm25_best)
            clause_lists.append(self._fuse(found, raw))
        if self.decompose and all_parts:
            # Multi-part questions ("X, and Y, while Z"): each part's best lexical passages join
            # the interleave (measured on full dev in benchmarks/retrieval.py: see the README).
            for part, mentions in zip(all_parts, part_mentions, strict=True):
                scores = self._lexical(corpus, part)
                part_mask: np.ndarray | None = None
                if mentions:
                    # The part's own clause carries its date ("the Fortune report on October 13").
                    own_clause = plan_query(part, corpus.matcher, now=plan_now).clauses[0]
                    part_mask = self._mask(corpus, plan, own_clause)
                elif plan.outlets and not outlet:
                    codes = [corpus.outlet_codes[o] for o in plan.outlets if o in corpus.outlet_codes]
                    part_mask = np.isin(corpus.outlet_of, codes)
                mask = base_mask
                if part_mask is not None and part_mask.any():
                    mask = part_mask if base_mask is None else part_mask & base_mask
                if mask is not None:
                    scores = np.where(mask, scores, 0.0)
                top = [int(i) for i in np.argsort(-scores)[: self.decompose_depth] if scores[i] > 0]
                for i in top:
                    bm25_best[i] = max(bm25_best.get(i, 0.0), float(scores[i]))
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
                fused = self._recency_boost(corpus, fused)
            strength = self._strength(scored, dense_best) if self.round_order else None
            ranked = self._interleave(clause_lists, fused, strength) if clause_lists else fused
            ranked = self._diversify(corpus, ranked, k)
        passages = [self._passage(corpus, i, rank, dense_best, bm25_best) for rank, i in enumerate(ranked[:k], 1)]
        timings["fuse"] = (time.perf_counter() - t3) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return Retrieval(
            passages,
            plan,
            timings,
            top_dense=max(dense_best.values(), default=0.0),
            top_bm25=max(bm25_best.values(), default=0.0),
        )

    def _lexical(self, corpus: _Corpus, text: str) -> np.ndarray:
        """BM25 per chunk plus its best sentence's BM25, rescaled to the chunk scores' range.

        The sentence term picks, among an article's chunks, the one holding the sentence
        the question paraphrases (full dev, ``benchmarks/retrieval.py``: MRR@10 0.681 → 0.715,
        evidence recall@10 0.681 → 0.698).
        """
        chunks, sentences = corpus.bm25.scores_with_sentences(text)
        if self.sentence_weight <= 0 or self.mode != "full":  # ablation baselines: plain BM25
            return chunks
        top = float(sentences.max()) if len(sentences) else 0.0
        if top <= 0:
            return chunks
        return chunks + (self.sentence_weight * float(chunks.max()) / top) * sentences

    def _mask(self, corpus: _Corpus, plan: QueryPlan, clause: Clause | None) -> np.ndarray | None:
        mask: np.ndarray | None = None
        if plan.since or plan.until:
            lo = int(plan.since.timestamp()) if plan.since else -(2**62)
            hi = int(plan.until.timestamp()) if plan.until else 2**62
            mask = (corpus.published_ts >= lo) & (corpus.published_ts < hi)
        if clause is not None and clause.outlet is not None:
            code = corpus.outlet_codes.get(clause.outlet)
            outlet_mask = corpus.outlet_of == code if code is not None else np.zeros(len(corpus.ids), dtype=bool)
            mask = outlet_mask if mask is None else mask & outlet_mask
        if clause is not None and self.clause_dates and (clause.day or clause.after or clause.before):
            # "the TechCrunch report published on October 7": that day, give or take a time zone;
            # "after October 4" / "before November 1": from / up to that day (questions often
            # mean it inclusively). A date no article matches is dropped rather than emptying the clause.
            day_mask = corpus.day_of >= 0
            if clause.day is not None:
                day_mask &= np.abs(corpus.day_of - _epoch_day(clause.day)) <= 1
            if clause.after is not None:
                day_mask &= corpus.day_of >= _epoch_day(clause.after) - 1
            if clause.before is not None:
                day_mask &= corpus.day_of <= _epoch_day(clause.before) + 1
            narrowed = day_mask if mask is None else mask & day_mask
            if narrowed.any():
                mask = narrowed
        return mask

    def _search(
        self,
        corpus: _Corpus,
        scored: _Scores,
        mask: np.ndarray | None,
        dense_best: dict[int, float],
        bm25_best: dict[int, float],
    ) -> tuple[list[list[int]], tuple[dict[int, float], dict[int, float]]]:
        """Two ranked lists of chunk positions (BM25, dense) restricted to ``mask``, with their scores."""
        n = self.candidates
        scores = scored.bm25
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argpartition(-scores, min(n, len(scores) - 1))[:n] if len(scores) > n else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        bm25_list = [int(i) for i in top if scores[i] > 0]
        bm25_raw = {i: float(scores[i]) for i in bm25_list}
        for i, value in bm25_raw.items():
            bm25_best[i] = max(bm25_best.get(i, 0.0), value)
        dense_raw: dict[int, float] = {}
        dense_list = self._dense(corpus, scored, mask, n, dense_raw)
        for i, value in dense_raw.items():
            dense_best[i] = max(dense_best.get(i, -1.0), value)
        return [bm25_list, dense_list], (bm25_raw, dense_raw)

    def _dense(
        self,
        corpus: _Corpus,
        scored: _Scores,
        mask: np.ndarray | None,
        n: int,
        dense_best: dict[int, float],
    ) -> list[int]:
        if scored.dense is not None:
            sims = scored.dense
            if mask is not None:
                sims = np.where(mask, sims, -2.0)
            count = min(n, len(sims))
            top = np.argpartition(-sims, count - 1)[:count] if len(sims) > count else np.arange(len(sims))
            top = top[np.argsort(-sims[top])]
            ranked = [int(i) for i in top if sims[i] > -2.0]
            for pos in ranked:
                dense_best[pos] = max(dense_best.get(pos, -1.0), float(sims[pos]))
            return ranked
        allowed: list[str] | None = None
        if mask is not None:
            allowed = sorted({corpus.article_of[i] for i in np.flatnonzero(mask)})
            if not allowed:
                return []
        out: list[int] = []
        for cid, cosine in self.store.dense_search(scored.vector, min(n, len(corpus.ids)), allowed):
            found = corpus.position.get(cid)
            if found is None:
                continue
            out.append(found)
            dense_best[found] = max(dense_best.get(found, -1.0), cosine)
        return out

    def _fuse(
        self, lists: Sequence[Sequence[int]], raw: tuple[dict[int, float], dict[int, float]] | None = None
    ) -> list[int]:
        """Score fusion when raw scores are given (the pipeline), reciprocal-rank fusion otherwise."""
        if raw is not None:
            return self._score_fuse(lists, raw)
        weights = [self.bm25_weight, self.dense_weight]
        scores: dict[int, float] = defaultdict(float)
        for weight, ranked in zip(weights, lists, strict=False):
            for rank, pos in enumerate(ranked):
                scores[pos] += weight / (RRF_K + rank + 1)
        return sorted(scores, key=lambda p: -scores[p])

    def _score_fuse(self, lists: Sequence[Sequence[int]], raw: tuple[dict[int, float], dict[int, float]]) -> list[int]:
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
    def _recency_boost(corpus: _Corpus, fused: list[int]) -> list[int]:
        """Status questions: blend relevance rank with recency rank among the candidates."""
        head = fused[:30]
        by_time = sorted(head, key=lambda p: -int(corpus.published_ts[p]))
        score = {p: 1 / (RRF_K + r) for r, p in enumerate(head)}
        for r, p in enumerate(by_time):
            score[p] += 0.5 / (RRF_K + r)
        return sorted(head, key=lambda p: -score[p]) + fused[30:]

    def _interleave(
        self, clause_lists: list[list[int]], fused: list[int], strength: Callable[[int], float] | None = None
    ) -> list[int]:
        """Best passage of each outlet clause first, then alternate, then the global ranking.

        Within one round the passages are ordered by ``strength`` (how well each matches the
        whole question), so the first-mentioned outlet does not always take rank 1.
        """
        out: list[int] = []
        seen: set[int] = set()
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

    def _strength(self, scored: _Scores, dense_best: dict[int, float]) -> Callable[[int], float]:
        """A passage's match with the whole question: lexical (scaled to the best) plus weighted cosine."""
        top = float(scored.bm25.max()) if len(scored.bm25) else 0.0
        scale = 1.0 / top if top > 0 else 0.0

        def strength(pos: int) -> float:
            cosine = float(scored.dense[pos]) if scored.dense is not None else dense_best.get(pos, 0.0)
            return self.bm25_weight * float(scored.bm25[pos]) * scale + self.dense_weight * cosine

        return strength

    def _diversify(self, corpus: _Corpus, ranked: list[int], k: int) -> list[int]:
        """At most ``per_article`` passages of one article in the first k; the rest keep their order after."""
        counts: dict[str, int] = defaultdict(int)
        head: list[int] = []
        tail: list[int] = []
        for pos in ranked:
            article = corpus.article_of[pos]
            if len(head) < k and counts[article] < self.per_article:
                head.append(pos)
                counts[article] += 1
            else:
                tail.append(pos)
        return head + tail

    @staticmethod
    def _passage(
        corpus: _Corpus, pos: int, rank: int, dense_best: dict[int, float], bm25_best: dict[int, float]
    ) -> Passage:
        chunk = corpus.chunks[pos]
        return Passage(
            chunk_id=corpus.ids[pos],
            article_id=corpus.article_of[pos],
            text=corpus.texts[pos],
            title=chunk.title,
            outlet=chunk.outlet,
            url=chunk.url,
            published_at=chunk.published_at,
            start=chunk.start,
            end=chunk.end,
            score=1.0 / (RRF_K + rank),
            dense_score=dense_best.get(pos, 0.0),
            bm25_score=bm25_best.get(pos, 0.0),
            rank=rank,
        )
