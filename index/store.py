"""The Chroma-backed store: one collection of chunks, one of articles.

The same code serves the embedded persistent client and a Chroma server. The
articles collection is the ingest manifest (content hash, status, outlets of
near-duplicate copies), so a server deployment keeps all state in one place.

Write protocol per batch, which makes ``kill -9`` at any point safe to rerun:
1. article records are upserted with ``status="pending"`` and the new hash;
2. the article's old chunks are deleted, the new chunks upserted (deterministic ids);
3. the records are marked ``status="complete"``.
A rerun redoes any article whose record is not complete with the same hash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Where
from chromadb.config import Settings as ChromaSettings

from bot.core.errors import IndexMismatchError, StoreError
from index.embeddings import NamedEmbeddings
from index.models import Article, Chunk, Reference

log = logging.getLogger(__name__)

STATUS_PENDING = "pending"
STATUS_COMPLETE = "complete"
STATUS_DUPLICATE = "duplicate"


def make_client(data_dir: Path | None, host: str | None = None, port: int = 8000, ssl: bool = False) -> ClientAPI:
    """Embedded persistent client in ``data_dir``, or an HTTP client when ``host`` is set."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        if data_dir is None:
            raise StoreError("no data directory configured for the embedded Chroma store")
        data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(data_dir), settings=settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises plain ValueError/ConnectionError variants
        where = f"{host}:{port}" if host else str(data_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc


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

    def __init__(self, client: ClientAPI, collection: str, embeddings: NamedEmbeddings) -> None:
        self.client = client
        self.embeddings = embeddings
        self.collection_name = collection
        try:
            self.chunks = self._open(collection, kind="chunks")
            self.articles = self._open(f"{collection}-articles", kind="articles")
        except (IndexMismatchError, StoreError):
            raise
        except Exception as exc:
            raise StoreError(f"cannot open Chroma collection {collection!r}: {exc}") from exc

    def _open(self, name: str, kind: str) -> Collection:
        collection = self.client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
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
        result = self.articles.get(ids=list(ids) if ids is not None else None, include=["metadatas"])
        records: dict[str, ArticleRecord] = {}
        for rid, meta in zip(result["ids"], result["metadatas"] or [], strict=True):
            records[rid] = _record_from_meta(rid, dict(meta or {}))
        return records

    def article_body(self, article_id: str) -> str | None:
        result = self.articles.get(ids=[article_id], include=["documents"])
        docs = result["documents"] or []
        return docs[0] if docs else None

    def find_similar_articles(self, vector: np.ndarray, n: int = 3) -> list[tuple[str, float, str]]:
        """(id, cosine similarity, body) of the nearest complete articles."""
        if self.articles.count() == 0:
            return []
        result = self.articles.query(
            query_embeddings=[vector.tolist()],
            n_results=n,
            where={"status": STATUS_COMPLETE},
            include=["distances", "documents"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        docs = (result["documents"] or [[]])[0]
        return [(i, 1.0 - float(d), doc or "") for i, d, doc in zip(ids, distances, docs, strict=True)]

    def mark(self, articles: Sequence[Article], vectors: np.ndarray, status: str, chunk_counts: Sequence[int]) -> None:
        """Upsert article records with ``status`` (pending before chunk writes, complete after)."""
        if not articles:
            return
        previous = self.articles.get(ids=[a.id for a in articles], include=["metadatas"])
        also_in = {
            rid: str((meta or {}).get("also_in") or "[]")
            for rid, meta in zip(previous["ids"], previous["metadatas"] or [], strict=True)
        }
        self.articles.upsert(
            ids=[a.id for a in articles],
            embeddings=vectors,
            documents=[a.body for a in articles],
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
                }
                for a, n in zip(articles, chunk_counts, strict=True)
            ],
        )

    def record_duplicate(self, article: Article, vector: np.ndarray, canonical_id: str) -> None:
        """Keep a near-duplicate as a record pointing at its canonical story; index no chunks."""
        meta: dict[str, Any] = {
            **article_metadata(article),
            "status": STATUS_DUPLICATE,
            "content_hash": article.content_hash,
            "references": "[]",
            "chunk_count": 0,
            "source": article.source,
            "duplicate_of": canonical_id,
            "also_in": "[]",
        }
        self.articles.upsert(ids=[article.id], embeddings=[vector.tolist()], documents=[""], metadatas=[meta])
        self.delete_chunks([article.id])
        canonical = self.articles.get(ids=[canonical_id], include=["metadatas"])
        if canonical["ids"]:
            cmeta = dict((canonical["metadatas"] or [{}])[0] or {})
            also = json.loads(str(cmeta.get("also_in") or "[]"))
            entry = {"id": article.id, "outlet": article.outlet, "url": article.url or ""}
            if entry not in also:
                also.append(entry)
                cmeta["also_in"] = json.dumps(also)
                self.articles.update(ids=[canonical_id], metadatas=[cmeta])

    # ------------------------------------------------------------------ chunks
    def delete_chunks(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        if ids:
            where = cast(Where, {"article_id": {"$in": ids}})
            self.chunks.delete(where=where)

    def upsert_chunks(self, items: Sequence[tuple[Article, Chunk]], vectors: np.ndarray) -> None:
        batch = max(1, min(self.client.get_max_batch_size(), 4000))
        for start in range(0, len(items), batch):
            part = items[start : start + batch]
            self.chunks.upsert(
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

    def generation(self) -> str:
        """Changes whenever an ingest changed the chunks; the BM25 sidecar carries the same stamp."""
        return str((self.chunks.metadata or {}).get("generation", ""))

    def set_generation(self, generation: str) -> None:
        metadata = dict(self.chunks.metadata or {})
        metadata["generation"] = generation
        self.chunks.modify(metadata=metadata)

    def chunk_count(self) -> int:
        return self.chunks.count()

    def all_chunks_with_vectors(
        self, with_vectors: bool = True
    ) -> tuple[list[str], list[str], list[dict[str, Any]], np.ndarray | None]:
        """Every chunk's id, text, metadata and (optionally) its unit vector."""
        include: list[str] = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        result = self.chunks.get(include=include)  # type: ignore[arg-type]
        metas = [dict(m or {}) for m in (result["metadatas"] or [])]
        vectors = None
        if with_vectors:
            raw = result["embeddings"]
            vectors = np.asarray(raw if raw is not None else np.zeros((0, 384)), dtype=np.float32)
        return list(result["ids"]), [d or "" for d in (result["documents"] or [])], metas, vectors

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Every chunk's id, text and metadata (for the BM25 sidecar and stats)."""
        result = self.chunks.get(include=["documents", "metadatas"])
        metas = [dict(m or {}) for m in (result["metadatas"] or [])]
        return list(result["ids"]), [d or "" for d in (result["documents"] or [])], metas


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
    )
