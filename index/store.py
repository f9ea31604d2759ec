"""The Chroma-backed store: chunks in bounded collection shards, one collection of articles, behind typed methods.

Chroma stays inside ``index/``: callers get :class:`ArticleRecord`, :class:`ChunkRecord` and
:class:`StoredArticle` from repository methods (articles in a window, first chunks, complete
articles since, dense search within article ids, records by id, ...) and never see a
``where`` filter or a metadata key.

Chunks live in shards of at most ``shard_chunks`` (the first shard is the collection named by
``collection``, so a store from before shards is shard 0 as it stands): chromadb loads a
collection's whole HNSW index on its first access in a process, so a writer that appended to one
collection of every chunk paid a load that grew with the corpus on every ingest. New articles
go to the current shard (the next one once it is full); an article's record names its shard and
a re-ingest rewrites its chunks there, so deleting them touches one bounded shard, never all.

The same code serves the embedded persistent client and a Chroma server. The
articles collection is the ingest manifest (content hash, status, outlets of
near-duplicate copies), so a server deployment keeps all state in one place.

Write protocol per batch, which makes ``kill -9`` at any point safe to rerun:
1. article records are upserted with ``status="pending"`` and the new hash;
2. the article's old chunks (and their spaCy parses) are deleted, the new chunks upserted
   (deterministic ids), then their parses (:mod:`index.annotation_table`: SQLite beside an
   embedded store);
3. the records are marked ``status="complete"``.
A rerun redoes any article whose record is not complete with the same hash.

Every record written by a batch carries that batch's ``seq``; after the batch, the store's
generation (one record in a small state collection, read fresh on every call, unlike the
collection metadata chromadb caches per process) is raised to it. A lexical index that
reflects generation g catches up by re-reading the articles with ``seq > g``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast
from uuid import UUID

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from bot.core.errors import IndexMismatchError, StoreError
from index.annotation_table import AnnotationTable, ChromaAnnotations, SqliteAnnotations, migrate
from index.embeddings import NamedEmbeddings
from index.models import Article, Chunk, Reference

log = logging.getLogger(__name__)

STATUS_PENDING = "pending"
STATUS_COMPLETE = "complete"
STATUS_DUPLICATE = "duplicate"
_GENERATION_ID = "generation"
_SHARD_ID = "chunk-shard"
_BATCH_ID = "batch"  # the seq of the last batch begun (its records may be written before the generation moves)
# Chunks per shard: loading a shard's HNSW index costs ~5 us a chunk, so ~0.1 s for a full one.
DEFAULT_SHARD_CHUNKS = 20_000
# Writes a collection's HNSW index keeps only in Chroma's log before saving it: whoever opens the
# collection next replays them (~1 ms each at 384 dimensions, 0.54 s for 550 pending at 20,000 chunks;
# Chroma's default of 1,000 made an ingest's cost swing with where each collection was in its cycle).
# Saving every 100 writes costs ~50 ms every other 5-article ingest instead.
HNSW_SYNC_THRESHOLD = 100


def make_client(
    data_dir: Path | None, host: str | None = None, port: int = 8000, ssl: bool = False, *, fresh: bool = False
) -> ClientAPI:
    """Embedded persistent client in ``data_dir``, or an HTTP client when ``host`` is set.

    ``fresh`` opens the embedded store anew: chromadb keeps one system per folder and process,
    whose vector index does not see another process's writes (queries then fail with
    "Error finding id"); a reader that saw the generation move opens a new one.
    """
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        if data_dir is None:
            raise StoreError("no data directory configured for the embedded Chroma store")
        data_dir.mkdir(parents=True, exist_ok=True)
        if fresh:
            _forget_cached_system(str(data_dir))
        return chromadb.PersistentClient(path=str(data_dir), settings=settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
        where = f"{host}:{port}" if host else str(data_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc


def _forget_cached_system(path: str) -> None:
    """Drop chromadb's cached system for ``path`` (not stopped: older collections may still use it)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An article as the manifest knows it (no body)."""

    id: str
    title: str
    outlet: str
    url: str | None
    published_at: datetime | None
    author: str | None
    category: str | None
    status: str
    content_hash: str
    duplicate_of: str | None
    also_in: tuple[str, ...]
    references: tuple[Reference, ...]
    chunk_count: int
    source: str
    copies: tuple[ArticleCopy, ...] = ()  # near-duplicate copies: outlet, URL and id of each
    seq: int = 0  # the generation of the batch that last wrote this record (0: before generations)
    guid: str | None = None  # the feed entry's GUID (None: not from a feed, or stored before GUIDs were)
    shard: int = 0  # the chunk shard holding its chunks (0: also every record from before shards)


@dataclass(frozen=True, slots=True)
class ArticleCopy:
    """A near-duplicate copy of an article, carried by another outlet."""

    id: str
    outlet: str
    url: str | None


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A stored passage with the article fields every chunk carries (so no join is needed)."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int
    tokens: int
    title: str
    outlet: str
    url: str | None
    published_at: datetime | None

    @property
    def published_ts(self) -> int:
        """Publication time in epoch seconds, -1 when unknown."""
        return _ts(self.published_at)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """A complete article with its cleaned body and its vector (the mean of its chunks' vectors)."""

    record: ArticleRecord
    body: str
    vector: np.ndarray


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _ts(value: datetime | None) -> int:
    return int(value.timestamp()) if value else -1


def article_metadata(article: Article) -> dict[str, str | int | float | bool]:
    """Per-article fields copied onto every chunk so filters and citations need no join."""
    return {
        "article_id": article.id,
        "title": article.title,
        "outlet": article.outlet,
        "outlet_key": article.outlet.strip().lower(),
        "url": article.url or "",
        "published_at": _iso(article.published_at),
        "published_ts": _ts(article.published_at),
        "date_known": article.published_at is not None,
        "author": article.author or "",
        "category": article.category or "",
    }


class ChunkStore:
    """Chunks and article records in Chroma, guarded against mixing embedding models."""

    def __init__(
        self,
        client: ClientAPI,
        collection: str,
        embeddings: NamedEmbeddings,
        reopen: Callable[[], ClientAPI] | None = None,
        shard_chunks: int = DEFAULT_SHARD_CHUNKS,
    ) -> None:
        """``reopen`` gives a fresh embedded client (see :func:`make_client`); None for a server.
        ``shard_chunks``: how many chunks new articles put in one shard before the next is opened."""
        self._client = client
        self.shard_chunks = max(1, shard_chunks)
        self._reopen = reopen
        self.embeddings = embeddings
        self.collection_name = collection
        # An embedded store keeps its parses in SQLite inside its folder; a server in a collection.
        chroma = client.get_settings()
        self._sqlite_annotations = (
            SqliteAnnotations(Path(chroma.persist_directory) / f"factdesk-annotations-{collection}.sqlite3")
            if chroma.is_persistent and chroma.persist_directory
            else None
        )
        self._open_all()
        self._seen_generation = self.generation()
        self._vectors_stale = False

    def _open_all(self) -> None:
        collection = self.collection_name
        try:
            self._chunks = self._open(collection, kind="chunks")  # shard 0
            self._store_id = str(self._chunks.id)
            self._shards: dict[int, Collection] = {}
            self._tuned: set[UUID] = set()  # collections this process has set to save their HNSW often
            self._articles = self._open(f"{collection}-articles", kind="articles")
            self._state = self._open(f"{collection}-state", kind="state")
            self._annotations: AnnotationTable = self._sqlite_annotations or ChromaAnnotations(
                self._open(self._legacy_annotations_name, kind="annotations", space="l2"),
                self._client.get_max_batch_size(),
            )
        except (IndexMismatchError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {collection!r}: {exc}") from exc

    # ------------------------------------------------------------------ shards
    def _shard(self, number: int) -> Collection:
        """Chunk shard ``number``, opened (or created) on first use in this process."""
        if number == 0:
            return self._chunks
        found = self._shards.get(number)
        if found is None:
            found = self._open(f"{self.collection_name}-chunks-{number}", kind="chunks")
            self._shards[number] = found
        return found

    def _shard_state(self) -> tuple[int, int] | None:
        """(current shard, chunks placed in it); None for a store from before shards."""
        result = self._state.get(ids=[_SHARD_ID], include=["metadatas"])
        metas = result["metadatas"] or []
        if not metas:
            return None
        meta = metas[0] or {}
        return _int(meta.get("shard")), _int(meta.get("chunks"))

    def _shard_numbers(self) -> range:
        """Every shard that may hold chunks (readers of all chunks: a rebuild, counts, a migration)."""
        state = self._shard_state()
        return range((state[0] if state else 0) + 1)

    def _place(self, chunks: int) -> int:
        """The shard for new articles' ``chunks``: the current one, or the next once it is full.

        Written before the chunks are: a crash after it only over-counts a shard's fill.
        """
        state = self._shard_state()
        shard, filled = state if state is not None else (0, self._chunks.count())  # counted once, then recorded
        if filled and filled + chunks > self.shard_chunks:
            shard, filled = shard + 1, 0
        vector = np.zeros((1, 1), dtype=np.float32)
        self._state.upsert(ids=[_SHARD_ID], embeddings=vector, metadatas=[{"shard": shard, "chunks": filled + chunks}])
        return shard

    def _by_shard(self, article_ids: Iterable[str]) -> dict[int, list[str]]:
        """These articles grouped by the shard their records name (unknown ids left out)."""
        grouped: dict[int, list[str]] = {}
        for rid, record in self.get_records(list(dict.fromkeys(article_ids))).items():
            grouped.setdefault(record.shard, []).append(rid)
        return grouped

    @property
    def _legacy_annotations_name(self) -> str:
        return f"{self.collection_name}-annotations"

    def follow(self, generation: int) -> None:
        """Called when a reader sees ``generation``; marks an embedded store written elsewhere as stale.

        Documents and metadata written by another process are read fine; vectors are not (an
        embedded chromadb vector reader fails with "Error finding id"), so the client is reopened
        only before vectors are read (a catch-up), not on every change.
        """
        if generation != self._seen_generation and self._reopen is not None:
            self._vectors_stale = True
        self._seen_generation = generation

    def _fresh_vectors(self) -> None:
        """Before reading or searching vectors: reopen an embedded store another process wrote to."""
        if self._reopen is None:
            return
        generation = self.generation()
        if self._vectors_stale or generation != self._seen_generation:
            log.info("index written by another process: reopening the store before reading vectors")
            self._client = self._reopen()
            self._open_all()
        self._seen_generation = generation
        self._vectors_stale = False

    def refresh_vectors(self) -> None:
        """A writer's start (under the ingest lock): see vectors other processes wrote before it."""
        self._fresh_vectors()

    def prepare_writes(self) -> None:
        """A writer's start: the article and state collections save their HNSW index every
        ``HNSW_SYNC_THRESHOLD`` writes (a chunk shard is set so on its first write)."""
        self._save_hnsw_often(self._articles)
        self._save_hnsw_often(self._state)

    def _save_hnsw_often(self, collection: Collection) -> None:
        """Collections made before ``HNSW_SYNC_THRESHOLD`` keep Chroma's 1,000 until a writer lowers it."""
        if collection.id in self._tuned:
            return
        self._tuned.add(collection.id)
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if int(hnsw.get("sync_threshold") or 0) <= HNSW_SYNC_THRESHOLD:
            return
        try:
            collection.modify(
                configuration={"hnsw": {"sync_threshold": HNSW_SYNC_THRESHOLD, "batch_size": HNSW_SYNC_THRESHOLD}}
            )
        except Exception as exc:  # an optimisation: a server that refuses it still stores everything
            log.warning("collection %s keeps its HNSW sync threshold: %s", collection.name, exc)

    def _open(self, name: str, kind: str, space: Literal["cosine", "l2"] = "cosine") -> Collection:
        collection = self._client.get_or_create_collection(
            name,
            configuration={
                "hnsw": {"space": space, "sync_threshold": HNSW_SYNC_THRESHOLD, "batch_size": HNSW_SYNC_THRESHOLD}
            },
            metadata={"embedding_model": self.embeddings.model_name, "kind": kind},
            embedding_function=None,
        )
        built_with = (collection.metadata or {}).get("embedding_model")
        if built_with and built_with != self.embeddings.model_name:
            raise IndexMismatchError(
                f"the index at collection {name!r} was built with embedding model {built_with!r}, "
                f"but {self.embeddings.model_name!r} is configured; use another data dir or collection, "
                "or rebuild the index"
            )
        return collection

    # ------------------------------------------------------------------ manifest
    def get_records(self, ids: Sequence[str] | None = None) -> dict[str, ArticleRecord]:
        """Article records by id (all when ``ids`` is None)."""
        if ids is not None and not ids:
            return {}
        result = self._articles.get(ids=list(ids) if ids is not None else None, include=["metadatas"])
        records: dict[str, ArticleRecord] = {}
        for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
            records[rid] = _record_from_meta(rid, dict(meta or {}))
        return records

    def article_body(self, article_id: str) -> str | None:
        result = self._articles.get(ids=[article_id], include=["documents"])
        docs = result["documents"] or []
        return docs[0] if docs else None

    def ids_by_guid(self, guids: Sequence[str]) -> dict[str, list[str]]:
        """Ids of the records stored with each feed GUID, complete ones first (records written
        before GUIDs were stored have none and match nothing)."""
        wanted = list(dict.fromkeys(g for g in guids if g))
        if not wanted:
            return {}
        where = cast(Where, {"guid": {"$in": wanted}})
        result = self._articles.get(where=where, include=["metadatas"])
        found: dict[str, list[tuple[bool, str]]] = {}
        for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
            meta = meta or {}
            found.setdefault(str(meta.get("guid")), []).append((meta.get("status") != STATUS_COMPLETE, rid))
        return {guid: [rid for _, rid in sorted(pairs)] for guid, pairs in found.items()}

    def set_guid(self, article_id: str, guid: str) -> None:
        """Record a feed GUID on a stored article whose text did not change (a store from before GUIDs)."""
        stored = self._articles.get(ids=[article_id], include=["metadatas"])
        if stored["ids"]:
            meta = dict((stored["metadatas"] or [{}])[0] or {})
            meta["guid"] = guid
            self._articles.update(ids=[article_id], metadatas=[meta])

    def similar_articles(self, vectors: np.ndarray, n: int = 3) -> list[list[tuple[str, float]]]:
        """(id, cosine similarity) of the ``n`` nearest complete articles to each of ``vectors``.

        One query for the whole batch and no ``where`` filter: chromadb's filtered query scans
        every record's metadata (35 ms per article at 2,000 articles, growing with the store),
        an unfiltered one walks the graph. Records that are not complete are dropped from a
        few more neighbours than asked for.
        """
        if not len(vectors) or self._articles.count() == 0:
            return [[] for _ in range(len(vectors))]
        result = self._articles.query(
            query_embeddings=np.asarray(vectors, dtype=np.float32),
            n_results=3 * n,
            include=["distances", "metadatas"],
        )
        out: list[list[tuple[str, float]]] = []
        for ids, distances, metas in zip(
            result["ids"], result["distances"] or [], result["metadatas"] or [], strict=True
        ):
            found = [
                (i, 1.0 - float(d))
                for i, d, meta in zip(ids, distances, metas, strict=True)
                if (meta or {}).get("status") == STATUS_COMPLETE
            ]
            out.append(found[:n])
        return out

    def article_bodies(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Cleaned bodies of these articles by id (unknown ids left out)."""
        if not article_ids:
            return {}
        result = self._articles.get(ids=list(dict.fromkeys(article_ids)), include=["documents"])
        return {rid: doc or "" for rid, doc in zip(result["ids"], result["documents"] or [], strict=True)}

    def mark(
        self, articles: Sequence[Article], vectors: np.ndarray, status: str, chunk_counts: Sequence[int], seq: int
    ) -> None:
        """Upsert article records with ``status`` (pending before chunk writes, complete after)."""
        if not articles:
            return
        previous = self._articles.get(ids=[a.id for a in articles], include=["metadatas"])
        before = {rid: meta or {} for rid, meta in zip(previous["ids"], previous["metadatas"] or [], strict=True)}
        also_in = {rid: str(meta.get("also_in") or "[]") for rid, meta in before.items()}
        shards = self._shards_for(articles, chunk_counts, before)
        # The body goes in with the complete record only: chromadb indexes every document's
        # words, and a pending record's body is never read (an upsert without documents keeps
        # the stored one, so a re-ingest interrupted here still has the old text).
        bodies = {"documents": [a.body for a in articles]} if status == STATUS_COMPLETE else {}
        self._articles.upsert(
            ids=[a.id for a in articles],
            embeddings=vectors,
            **bodies,  # type: ignore[arg-type]
            metadatas=[
                {
                    **article_metadata(a),
                    "status": status,
                    "content_hash": a.content_hash,
                    "references": json.dumps([r.to_dict() for r in a.references]),
                    "chunk_count": n,
                    "source": a.source,
                    "duplicate_of": "",
                    "also_in": also_in.get(a.id, "[]"),
                    "seq": seq,
                    "guid": a.guid or "",
                    "shard": shards[a.id],
                }
                for a, n in zip(articles, chunk_counts, strict=True)
            ],
        )

    def _shards_for(
        self, articles: Sequence[Article], chunk_counts: Sequence[int], before: dict[str, Any]
    ) -> dict[str, int]:
        """A stored article keeps its shard (so its old chunks are deleted where they are); new ones are placed."""
        new = [(a, n) for a, n in zip(articles, chunk_counts, strict=True) if a.id not in before]
        placed = self._place(sum(n for _, n in new)) if new else 0
        return {a.id: _int(before[a.id].get("shard")) if a.id in before else placed for a in articles}

    def record_duplicate(self, article: Article, vector: np.ndarray, canonical_id: str, seq: int) -> None:
        """Keep a near-duplicate as a record pointing at its canonical story; index no chunks."""
        stored = self.get_records([article.id]).get(article.id)
        current = self._shard_state()
        meta: dict[str, Any] = {
            **article_metadata(article),
            "status": STATUS_DUPLICATE,
            "content_hash": article.content_hash,
            "references": "[]",
            "chunk_count": 0,
            "source": article.source,
            "duplicate_of": canonical_id,
            "also_in": "[]",
            "seq": seq,
            "guid": article.guid or "",
            "shard": stored.shard if stored is not None else (current[0] if current else 0),
        }
        self._articles.upsert(ids=[article.id], embeddings=[vector.tolist()], documents=[""], metadatas=[meta])
        self.delete_chunks([article.id])
        self.link_copy(article.id, article.outlet, article.url, canonical_id)

    def link_copy(self, copy_id: str, outlet: str, url: str | None, canonical_id: str) -> bool:
        """List a near-duplicate copy on its canonical record (idempotent); True when it was missing."""
        canonical = self._articles.get(ids=[canonical_id], include=["metadatas"])
        if canonical["ids"]:
            cmeta = dict((canonical["metadatas"] or [{}])[0] or {})
            also = json.loads(str(cmeta.get("also_in") or "[]"))
            entry = {"id": copy_id, "outlet": outlet, "url": url or ""}
            if entry not in also:
                also.append(entry)
                cmeta["also_in"] = json.dumps(also)
                self._articles.update(ids=[canonical_id], metadatas=[cmeta])
                return True
        return False

    # ------------------------------------------------------------------ chunks
    def delete_chunks(self, article_ids: Iterable[str]) -> None:
        """These articles' chunks and their annotations (a chunk's parse never outlives it)."""
        ids = list(article_ids)
        if ids:
            for shard, in_shard in self._by_shard(ids).items():
                self._shard(shard).delete(where=cast(Where, {"article_id": {"$in": in_shard}}))
            self._annotations.delete_articles(ids)

    # ------------------------------------------------------------------ annotations
    def upsert_annotations(self, chunks: Sequence[tuple[str, str]], payloads: Sequence[bytes], pipeline: str) -> None:
        """Store each chunk's parse (``(chunk id, article id)`` and spaCy's bytes) made by ``pipeline``."""
        self._annotations.upsert(chunks, payloads, pipeline)

    def annotations(self, chunk_ids: Sequence[str], pipeline: str) -> dict[str, bytes]:
        """Stored parses of these chunks made by ``pipeline``; chunks without one are left out."""
        return self._annotations.get(chunk_ids, pipeline) if chunk_ids else {}

    def delete_annotations(self, chunk_ids: Sequence[str]) -> None:
        """Forget these chunks' parses (the chunks stay; the next ingest parses them again)."""
        self._annotations.delete_chunks(chunk_ids)

    def annotations_complete(self, pipeline: str, chunk_count: int | None = None) -> bool:
        """As many parses as chunks, all made by ``pipeline``: cheap reads, so a repair on every
        ingest does not list every chunk id. ``chunk_count`` from a caller that knows it (the
        lexical index) spares opening every shard."""
        chunks = self.chunk_count() if chunk_count is None else chunk_count
        return self._annotations.count() == chunks and self._annotations.all_by(pipeline)

    def unannotated_chunk_ids(self, pipeline: str) -> list[str]:
        """Chunks with no parse by ``pipeline``: stored before annotations existed, or by another model."""
        done = self._annotations.ids_by(pipeline)
        every = (cid for shard in self._shard_numbers() for cid in self._shard(shard).get(include=[])["ids"])
        return [cid for cid in every if cid not in done]

    def migrate_annotations(self) -> int:
        """Move parses an older version kept in the ``<collection>-annotations`` Chroma collection into
        the SQLite table, then drop the collection (a writer's repair, under the ingest lock).

        Crash-safe: the collection is dropped only after every row is committed; a rerun copies again.
        """
        if self._sqlite_annotations is None:
            return 0  # a server keeps the collection
        try:
            legacy = self._client.get_collection(self._legacy_annotations_name, embedding_function=None)
        except NotFoundError:
            return 0
        copied = migrate(ChromaAnnotations(legacy, self._client.get_max_batch_size()), self._sqlite_annotations)
        self._client.delete_collection(self._legacy_annotations_name)
        log.info("moved %d stored spaCy parses from Chroma metadata to %s", copied, self._sqlite_annotations.path)
        return copied

    def upsert_chunks(self, items: Sequence[tuple[Article, Chunk]], vectors: np.ndarray) -> None:
        """Into the shard each article's record names (the current shard for an article with no record)."""
        shard_of = {rid: r.shard for rid, r in self.get_records(list(dict.fromkeys(a.id for a, _ in items))).items()}
        current = self._shard_state()
        rows_by_shard: dict[int, list[int]] = {}
        for row, (article, _) in enumerate(items):
            shard = shard_of.get(article.id, current[0] if current else 0)
            rows_by_shard.setdefault(shard, []).append(row)
        for shard, rows in rows_by_shard.items():
            self._upsert_rows(self._shard(shard), [items[i] for i in rows], vectors[rows])

    def _upsert_rows(self, shard: Collection, items: Sequence[tuple[Article, Chunk]], vectors: np.ndarray) -> None:
        self._save_hnsw_often(shard)
        batch = max(1, min(self._client.get_max_batch_size(), 4000))
        for start in range(0, len(items), batch):
            part = items[start : start + batch]
            shard.upsert(
                ids=[c.id for _, c in part],
                embeddings=vectors[start : start + batch],
                documents=[c.text for _, c in part],
                metadatas=[
                    {
                        **article_metadata(a),
                        "chunk_index": c.index,
                        "start": c.start,
                        "end": c.end,
                        "tokens": c.tokens,
                    }
                    for a, c in part
                ],
            )

    @property
    def store_id(self) -> str:
        """Identifies this store by its first chunk shard (a lexical index built from another one is rebuilt)."""
        return self._store_id

    def generation(self) -> int:
        """The last committed ingest batch (0: none). One small read, fresh across processes and servers."""
        result = self._state.get(ids=[_GENERATION_ID], include=["metadatas"])
        metas = result["metadatas"] or []
        return _int((metas[0] or {}).get("seq")) if metas else 0

    def set_generation(self, generation: int) -> None:
        # The state collection holds only this record; a one-number vector keeps it tiny.
        vector = np.zeros((1, 1), dtype=np.float32)
        self._state.upsert(ids=[_GENERATION_ID], embeddings=vector, metadatas=[{"seq": int(generation)}])
        self._seen_generation = int(generation)

    def begin_batch(self, seq: int) -> None:
        """Before a batch writes any record with ``seq``: lets :meth:`records_since` skip its scan."""
        vector = np.zeros((1, 1), dtype=np.float32)
        self._state.upsert(ids=[_BATCH_ID], embeddings=vector, metadatas=[{"seq": int(seq)}])

    def _latest_begun(self) -> int | None:
        """The newest seq any record can carry: the generation or a later batch begun (None: not recorded)."""
        result = self._state.get(ids=[_GENERATION_ID, _BATCH_ID], include=["metadatas"])
        seqs = {
            rid: _int((meta or {}).get("seq"))
            for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True)
        }
        if _BATCH_ID not in seqs:
            return None  # a store from before batches were recorded: scan
        return max(seqs.values())

    def records_since(self, seq: int) -> list[ArticleRecord]:
        """Records written by batches after generation ``seq`` (what a lexical index must catch up on).

        Two small reads when nothing was begun after ``seq`` (every ingest's repair step, every
        reader's check): the metadata scan it replaces grows with the article count (0.2 s at 20,000).
        """
        latest = self._latest_begun()
        if latest is not None and latest <= seq:
            return []
        where = cast(Where, {"seq": {"$gt": int(seq)}})
        result = self._articles.get(where=where, include=["metadatas"])
        return [
            _record_from_meta(rid, dict(meta or {}))
            for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True)
        ]

    def chunks_of(self, article_ids: Sequence[str]) -> tuple[list[ChunkRecord], np.ndarray]:
        """Every chunk of these articles, and their vectors in the same order."""
        self._fresh_vectors()
        out: list[ChunkRecord] = []
        matrices: list[np.ndarray] = []
        for shard, ids in self._by_shard(article_ids).items():
            for start in range(0, len(ids), 500):
                where = cast(Where, {"article_id": {"$in": ids[start : start + 500]}})
                result = self._shard(shard).get(where=where, include=["documents", "metadatas", "embeddings"])
                records, vectors = _records_and_vectors(result)
                out.extend(records)
                if records:
                    matrices.append(vectors)
        return out, (np.concatenate(matrices) if matrices else np.zeros((0, 1), dtype=np.float32))

    def iter_chunks(self, page: int = 2000) -> Iterator[tuple[list[ChunkRecord], np.ndarray]]:
        """Every chunk with its vector, ``page`` at a time (a rebuild never holds the corpus in memory)."""
        self._fresh_vectors()
        for shard in self._shard_numbers():
            offset = 0
            while True:
                result = self._shard(shard).get(
                    limit=page, offset=offset, include=["documents", "metadatas", "embeddings"]
                )
                if not result["ids"]:
                    break
                yield _records_and_vectors(result)
                offset += len(result["ids"])

    def chunk_count(self) -> int:
        """Chunks in every shard (opens each: for reports and tests, not for a path run per ingest)."""
        return sum(self._shard(shard).count() for shard in self._shard_numbers())

    def shard_count(self) -> int:
        """How many chunk shards the store has opened so far."""
        return len(self._shard_numbers())

    def chunks(self, with_vectors: bool = False) -> tuple[list[ChunkRecord], np.ndarray | None]:
        """Every chunk, and (optionally) their vectors as one matrix in the same order."""
        include: list[str] = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        records: list[ChunkRecord] = []
        matrices: list[np.ndarray] = []
        for shard in self._shard_numbers():
            result = self._shard(shard).get(include=include)  # type: ignore[arg-type]
            records += [
                _chunk_from_meta(cid, doc or "", dict(meta or {}))
                for cid, doc, meta in zip(
                    result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True
                )
            ]
            if with_vectors and result["embeddings"] is not None and len(result["embeddings"]):
                matrices.append(np.asarray(result["embeddings"], dtype=np.float32))
        if not with_vectors:
            return records, None
        return records, np.concatenate(matrices) if matrices else np.zeros((0, 384), dtype=np.float32)

    def dense_search(
        self, vector: np.ndarray, n: int, article_ids: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks, within ``article_ids`` when given."""
        if article_ids is not None and not article_ids:
            return []
        where = cast(Where, {"article_id": {"$in": list(article_ids)}}) if article_ids is not None else None
        found: list[tuple[str, float]] = []
        for shard in self._shard_numbers():
            result = self._shard(shard).query(
                query_embeddings=[vector.tolist()],
                n_results=n,
                where=where,
                include=["distances"],
            )
            distances = (result["distances"] or [[]])[0]
            found += [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], distances, strict=True)]
        return sorted(found, key=lambda hit: -hit[1])[:n]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """These chunks (text and metadata) by id; unknown ids are left out."""
        found: dict[str, ChunkRecord] = {}
        wanted = list(dict.fromkeys(chunk_ids))
        for shard in self._shard_numbers() if wanted else ():
            result = self._shard(shard).get(ids=wanted, include=["documents", "metadatas"])
            for cid, doc, meta in zip(result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True):
                found[cid] = _chunk_from_meta(cid, doc or "", dict(meta or {}))
            wanted = [cid for cid in wanted if cid not in found]
            if not wanted:
                break
        return found

    def first_chunks(self, start: datetime, end: datetime, max_index: int) -> tuple[list[ChunkRecord], np.ndarray]:
        """Chunks ``0..max_index-1`` of articles published in ``[start, end)``, with their vectors."""
        self._fresh_vectors()
        where = cast(
            Where,
            {"$and": [*_published_between(start, end), {"chunk_index": {"$lt": max_index}}]},
        )
        records: list[ChunkRecord] = []
        matrices: list[np.ndarray] = []
        for shard in self._shard_numbers():
            result = self._shard(shard).get(where=where, include=["documents", "metadatas", "embeddings"])
            found, vectors = _records_and_vectors(result)
            records += found
            if found:
                matrices.append(vectors)
        return records, np.concatenate(matrices) if matrices else np.zeros((0, 1), dtype=np.float32)

    # ------------------------------------------------------------------ articles
    def article_count(self) -> int:
        """Article records of every status (complete, duplicate, pending)."""
        return self._articles.count()

    def articles_published(self, start: datetime, end: datetime) -> list[ArticleRecord]:
        """Records of every status published in ``[start, end)`` (duplicates and pending ones included)."""
        where = cast(Where, {"$and": _published_between(start, end)})
        result = self._articles.get(where=where, include=["metadatas"])
        return [
            _record_from_meta(rid, dict(meta or {}))
            for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True)
        ]

    def undated_article_count(self) -> int:
        """Complete articles without a publication date (no window can hold them)."""
        where = cast(Where, {"$and": [{"published_ts": -1}, {"status": STATUS_COMPLETE}]})
        return len(self._articles.get(where=where, include=[])["ids"])

    def complete_articles_since(self, since: datetime) -> list[StoredArticle]:
        """Complete articles published at or after ``since``, with body and vector, in store order."""
        self._fresh_vectors()
        where = cast(Where, {"$and": [{"status": STATUS_COMPLETE}, {"published_ts": {"$gte": int(since.timestamp())}}]})
        result = self._articles.get(where=where, include=["embeddings", "documents", "metadatas"])
        raw = result["embeddings"] if result["embeddings"] is not None else []
        return [
            StoredArticle(_record_from_meta(rid, dict(meta or {})), doc or "", np.asarray(vector, dtype=np.float32))
            for rid, meta, doc, vector in zip(
                result["ids"], result["metadatas"] or [], result["documents"] or [], raw, strict=True
            )
        ]


def _records_and_vectors(result: Any) -> tuple[list[ChunkRecord], np.ndarray]:
    records = [
        _chunk_from_meta(cid, doc or "", dict(meta or {}))
        for cid, doc, meta in zip(result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True)
    ]
    raw = result["embeddings"] if result["embeddings"] is not None else []
    vectors = np.asarray(raw, dtype=np.float32).reshape(len(records), -1) if len(records) else np.zeros((0, 1))
    return records, vectors.astype(np.float32)


def _published_between(start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [
        {"published_ts": {"$gte": int(start.timestamp())}},
        {"published_ts": {"$lt": int(end.timestamp())}},
    ]


def _int(value: object, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float | str) and str(value).strip() else default


def _datetime(value: object) -> datetime | None:
    text = str(value or "")
    return datetime.fromisoformat(text) if text else None


def chunk_to_json(chunk: ChunkRecord) -> bytes:
    """A chunk as a self-contained record (the lexical index stores it beside the chunk's postings)."""
    meta = {
        "article_id": chunk.article_id,
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "tokens": chunk.tokens,
        "title": chunk.title,
        "outlet": chunk.outlet,
        "url": chunk.url or "",
        "published_at": _iso(chunk.published_at),
    }
    return json.dumps({"id": chunk.id, "text": chunk.text, "meta": meta}, ensure_ascii=False).encode()


def chunk_from_json(raw: bytes) -> ChunkRecord:
    """The chunk :func:`chunk_to_json` wrote."""
    data = json.loads(raw)
    return _chunk_from_meta(str(data["id"]), str(data["text"]), dict(data["meta"]))


def _chunk_from_meta(cid: str, text: str, meta: dict[str, Any]) -> ChunkRecord:
    return ChunkRecord(
        id=cid,
        article_id=str(meta.get("article_id", "")),
        index=_int(meta.get("chunk_index")),
        text=text,
        start=_int(meta.get("start")),
        end=_int(meta.get("end")),
        tokens=_int(meta.get("tokens")),
        title=str(meta.get("title", "")),
        outlet=str(meta.get("outlet", "")),
        url=str(meta.get("url") or "") or None,
        published_at=_datetime(meta.get("published_at")),
    )


def _copies(raw: object) -> tuple[ArticleCopy, ...]:
    try:
        entries = json.loads(str(raw or "[]"))
    except json.JSONDecodeError:
        return ()
    return tuple(
        ArticleCopy(str(e.get("id", "")), str(e.get("outlet", "")), str(e.get("url") or "") or None)
        for e in entries
        if isinstance(e, dict)
    )


def _record_from_meta(rid: str, meta: dict[str, Any]) -> ArticleRecord:
    refs: list[Reference] = []
    for item in json.loads(str(meta.get("references") or "[]")):
        published = item.get("published")
        refs.append(
            Reference(
                number=int(item["number"]),
                outlet=str(item.get("outlet", "")),
                title=str(item.get("title", "")),
                published=datetime.fromisoformat(published).date() if published else None,
                raw=str(item.get("raw", "")),
            )
        )
    published_at = str(meta.get("published_at") or "")
    return ArticleRecord(
        id=rid,
        title=str(meta.get("title", "")),
        outlet=str(meta.get("outlet", "")),
        url=str(meta.get("url") or "") or None,
        published_at=datetime.fromisoformat(published_at) if published_at else None,
        author=str(meta.get("author") or "") or None,
        category=str(meta.get("category") or "") or None,
        status=str(meta.get("status", "")),
        content_hash=str(meta.get("content_hash", "")),
        duplicate_of=str(meta.get("duplicate_of") or "") or None,
        also_in=tuple(e.get("outlet", "") for e in json.loads(str(meta.get("also_in") or "[]"))),
        references=tuple(refs),
        chunk_count=int(meta.get("chunk_count", 0)),
        source=str(meta.get("source", "")),
        copies=_copies(meta.get("also_in")),
        seq=_int(meta.get("seq")),
        guid=str(meta.get("guid") or "") or None,
        shard=_int(meta.get("shard")),
    )
