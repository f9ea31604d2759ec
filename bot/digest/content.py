"""What a window holds: its dated articles and their first chunks, read straight from the index.

Nothing is embedded here: chunk and article vectors come from the store, so
loading a window of hundreds of articles costs two Chroma reads.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

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


def _int(value: object, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).strip() else default


def _ts_range(window: Window) -> list[dict[str, Any]]:
    return [
        {"published_ts": {"$gte": int(window.start.timestamp())}},
        {"published_ts": {"$lt": int(window.end.timestamp())}},
    ]


def _coverage(raw: object) -> tuple[Coverage, ...]:
    try:
        entries = json.loads(str(raw or "[]"))
    except json.JSONDecodeError:
        return ()
    return tuple(
        Coverage(str(e.get("outlet", "")), str(e.get("url") or "") or None, str(e.get("id", "")))
        for e in entries
        if isinstance(e, dict)
    )


def _with_copies(article: WindowArticle, copies: list[Coverage]) -> WindowArticle:
    known = {c.article_id for c in article.also_in}
    extra = tuple(c for c in copies if c.article_id not in known)
    return replace(article, also_in=article.also_in + extra) if extra else article


def count_undated(store: ChunkStore) -> int:
    where: Any = {"$and": [{"published_ts": -1}, {"status": STATUS_COMPLETE}]}
    result = store.articles.get(where=where, include=[])
    return len(result["ids"])


def load_window(store: ChunkStore, window: Window, max_chunks: int = DEFAULT_MAX_CHUNKS) -> WindowContent:
    """The window's complete articles and their first ``max_chunks`` chunks with vectors."""
    in_window: Any = {"$and": _ts_range(window)}
    records = store.articles.get(where=in_window, include=["metadatas"])
    articles: list[WindowArticle] = []
    copies_of: dict[str, list[Coverage]] = defaultdict(list)
    copies = pending = 0
    for rid, meta in zip(records["ids"], records["metadatas"] or [], strict=True):
        meta = dict(meta or {})
        status = str(meta.get("status", ""))
        if status == STATUS_DUPLICATE:
            copies += 1
            canonical = str(meta.get("duplicate_of") or "")
            if canonical:
                copies_of[canonical].append(
                    Coverage(str(meta.get("outlet", "")), str(meta.get("url") or "") or None, rid)
                )
            continue
        if status != STATUS_COMPLETE:
            pending += 1
            continue
        published = str(meta.get("published_at") or "")
        if not published:
            continue
        articles.append(
            WindowArticle(
                id=rid,
                title=str(meta.get("title", "")),
                outlet=str(meta.get("outlet", "")),
                url=str(meta.get("url") or "") or None,
                published_at=datetime.fromisoformat(published),
                category=str(meta.get("category") or "") or None,
                also_in=_coverage(meta.get("also_in")),
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
        first_chunks: Any = {"$and": [*_ts_range(window), {"chunk_index": {"$lt": max_chunks}}]}
        result = store.chunks.get(
            where=first_chunks,
            include=["documents", "metadatas", "embeddings"],
        )
        rows = []
        embeddings = result["embeddings"] if result["embeddings"] is not None else []
        for cid, doc, meta, vector in zip(
            result["ids"], result["documents"] or [], result["metadatas"] or [], embeddings, strict=True
        ):
            meta = dict(meta or {})
            article_id = str(meta.get("article_id", ""))
            if article_id not in by_id:
                continue
            chunk = WindowChunk(
                id=cid,
                article_id=article_id,
                index=_int(meta.get("chunk_index")),
                text=doc or "",
                start=_int(meta.get("start")),
                end=_int(meta.get("end")),
            )
            rows.append((by_id[article_id].published_at, article_id, chunk.index, chunk, vector))
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
        undated=count_undated(store),
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
