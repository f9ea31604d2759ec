"""The ingest pipeline: sources → clean articles → chunks → vectors → Chroma + the lexical index.

Work is done in batches of articles so the embedding model sees many chunks at
once (sorted by length, little padding) and Chroma gets few large writes. Each batch
is one generation: its records carry it, the lexical index commits it, and only then
does the store's generation move (readers in other processes look at that number).
One ingest at a time per data dir (a lock file), so two writers never interleave.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import numpy as np

from bot.core.errors import SourceError, StoreError
from index.annotations import Annotator, PendingParses
from index.chunking import Chunker
from index.clean import clean_article
from index.embeddings import NamedEmbeddings, embed_array
from index.fetch import Fetcher
from index.lexical import LexicalIndex
from index.loaders import display_name, load_sources, unexpected_error
from index.merge_policy import prefer, resolve
from index.models import Article, Chunk, RawArticle
from index.store import STATUS_COMPLETE, STATUS_DUPLICATE, STATUS_PENDING, ChunkRecord, ChunkStore

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
    if not a or not b:
        return 0.0
    common = len(a & b)  # |a ∪ b| from the sizes: no union set built
    return common / (len(a) + len(b) - common)


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
        lexical: LexicalIndex | None,
        near_duplicate_threshold: float = 0.6,
        batch_articles: int = 48,
        conflicts: Callable[[str, str], bool] | None = None,
        lock_path: Path | None = None,
        annotator: Annotator | None = None,
    ) -> None:
        self.store = store
        self.chunker = chunker
        self.embeddings = embeddings
        self.lexical = lexical
        self.lock_path = lock_path
        self.near_duplicate_threshold = near_duplicate_threshold
        self.batch_articles = batch_articles
        # Two texts that state different facts are never one story (an altered copy of a wire report).
        self.conflicts = conflicts
        # spaCy parses stored with each chunk, so answering does not parse its passages again.
        self.annotator = annotator

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
        with self._writer_lock():
            try:
                return self._ingest_locked(items, on_item)
            finally:
                if self.annotator is not None:
                    self.annotator.close()

    def _writer_lock(self) -> _WriterLock | _NoLock:
        """The data dir's exclusive writer lock; a second ingest gets one line naming the holder."""
        if self.lock_path is None:
            return _NoLock()
        return _WriterLock(self.lock_path)

    def _ingest_locked(
        self,
        items: Iterable[RawArticle | SourceError],
        on_item: Callable[[ItemResult], None] | None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        self.repair()
        self.store.prepare_writes()

        def emit(result: ItemResult) -> None:
            report.items.append(result)
            if on_item is not None:
                on_item(result)

        # One batch ahead: while a batch is embedded and written, the next one is read, cleaned
        # and its parses started, so the spaCy workers do not wait for this process. Its lines
        # are held back until the batch before it has reported, so the order is unchanged.
        ahead: _Ahead | None = None
        batch: dict[str, Article] = {}
        lines: list[ItemResult] = []
        for item in items:
            # --- per-item isolation (issue 13.5): any failure is this item's error line ---
            if isinstance(item, SourceError):
                lines.append(ItemResult(item.source, "error", detail=item.reason))
                continue
            try:
                article = clean_article(item)
            except SourceError as exc:
                lines.append(ItemResult(exc.source, "error", detail=exc.reason))
                continue
            except Exception as exc:  # one bad item must not lose the batch
                error = unexpected_error(display_name(item.source), exc)
                lines.append(ItemResult(error.source, "error", detail=error.reason))
                continue
            earlier = batch.get(article.id)
            if earlier is not None:  # the same article (same URL or file) twice in a batch: last copy wins
                winner = prefer(earlier, article)  # ... unless it is a teaser standing in for the text
                loser = article if winner is earlier else earlier
                detail = f"same article as {winner.source}, which is indexed instead"
                lines.append(ItemResult(loser.source, "duplicate", loser.title, loser.outlet, 0, detail))
                article = winner
            # --- end of per-item isolation ---
            batch[article.id] = article
            if len(batch) >= self.batch_articles:
                following = _Ahead(list(batch.values()), lines, self._start_parsing(list(batch.values())))
                if ahead is not None:
                    self._index_ahead(ahead, report, emit)
                ahead, batch, lines = following, {}, []
        last = _Ahead(list(batch.values()), lines, self._start_parsing(list(batch.values())))
        if ahead is not None:
            self._index_ahead(ahead, report, emit)
        self._index_ahead(last, report, emit)
        report.seconds = time.perf_counter() - started
        return report

    # ------------------------------------------------------------------ batches
    def _start_parsing(self, articles: Sequence[Article]) -> _Parsing | None:
        """Start parsing the chunks of the articles a batch will (most likely) write: not those stored
        complete with the same text. What the batch writes in the end is decided when it is indexed."""
        if self.annotator is None or not articles:
            return None
        stored = self.store.get_records([a.id for a in articles])
        changed = [
            a
            for a in articles
            if not (
                (record := stored.get(a.id)) is not None
                and record.content_hash == a.content_hash
                and record.status in (STATUS_COMPLETE, STATUS_DUPLICATE)
            )
        ]
        chunks = {a.id: (a.body, self.chunker.split(a.id, a.body)) for a in changed}
        keys = [(a.title, c.text) for a in changed for c in chunks[a.id][1]]
        return _Parsing(keys, self.annotator.submit(keys), chunks) if keys else None

    def _index_ahead(self, ahead: _Ahead, report: IngestReport, emit: Callable[[ItemResult], None]) -> None:
        for line in ahead.lines:
            emit(line)
        if ahead.articles:
            self._index_batch(ahead.articles, report, emit, ahead.parsing)

    def _index_batch(
        self,
        articles: list[Article],
        report: IngestReport,
        emit: Callable[[ItemResult], None],
        started: _Parsing | None = None,
    ) -> bool:
        resolution = resolve(articles, self.store)  # never less text for a failed fetch (index.merge_policy)
        held_records = self.store.get_records([held.stored_id for held in resolution.kept])
        for held in resolution.kept:
            record = held_records.get(held.stored_id)
            if held.article.guid and record is not None and record.guid is None:
                self.store.set_guid(held.stored_id, held.article.guid)  # the next poll finds it by GUID
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
                # A crash after the copy's record but before its canonical's also_in: repair it.
                if (
                    record.status == STATUS_DUPLICATE
                    and record.duplicate_of
                    and self.store.link_copy(article.id, article.outlet, article.url, record.duplicate_of)
                ):
                    log.info("repaired the copy list of %s (copy %s)", record.duplicate_of, article.id)
                if article.guid and record.guid != article.guid:
                    self.store.set_guid(article.id, article.guid)  # stored before GUIDs were, or the feed's changed
                status = "duplicate" if record.status == STATUS_DUPLICATE else "unchanged"
                emit(ItemResult(article.source, status, article.title, article.outlet, record.chunk_count))
            else:
                todo.append(article)
        if not todo:
            return False

        chunk_lists = [self._chunks(a, started) for a in todo]
        pairs = [(a, c) for a, chunks in zip(todo, chunk_lists, strict=True) for c in chunks]
        # Parsing (worker processes) runs while this process embeds; most of it started a batch ago.
        keys = [(a.title, c.text) for a, c in pairs]
        missing = [k for k in dict.fromkeys(keys) if started is None or k not in started.index]
        parsing = self.annotator.submit(missing) if self.annotator and missing else None
        vectors = embed_array(self.embeddings, [embedding_text(a, c) for a, c in pairs])
        article_vectors = self._article_vectors(chunk_lists, vectors)

        keep: list[int] = []
        duplicates: list[tuple[int, str]] = []
        seen: list[tuple[Article, np.ndarray, set[int]]] = []
        stored = self._stored_candidates(todo, article_vectors)
        for i, article in enumerate(todo):
            mine = shingles(article.body)
            canonical = self._find_duplicate(article, article_vectors[i], mine, seen, stored[i])
            if canonical is not None:
                duplicates.append((i, canonical))
                continue
            keep.append(i)
            seen.append((article, article_vectors[i], mine))

        kept = [todo[i] for i in keep]
        counts = [len(chunk_lists[i]) for i in keep]
        kept_vectors = article_vectors[keep] if keep else np.zeros((0, vectors.shape[1]), np.float32)
        kept_ids = {a.id for a in kept}
        chunk_rows = [i for i, (a, _) in enumerate(pairs) if a.id in kept_ids]

        seq = self.store.generation() + 1
        self.store.begin_batch(seq)
        self.store.mark(kept, kept_vectors, STATUS_PENDING, counts, seq)
        self.store.delete_chunks(a.id for a in kept if a.id in existing)
        self.store.upsert_chunks([pairs[i] for i in chunk_rows], vectors[chunk_rows])
        if self.annotator is not None and chunk_rows:
            payloads = started.payloads() if started is not None else {}
            if parsing is not None:
                payloads.update(zip(missing, parsing.result(), strict=True))
            self.store.upsert_annotations(
                [(pairs[i][1].id, pairs[i][0].id) for i in chunk_rows],
                [payloads[keys[i]] for i in chunk_rows],
                self.annotator.pipeline,
            )
        self.store.mark(kept, kept_vectors, STATUS_COMPLETE, counts, seq)
        report.chunks_written += len(chunk_rows)
        for article, n in zip(kept, counts, strict=True):
            status = "updated" if article.id in existing else "added"
            note = resolution.notes.get(article.id, "")
            emit(ItemResult(article.source, status, article.title, article.outlet, n, note))
        # After the canonical articles are stored, so a copy in the same batch can point at them.
        for i, canonical in duplicates:
            article = todo[i]
            self.store.record_duplicate(article, article_vectors[i], canonical, seq)
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
        # The lexical index commits this generation before the store announces it, so a reader
        # that sees the new generation finds the lexical index already there (or catches up).
        if self.lexical is not None:
            written = [_chunk_record(pairs[i][0], pairs[i][1]) for i in chunk_rows]
            self.lexical.replace([a.id for a in todo], written, vectors[chunk_rows], seq, self.store.store_id)
        self.store.set_generation(seq)
        return True

    def _chunks(self, article: Article, started: _Parsing | None) -> list[Chunk]:
        """The article's chunks, as split when its parses were started if its text is the same."""
        body, chunks = started.chunks.get(article.id, ("", [])) if started is not None else ("", [])
        return chunks if chunks and body == article.body else self.chunker.split(article.id, article.body)

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

    def _stored_candidates(self, articles: Sequence[Article], vectors: np.ndarray) -> list[list[tuple[str, str]]]:
        """Per article: (id, body) of stored complete articles close enough to compare word by word.

        One vector query and one body read for the whole batch (per article, they were two
        round trips through a filtered query whose cost grew with the store).
        """
        similar = self.store.similar_articles(vectors)
        close = [
            [other for other, cosine in found if other != a.id and cosine >= _DUPLICATE_CANDIDATE_COSINE]
            for a, found in zip(articles, similar, strict=True)
        ]
        bodies = self.store.article_bodies([other for ids in close for other in ids])
        return [[(other, bodies[other]) for other in ids if other in bodies] for ids in close]

    def _find_duplicate(
        self,
        article: Article,
        vector: np.ndarray,
        mine: set[int],
        seen: list[tuple[Article, np.ndarray, set[int]]],
        stored: list[tuple[str, str]],
    ) -> str | None:
        """Id of an already indexed article (this batch's, then the store's) that is the same wire story, if any."""
        for other, other_vector, other_shingles in seen:
            if (
                float(vector @ other_vector) >= _DUPLICATE_CANDIDATE_COSINE
                and jaccard(mine, other_shingles) >= self.near_duplicate_threshold
                and not self._conflict(article.body, other.body)
            ):
                return other.id
        for other_id, body in stored:
            if jaccard(mine, shingles(body)) >= self.near_duplicate_threshold and not self._conflict(
                article.body, body
            ):
                return other_id
        return None

    def _conflict(self, a: str, b: str) -> bool:
        return a != b and self.conflicts is not None and self.conflicts(a, b)

    # ------------------------------------------------------------------ consistency
    def repair(self) -> None:
        """Finish what an interrupted ingest left: announce its generation, catch the lexical index up."""
        self.store.refresh_vectors()
        generation = self.store.generation()
        newer = [r.seq for r in self.store.records_since(generation)]
        if newer:
            self.store.set_generation(max(newer))
        if self.lexical is not None:
            self.lexical.sync(self.store)
        self.store.migrate_annotations()  # an index whose parses are in Chroma metadata (before the SQLite table)
        self._annotate_missing()

    def _annotate_missing(self, page: int = 500) -> None:
        """Parse chunks stored without annotations (an index built before them, or with another model)."""
        if self.annotator is None:
            return
        # The lexical index was just caught up, so its count is the store's, without opening every shard.
        stored = self.lexical.chunk_count() if self.lexical is not None else self.store.chunk_count()
        if stored == 0:
            return  # nothing stored: spaCy need not even be loaded
        if self.store.annotations_complete(self.annotator.pipeline, stored):
            return
        missing = self.store.unannotated_chunk_ids(self.annotator.pipeline)
        if not missing:
            return
        log.info("annotating %d chunks stored without spaCy parses", len(missing))
        for start in range(0, len(missing), page):
            chunks = list(self.store.chunks_by_id(missing[start : start + page]).values())
            payloads = self.annotator.submit([(c.title, c.text) for c in chunks]).result()
            self.store.upsert_annotations([(c.id, c.article_id) for c in chunks], payloads, self.annotator.pipeline)


@dataclass(slots=True)
class _Parsing:
    """Parses started for ``(title, chunk text)`` keys; the payload of each key once they are done."""

    keys: list[tuple[str, str]]
    pending: PendingParses
    chunks: dict[str, tuple[str, list[Chunk]]]  # article id -> (the body split, its chunks)
    index: set[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.index = set(self.keys)

    def payloads(self) -> dict[tuple[str, str], bytes]:
        return dict(zip(self.keys, self.pending.result(), strict=True))


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A batch read ahead: its articles, the lines its reading produced, its parses under way."""

    articles: list[Article]
    lines: list[ItemResult]
    parsing: _Parsing | None


def _chunk_record(article: Article, chunk: Chunk) -> ChunkRecord:
    return ChunkRecord(
        id=chunk.id,
        article_id=article.id,
        index=chunk.index,
        text=chunk.text,
        start=chunk.start,
        end=chunk.end,
        tokens=chunk.tokens,
        title=article.title,
        outlet=article.outlet,
        url=article.url,
        published_at=article.published_at,
    )


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _WriterLock:
    """``filelock`` on the data dir, plus a pid file so the second writer can say who holds it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = filelock.FileLock(str(path), timeout=0)
        self._pid_file = path.with_suffix(".pid")

    def __enter__(self) -> None:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            try:
                holder = self._pid_file.read_text().strip() or "?"
            except OSError:
                holder = "?"
            raise StoreError(f"another ingest is running (pid {holder})") from None
        self._pid_file.write_text(str(os.getpid()))

    def __exit__(self, *exc: object) -> None:
        self._pid_file.unlink(missing_ok=True)
        self._lock.release()
