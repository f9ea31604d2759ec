"""Summaries of what the index holds (for ``factdesk stats`` and ``/stats``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from index.store import STATUS_COMPLETE, STATUS_DUPLICATE, ChunkStore


@dataclass(frozen=True, slots=True)
class OutletStats:
    outlet: str
    articles: int
    copies: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class IndexStats:
    articles: int
    duplicates: int
    pending: int
    chunks: int
    outlets: int
    undated: int
    first: datetime | None
    last: datetime | None
    embedding_model: str
    size_bytes: int | None
    by_outlet: list[OutletStats] = field(default_factory=list)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def index_stats(store: ChunkStore, data_dir: Path | None) -> IndexStats:
    records = store.get_records().values()
    complete = [r for r in records if r.status == STATUS_COMPLETE]
    dates = [r.published_at for r in complete if r.published_at]
    per_outlet: dict[str, list[datetime | None]] = defaultdict(list)
    copies: dict[str, int] = defaultdict(int)
    for r in records:
        if r.status == STATUS_COMPLETE:
            per_outlet[r.outlet].append(r.published_at)
        elif r.status == STATUS_DUPLICATE:
            copies[r.outlet] += 1
    by_outlet = []
    for outlet in sorted(set(per_outlet) | set(copies), key=lambda o: (-len(per_outlet.get(o, [])), o)):
        known = [d for d in per_outlet.get(outlet, []) if d]
        by_outlet.append(
            OutletStats(
                outlet,
                len(per_outlet.get(outlet, [])),
                copies.get(outlet, 0),
                min(known) if known else None,
                max(known) if known else None,
            )
        )
    return IndexStats(
        articles=len(complete),
        duplicates=sum(1 for r in records if r.status == STATUS_DUPLICATE),
        pending=sum(1 for r in records if r.status not in (STATUS_COMPLETE, STATUS_DUPLICATE)),
        chunks=store.chunk_count(),
        outlets=len(per_outlet),
        undated=sum(1 for r in complete if r.published_at is None),
        first=min(dates) if dates else None,
        last=max(dates) if dates else None,
        embedding_model=store.embeddings.model_name,
        size_bytes=_folder_size(data_dir) if data_dir is not None and data_dir.exists() else None,
        by_outlet=by_outlet,
    )
