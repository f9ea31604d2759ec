"""Where the store keeps each chunk's spaCy parse (``DocBin`` bytes): a SQLite table beside Chroma.

The parses were first kept base64 in the metadata of a ``<collection>-annotations`` Chroma
collection; Chroma indexes metadata strings, so ~5 KB of parse per chunk took ~3x that on disk
and doubled the index. An embedded store keeps them in a SQLite file inside the Chroma folder
(copied, backed up and removed with it), rows keyed by chunk id, blobs stored as they are. A
Chroma server has no folder of ours: there the collection stays (:class:`ChromaAnnotations`).

Both are written by :class:`index.store.ChunkStore` in the same crash-safe order: after the
chunks, before the article is marked complete, deleted with the chunks.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, cast

import numpy as np
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where

log = logging.getLogger(__name__)

# Ids per SQL statement: below SQLite's default limit of bound parameters (32,766), few round trips.
_IDS_PER_QUERY = 900


class AnnotationTable(Protocol):
    """Chunk id -> (article id, pipeline, parse bytes)."""

    def upsert(self, chunks: Sequence[tuple[str, str]], payloads: Sequence[bytes], pipeline: str) -> None: ...

    def get(self, chunk_ids: Sequence[str], pipeline: str) -> dict[str, bytes]: ...

    def delete_articles(self, article_ids: Sequence[str]) -> None: ...

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None: ...

    def count(self) -> int: ...

    def all_by(self, pipeline: str) -> bool:
        """Every row made by ``pipeline`` (an empty table too)."""
        ...

    def ids_by(self, pipeline: str) -> set[str]: ...


class SqliteAnnotations:
    """The parses of an embedded store, in one SQLite file (WAL: readers in other processes see commits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads of a served bot, behind a lock.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A commit survives the process being killed; after a power cut the last ones may be
            # lost, which the next ingest's repair finds (more chunks than parses) and parses again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS parses ("
                " chunk_id TEXT PRIMARY KEY, article_id TEXT NOT NULL, pipeline TEXT NOT NULL, docs BLOB NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS parses_article ON parses (article_id)")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def upsert(self, chunks: Sequence[tuple[str, str]], payloads: Sequence[bytes], pipeline: str) -> None:
        """One transaction for the batch: all of its parses are stored, or none."""
        rows = [(cid, aid, pipeline, data) for (cid, aid), data in zip(chunks, payloads, strict=True)]
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO parses VALUES (?, ?, ?, ?)", rows)

    def get(self, chunk_ids: Sequence[str], pipeline: str) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        ids = list(dict.fromkeys(chunk_ids))
        with self._lock:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                part = ids[start : start + _IDS_PER_QUERY]
                marks = ",".join("?" * len(part))
                query = f"SELECT chunk_id, docs FROM parses WHERE pipeline = ? AND chunk_id IN ({marks})"
                out.update((cid, bytes(data)) for cid, data in self._db.execute(query, [pipeline, *part]))
        return out

    def _delete(self, column: str, values: Sequence[str]) -> None:
        values = list(dict.fromkeys(values))
        if not values:
            return
        with self._transaction() as db:
            for start in range(0, len(values), _IDS_PER_QUERY):
                part = values[start : start + _IDS_PER_QUERY]
                db.execute(f"DELETE FROM parses WHERE {column} IN ({','.join('?' * len(part))})", part)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        self._delete("article_id", article_ids)

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        self._delete("chunk_id", chunk_ids)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM parses").fetchone()[0])

    def all_by(self, pipeline: str) -> bool:
        with self._lock:
            other = self._db.execute("SELECT 1 FROM parses WHERE pipeline != ? LIMIT 1", (pipeline,)).fetchone()
        return other is None

    def ids_by(self, pipeline: str) -> set[str]:
        with self._lock:
            return {cid for (cid,) in self._db.execute("SELECT chunk_id FROM parses WHERE pipeline = ?", (pipeline,))}

    def close(self) -> None:
        with self._lock:
            self._db.close()


class ChromaAnnotations:
    """The parses in a Chroma collection, base64 in metadata: a Chroma server's store, and indexes built
    before the SQLite table (read once by :func:`migrate`)."""

    def __init__(self, collection: Collection, batch_size: int) -> None:
        self.collection = collection
        self.batch_size = max(1, min(batch_size, 1000))

    def upsert(self, chunks: Sequence[tuple[str, str]], payloads: Sequence[bytes], pipeline: str) -> None:
        for start in range(0, len(chunks), self.batch_size):
            part = chunks[start : start + self.batch_size]
            self.collection.upsert(
                ids=[cid for cid, _ in part],
                embeddings=np.zeros((len(part), 1), dtype=np.float32),  # Chroma wants a vector; none is searched
                metadatas=[
                    {"article_id": aid, "pipeline": pipeline, "docs": base64.b64encode(data).decode("ascii")}
                    for (_, aid), data in zip(part, payloads[start : start + self.batch_size], strict=True)
                ],
            )

    def get(self, chunk_ids: Sequence[str], pipeline: str) -> dict[str, bytes]:
        if not chunk_ids:
            return {}
        result = self.collection.get(ids=list(dict.fromkeys(chunk_ids)), include=["metadatas"])
        out: dict[str, bytes] = {}
        for cid, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
            meta = meta or {}
            if meta.get("pipeline") == pipeline and meta.get("docs"):
                out[cid] = base64.b64decode(str(meta["docs"]))
        return out

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            self.collection.delete(where=cast(Where, {"article_id": {"$in": list(article_ids)}}))

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        if chunk_ids:
            self.collection.delete(ids=list(chunk_ids))

    def count(self) -> int:
        return self.collection.count()

    def all_by(self, pipeline: str) -> bool:
        """A sampled row: one cheap read (a model change half-migrated may be missed; its stale
        parses are never used, only re-parsed when asked)."""
        sample = self.collection.get(limit=1, include=["metadatas"])
        metas = sample["metadatas"] or []
        return not metas or (metas[0] or {}).get("pipeline") == pipeline

    def ids_by(self, pipeline: str) -> set[str]:
        return set(self.collection.get(where=cast(Where, {"pipeline": pipeline}), include=[])["ids"])

    def pages(self, page: int = 500) -> Iterator[list[tuple[str, str, str, bytes]]]:
        """Every row as (chunk id, article id, pipeline, bytes), ``page`` at a time."""
        offset = 0
        while True:
            result = self.collection.get(limit=page, offset=offset, include=["metadatas"])
            if not result["ids"]:
                return
            rows = []
            for cid, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
                meta = meta or {}
                if meta.get("docs"):
                    rows.append(
                        (
                            cid,
                            str(meta.get("article_id", "")),
                            str(meta.get("pipeline", "")),
                            base64.b64decode(str(meta["docs"])),
                        )
                    )
            yield rows
            offset += len(result["ids"])


def migrate(legacy: ChromaAnnotations, table: SqliteAnnotations) -> int:
    """Copy the parses of an index built before the SQLite table into it; the caller then drops the
    collection. Idempotent (a copy interrupted is redone whole by the next repair). Rows copied."""
    copied = 0
    for rows in legacy.pages():
        by_pipeline: dict[str, list[tuple[str, str, bytes]]] = {}
        for cid, aid, pipeline, data in rows:
            by_pipeline.setdefault(pipeline, []).append((cid, aid, data))
        for pipeline, items in by_pipeline.items():
            table.upsert([(cid, aid) for cid, aid, _ in items], [data for _, _, data in items], pipeline)
            copied += len(items)
    return copied
