"""What a window holds: its dated articles and their first chunks, read straight from the index.

Nothing is embedded here: chunk vectors come from the store (its typed repository methods),
so loading a window of hundreds of articles costs two store reads.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from bot.digest.protocols import WindowChunks
from bot.digest.window import Window
from index.store import STATUS_COMPLETE, STATUS_DUPLICATE, ChunkStore

log = logging.getLogger(__name__)

# Chunks per article considered: ledes carry the story; long tails would only cost time.
DEFAULT_MAX_CHUNKS = 8


@dataclass(frozen=True, slots=True)
class Coverage:
    """One outlet carrying an article: the article itself or a near-duplicate wire copy."""

    outlet: str
    url: str | None
    article_id: str


@dataclass(frozen=True, slots=True)
class WindowArticle:
    id: str
    title: str
    outlet: str
    url: str | None
    published_at: datetime
    category: str | None
    also_in: tuple[Coverage, ...] = ()

    @property
    def outlets(self) -> tuple[str, ...]:
        """Distinct outlets, the article's own first, then its wire copies'."""
        seen: list[str] = []
        for name in (self.outlet, *(c.outlet for c in self.also_in)):
            if name and name not in seen:
                seen.append(name)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class WindowChunk:
    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int


@dataclass(slots=True)
class WindowContent:
    """Articles by id (oldest first), their chunks and one unit vector per chunk (same order)."""

    window: Window
    articles: dict[str, WindowArticle]
    chunks: list[WindowChunk]
    vectors: np.ndarray
    undated: int = 0
    copies: int = 0
    skipped_pending: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.chunks


def _with_copies(article: WindowArticle, copies: list[Coverage]) -> WindowArticle:
    known = {c.article_id for c in article.also_in}
    extra = tuple(c for c in copies if c.article_id not in known)
    return replace(article, also_in=article.also_in + extra) if extra else article


def load_window(
    store: ChunkStore, window: Window, max_chunks: int = DEFAULT_MAX_CHUNKS, chunks_from: WindowChunks | None = None
) -> WindowContent:
    """The window's complete articles and their first ``max_chunks`` chunks with vectors."""
    articles: list[WindowArticle] = []
    copies_of: dict[str, list[Coverage]] = defaultdict(list)
    copies = pending = 0
    for record in store.articles_published(window.start, window.end):
        if record.status == STATUS_DUPLICATE:
            copies += 1
            if record.duplicate_of:
                copies_of[record.duplicate_of].append(Coverage(record.outlet, record.url, record.id))
            continue
        if record.status != STATUS_COMPLETE:
            pending += 1
            continue
        if record.published_at is None:
            continue
        articles.append(
            WindowArticle(
                id=record.id,
                title=record.title,
                outlet=record.outlet,
                url=record.url,
                published_at=record.published_at,
                category=record.category,
                also_in=tuple(Coverage(c.outlet, c.url, c.id) for c in record.copies),
            )
        )
    # Copies ingested in the same batch as their canonical article are not always listed
    # in its ``also_in``; the copies' own ``duplicate_of`` pointers fill the gap.
    articles = [_with_copies(a, copies_of.get(a.id, [])) for a in articles]
    articles.sort(key=lambda a: (a.published_at, a.id))
    by_id = {a.id: a for a in articles}

    chunks: list[WindowChunk] = []
    vectors: list[np.ndarray] = []
    if by_id:
        stored_chunks, matrix_in = (chunks_from or store).first_chunks(window.start, window.end, max_chunks)
        rows = []
        for stored, vector in zip(stored_chunks, matrix_in, strict=True):
            if stored.article_id not in by_id:
                continue
            chunk = WindowChunk(
                id=stored.id,
                article_id=stored.article_id,
                index=stored.index,
                text=stored.text,
                start=stored.start,
                end=stored.end,
            )
            rows.append((by_id[stored.article_id].published_at, stored.article_id, chunk.index, chunk, vector))
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        for *_, chunk, vector in rows:
            chunks.append(chunk)
            vectors.append(np.asarray(vector, dtype=np.float32))
    with_chunks = {c.article_id for c in chunks}
    by_id = {k: v for k, v in by_id.items() if k in with_chunks}
    matrix = np.stack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)
    if len(matrix):
        matrix = matrix / np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12, None)
    content = WindowContent(
        window=window,
        articles=by_id,
        chunks=chunks,
        vectors=matrix,
        undated=store.undated_article_count(),
        copies=copies,
        skipped_pending=pending,
    )
    if pending:
        content.notes.append(f"{pending} article(s) in this window are still being indexed and were left out.")
    log.info(
        "window %s: %d articles, %d chunks, %d copies, %d undated in index",
        window.key,
        len(by_id),
        len(chunks),
        copies,
        content.undated,
    )
    return content
