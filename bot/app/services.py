"""What a front end needs from factdesk, as Protocols: answers, claims, digests, the index.

A front end (the Discord bot, a web page, a Slack bot) types against these, so its tests
pass small fakes, while :class:`bot.app.Factdesk` provides the real parts. Everything
except :meth:`AnswererLike.astream` is blocking: call it via ``asyncio.to_thread`` from
async code.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.answer.models import Answer
    from bot.answer.posts import PostedAnswer
    from bot.claims.models import ClaimStatus, Verdict
    from bot.claims.service import Actor, ClaimView, SuggestionView
    from bot.core.settings import Settings
    from bot.digest.models import Digest
    from bot.digest.window import Window
    from index.pipeline import IngestReport, ItemResult
    from index.stats import IndexStats


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
    """The parts of :class:`bot.claims.service.ClaimsService` a front end calls (all blocking)."""

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

    def ingest(self, sources: Sequence[str], on_item: Callable[[ItemResult], None] | None = None) -> IngestReport: ...

    def stats(self) -> IndexStats: ...

    def suggest_flags(self, days: int) -> int: ...


class AnswerPostsLike(Protocol):
    """What a posted answer's buttons need after the answer left memory (a restart, a timeout)."""

    def record(self, key: str, answer: Answer) -> None: ...

    def get(self, key: str) -> PostedAnswer | None: ...


class FactdeskLike(Protocol):
    """The application as a front end sees it: :class:`bot.app.Factdesk`, or a test's fake."""

    @property
    def settings(self) -> Settings: ...

    @property
    def answerer(self) -> AnswererLike: ...

    @property
    def claims(self) -> ClaimsLike: ...

    @property
    def digests(self) -> DigestServiceLike: ...

    @property
    def admin(self) -> IndexAdminLike: ...

    @property
    def answer_posts(self) -> AnswerPostsLike: ...
