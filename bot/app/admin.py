"""Index maintenance for any front end: ingest through the SSRF-safe fetcher, stats, suggested flags."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.claims.service import ClaimsService
from bot.claims.suggest import Finder, suggest_flags
from index.fetch import Fetcher
from index.pipeline import Indexer, IngestReport, ItemResult
from index.stats import IndexStats, index_stats
from index.store import ChunkStore


class IndexAdmin:
    """Ingest, stats and suggested flags; one ingest at a time.

    Blocking by design (the indexer embeds on the CPU): async front ends call it in a thread.
    """

    def __init__(
        self,
        store: ChunkStore,
        indexer: Indexer,
        fetcher_factory: Callable[[], Fetcher],
        claims: ClaimsService,
        contradictions: Finder,
        *,
        max_source_bytes: int,
        data_dir: Path | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.indexer = indexer
        self.claims = claims
        self.contradictions = contradictions
        self._fetcher_factory = fetcher_factory
        self._max_source_bytes = max_source_bytes
        self._data_dir = data_dir
        self._clock = clock
        self._lock = threading.Lock()

    def ingest(self, sources: Sequence[str], on_item: Callable[[ItemResult], None] | None = None) -> IngestReport:
        with self._lock, self._fetcher_factory() as fetcher:
            return self.indexer.ingest(list(sources), fetcher, self._max_source_bytes, on_item)

    def stats(self) -> IndexStats:
        """What the index holds; its size on disk for an embedded store."""
        return index_stats(self.store, self._data_dir)

    def suggest_flags(self, days: int) -> int:
        """Queue suggested flags for articles of the last ``days`` days; how many were queued."""
        since = self._clock() - timedelta(days=days)
        return len(suggest_flags(self.store, self.claims, since, self.contradictions))
