"""The ingest pipeline: sources → clean articles → chunks → vectors → Chroma + BM25.

Work is done in batches of articles so the embedding model sees many chunks at
once (sorted by length, little padding) and Chroma gets few large writes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.core.errors import SourceError
from index.bm25 import BM25Index
from index.chunking import Chunker
from index.clean import clean_article
from index.embeddings import NamedEmbeddings, embed_array
from index.fetch import Fetcher
from index.loaders import display_name, load_sources, unexpected_error
from index.merge_policy import prefer, resolve
from index.models import Article, Chunk, RawArticle
from index.store import STATUS_COMPLETE, STATUS_DUPLICATE, STATUS_PENDING, ChunkStore

log = logging.getLogger(__name__)

# Cosine similarity (mean chunk vectors) above which two articles are compared word by word.
_DUPLICATE_CANDIDATE_COSINE = 0.75  # MultiHop-RAG: the one wire copy pair scores 0.80
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One line of the ingest summary."""

    source: str
    status: str  # added | updated | unchanged | duplicate | kept | error
    title: str = ""
    outlet: str = ""
    chunks: int = 0
    detail: str = ""


@dataclass(slots=True)
class IngestReport:
    items: list[ItemResult] = field(default_factory=list)
    seconds: float = 0.0
    chunks_written: int = 0

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    @property
    def errors(self) -> list[ItemResult]:
        return [item for item in self.items if item.status == "error"]


def shingles(text: str, size: int = 5) -> set[int]:
    words = _WORD.findall(text.lower())
    return {hash(tuple(words[i : i + size])) for i in range(max(1, len(words) - size + 1))}


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What the dense model embeds: the headline gives a passage its topic."""
    return f"{article.title}\n{chunk.text}"


class Indexer:
    """Builds and updates the index; safe to rerun after any interruption."""

    def __init__(
        self,
        store: ChunkStore,
        chunker: Chunker,
        embeddings: NamedEmbeddings,
        bm25_dir: Path | None,
        near_duplicate_threshold: float = 0.6,
        batch_articles: int = 48,
        conflicts: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.store = store
        self.chunker = chunker
        self.embeddings = embeddings
        self.bm25_dir = bm25_dir
        self.near_duplicate_threshold = near_duplicate_threshold
        self.batch_articles = batch_articles
        # Two texts that state different facts are never one story (an altered copy of a wire report).
        self.conflicts = conflicts

    def ingest(
        self,
        sources: Iterable[str],
        fetcher: Fetcher | None,
        max_bytes: int,
        on_item: Callable[[ItemResult], None] | None = None,
    ) -> IngestReport:
        """Load every source and index what it yields; bad items are reported, not fatal."""
        return self.ingest_raw(load_sources(sources, fetcher, max_bytes), on_item)

    def ingest_raw(
        self,
        items: Iterable[RawArticle | SourceError],
        on_item: Callable[[ItemResult], None] | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()

        def emit(result: ItemResult) -> None:
            report.items.append(result)
            if on_item is not None:
                on_item(result)

        batch: dict[str, Article] = {}
        changed = False
        for item in items:
            # --- per-item isolation (issue 13.5): any failure is this item's error line ---
            if isinstance(item, SourceError):
                emit(ItemResult(item.source, "error", detail=item.reason))
                continue
            try:
                article = clean_article(item)
            except SourceError as exc:
                emit(ItemResult(exc.source, "error", detail=exc.reason))
                continue
            except Exception as exc:  # one bad item must not lose the batch
                error = unexpected_error(display_name(item.source), exc)
                emit(ItemResult(error.source, "error", detail=error.reason))
                continue
            earlier = batch.get(article.id)
            if earlier is not None:  # the same article (same URL or file) twice in a batch: last copy wins
                winner = prefer(earlier, article)  # ... unless it is a teaser standing in for the text
                loser = article if winner is earlier else earlier
                detail = f"same article as {winner.source}, which is indexed instead"
                emit(ItemResult(loser.source, "duplicate", loser.title, loser.outlet, 0, detail))
                article = winner
            # --- end of per-item isolation ---
            batch[article.id] = article
            if len(batch) >= self.batch_articles:
                changed |= self._index_batch(list(batch.values()), report, emit)
                batch.clear()
        if batch:
            changed |= self._index_batch(list(batch.values()), report, emit)
        if changed or self._bm25_stale():
            self.refresh_bm25()
        report.seconds = time.perf_counter() - started
        return report

    # ------------------------------------------------------------------ batches
    def _index_batch(self, articles: list[Article], report: IngestReport, emit: Callable[[ItemResult], None]) -> bool:
        resolution = resolve(articles, self.store)  # never less text for a failed fetch (index.merge_policy)
        for held in resolution.kept:
            emit(ItemResult(held.article.source, "kept", held.article.title, held.article.outlet, 0, held.detail))
        articles = resolution.articles
        existing = self.store.get_records([a.id for a in articles])
        todo: list[Article] = []
        for article in articles:
            record = existing.get(article.id)
            if (
                record
                and record.content_hash == article.content_hash
                and record.status
                in (
                    STATUS_COMPLETE,
                    STATUS_DUPLICATE,
                )
            ):
                status = "duplicate" if record.status == STATUS_DUPLICATE else "unchanged"
                emit(ItemResult(article.source, status, article.title, article.outlet, record.chunk_count))
            else:
                todo.append(article)
        if not todo:
            return False

        chunk_lists = [self.chunker.split(a.id, a.body) for a in todo]
        pairs = [(a, c) for a, chunks in zip(todo, chunk_lists, strict=True) for c in chunks]
        vectors = embed_array(self.embeddings, [embedding_text(a, c) for a, c in pairs])
        article_vectors = self._article_vectors(chunk_lists, vectors)

        keep: list[int] = []
        duplicates: list[tuple[int, str]] = []
        seen: list[tuple[Article, np.ndarray, set[int]]] = []
        for i, article in enumerate(todo):
            canonical = self._find_duplicate(article, article_vectors[i], seen)
            if canonical is not None:
                duplicates.append((i, canonical))
                continue
            keep.append(i)
            seen.append((article, article_vectors[i], shingles(article.body)))

        kept = [todo[i] for i in keep]
        counts = [len(chunk_lists[i]) for i in keep]
        kept_vectors = article_vectors[keep] if keep else np.zeros((0, vectors.shape[1]), np.float32)
        kept_ids = {a.id for a in kept}
        chunk_rows = [i for i, (a, _) in enumerate(pairs) if a.id in kept_ids]

        self.store.mark(kept, kept_vectors, STATUS_PENDING, counts)
        self.store.delete_chunks(a.id for a in kept if a.id in existing)
        self.store.upsert_chunks([pairs[i] for i in chunk_rows], vectors[chunk_rows])
        self.store.mark(kept, kept_vectors, STATUS_COMPLETE, counts)
        report.chunks_written += len(chunk_rows)
        for article, n in zip(kept, counts, strict=True):
            status = "updated" if article.id in existing else "added"
            note = resolution.notes.get(article.id, "")
            emit(ItemResult(article.source, status, article.title, article.outlet, n, note))
        # After the canonical articles are stored, so a copy in the same batch can point at them.
        for i, canonical in duplicates:
            article = todo[i]
            self.store.record_duplicate(article, article_vectors[i], canonical)
            emit(
                ItemResult(
                    article.source,
                    "duplicate",
                    article.title,
                    article.outlet,
                    0,
                    f"same story as {canonical}",
                )
            )
        return True

    @staticmethod
    def _article_vectors(chunk_lists: Sequence[Sequence[Chunk]], vectors: np.ndarray) -> np.ndarray:
        out = np.zeros((len(chunk_lists), vectors.shape[1] if len(vectors) else 384), dtype=np.float32)
        pos = 0
        for i, chunks in enumerate(chunk_lists):
            if chunks:
                mean = vectors[pos : pos + len(chunks)].mean(axis=0)
                out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            pos += len(chunks)
        return out

    def _find_duplicate(
        self, article: Article, vector: np.ndarray, seen: list[tuple[Article, np.ndarray, set[int]]]
    ) -> str | None:
        """Id of an already indexed article that is the same wire story, if any."""
        mine = shingles(article.body)
        for other, other_vector, other_shingles in seen:
            if (
                float(vector @ other_vector) >= _DUPLICATE_CANDIDATE_COSINE
                and jaccard(mine, other_shingles) >= self.near_duplicate_threshold
                and not self._conflict(article.body, other.body)
            ):
                return other.id
        for other_id, similarity, body in self.store.find_similar_articles(vector):
            if other_id == article.id or similarity < _DUPLICATE_CANDIDATE_COSINE:
                continue
            if jaccard(mine, shingles(body)) >= self.near_duplicate_threshold and not self._conflict(
                article.body, body
            ):
                return other_id
        return None

    def _conflict(self, a: str, b: str) -> bool:
        return a != b and self.conflicts is not None and self.conflicts(a, b)

    # ------------------------------------------------------------------ BM25
    def _bm25_stale(self) -> bool:
        if self.bm25_dir is None:
            return False
        current = BM25Index.load(self.bm25_dir)
        return current is None or current.stamp != self.store.generation()

    def refresh_bm25(self, bump: bool = True) -> None:
        """Rebuild the BM25 sidecar from the store; ``bump`` marks the store as changed first."""
        if bump:
            self.store.set_generation(uuid.uuid4().hex)
        if self.bm25_dir is None:
            return
        chunks, _ = self.store.chunks()
        ids = [c.id for c in chunks]
        texts = [c.text for c in chunks]
        bm25_texts = [BM25Index.index_text(c.title, c.outlet, c.text) for c in chunks]
        BM25Index.build(ids, bm25_texts, self.store.generation(), passages=texts).save(self.bm25_dir)
        log.info("BM25 sidecar rebuilt: %d chunks", len(ids))
