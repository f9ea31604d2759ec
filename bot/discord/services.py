"""What the Discord front end needs from the core, as Protocols, plus the small index facade.

Cogs are typed against these Protocols, so tests pass small fakes and the real
services (Answerer, ClaimsService, DigestService, IndexAdmin) fit without adapters.
Everything except :meth:`AnswererLike.astream` is blocking: call it via ``asyncio.to_thread``.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from index.stats import IndexStats, index_stats

if TYPE_CHECKING:
    from bot.answer.models import Answer
    from bot.claims.models import ClaimStatus, Verdict
    from bot.claims.service import Actor, ClaimsService, ClaimView, SuggestionView
    from bot.core.settings import Settings
    from bot.digest.models import Digest
    from bot.digest.window import Window
    from index.fetch import Fetcher
    from index.pipeline import Indexer, IngestReport
    from index.store import ChunkStore


class AnswererLike(Protocol):
    def astream(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[str | Answer]: ...


class ClaimsLike(Protocol):
    """The parts of :class:`bot.claims.service.ClaimsService` the bot calls (all blocking)."""

    def is_moderator(self, actor: Actor) -> bool: ...

    def flag(
        self,
        actor: Actor,
        text: str,
        verdict: Verdict | str,
        note: str = "",
        evidence_urls: Iterable[str] = (),
        origin: str | None = None,
    ) -> ClaimView: ...

    def list(
        self,
        status: ClaimStatus | str | None = None,
        verdict: Verdict | str | None = None,
        limit: int | None = None,
    ) -> builtins.list[ClaimView]: ...

    def get(self, claim_id: int) -> ClaimView: ...

    def update(
        self,
        actor: Actor,
        claim_id: int,
        verdict: Verdict | str | None = None,
        note: str | None = None,
        evidence_urls: Iterable[str] | None = None,
    ) -> ClaimView: ...

    def resolve(self, actor: Actor, claim_id: int, note: str) -> ClaimView: ...

    def pending_suggestions(self) -> builtins.list[SuggestionView]: ...

    def accept_suggestion(
        self, actor: Actor, suggestion_id: int, verdict: Verdict | str = ..., text: str | None = None
    ) -> tuple[SuggestionView, ClaimView]: ...

    def dismiss_suggestion(self, actor: Actor, suggestion_id: int) -> SuggestionView: ...


class DigestServiceLike(Protocol):
    """The digest service (``bot.digest``): builds or reuses a window's digest and records posts."""

    def get_or_create(self, window: Window, topic: str | None = None, force: bool = False) -> Digest: ...

    def was_posted(self, window: Window) -> bool: ...

    def mark_posted(self, window: Window, channel_id: int, message_id: int) -> Any: ...


class IndexAdminLike(Protocol):
    """Index maintenance for ``/ingest``, ``/stats``, ``/sources`` and feed polling."""

    def ingest(self, sources: Sequence[str]) -> IngestReport: ...

    def stats(self) -> IndexStats: ...

    def suggest_flags(self, days: int) -> int: ...


class IndexAdmin:
    """Ingest through the SSRF-safe fetcher and read index stats; one ingest at a time.

    Blocking by design (the indexer embeds on the CPU): the admin cog calls it in a thread.
    """

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        indexer_factory: Callable[[], Indexer] | None = None,
        fetcher_factory: Callable[[], Fetcher] | None = None,
        claims: ClaimsService | None = None,
    ) -> None:
        from bot.app.wiring import build_fetcher, build_indexer

        self.settings = settings
        self.store = store
        self._indexer_factory = indexer_factory or (lambda: build_indexer(settings, store))
        self._fetcher_factory = fetcher_factory or (lambda: build_fetcher(settings))
        self._indexer: Indexer | None = None
        self._lock = threading.Lock()
        self.claims = claims

    def ingest(self, sources: Sequence[str]) -> IngestReport:
        with self._lock:
            if self._indexer is None:
                self._indexer = self._indexer_factory()
            with self._fetcher_factory() as fetcher:
                return self._indexer.ingest(list(sources), fetcher, self.settings.max_source_bytes)

    def stats(self) -> IndexStats:
        data_dir = None if self.settings.chroma_host else self.settings.data_dir
        return index_stats(self.store, data_dir)

    def suggest_flags(self, days: int) -> int:
        """Queue suggested flags for articles of the last ``days`` days; how many were queued."""
        if self.claims is None:
            return 0
        from bot.claims.suggest import suggest_flags

        since = datetime.now(UTC) - timedelta(days=days)
        return len(suggest_flags(self.store, self.claims, since))
