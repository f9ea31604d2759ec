"""The claims core: flag, update, resolve and export claims, with permissions and an audit log.

Front ends (Discord, CLI) call this and nothing else; they never see a session or a
live ORM object. Every change and its :class:`ClaimEvent` are written in one
transaction, and only moderators may change anything.
"""

from __future__ import annotations

import builtins
import enum
import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import numpy as np
import sqlalchemy as sa
from pydantic import HttpUrl, TypeAdapter, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.claims.models import (
    Claim,
    ClaimEvent,
    ClaimStatus,
    EventAction,
    SuggestedFlag,
    SuggestionStatus,
    Verdict,
)
from bot.core.db.engine import database_url, make_engine
from bot.core.db.migrate import upgrade_database
from bot.core.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from bot.core.text.normalize import normalize_claim_text
from bot.core.text.sanitize import clean_inline, clean_untrusted
from bot.verify.contradictions import Contradiction

log = logging.getLogger(__name__)

MAX_CLAIM_CHARS = 1000
MAX_NOTE_CHARS = 4000
MAX_ORIGIN_CHARS = 2000
MAX_EVIDENCE_URLS = 20
MAX_URL_CHARS = 2000
# Two flags whose embeddings are this close are the same claim worded slightly
# differently (punctuation, a dropped article); paraphrases proper are well below.
DUPLICATE_SIMILARITY = 0.95

# ClaimReview rating on the usual 1 (false) .. 5 (true) scale. Nothing maps to 4:
# there is no "mostly accurate" verdict. Unverified sits at the neutral middle.
RATING_VALUES: dict[Verdict, int] = {
    Verdict.FALSE: 1,
    Verdict.MISLEADING: 2,
    Verdict.DISPUTED: 3,
    Verdict.UNVERIFIED: 3,
    Verdict.ACCURATE: 5,
}

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


class Embedder(Protocol):
    """What the service needs from an embedding model: unit vectors for a batch of texts."""

    def embed_array(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a Discord user (id as a string) or a CLI user, with their role ids."""

    id: str
    name: str
    role_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A detached snapshot of a claim; safe to keep after the session is gone."""

    id: int
    text: str
    normalized_text: str
    verdict: Verdict
    note: str
    evidence_urls: tuple[str, ...]
    flagged_by: str
    flagged_by_name: str
    flagged_at: datetime
    origin: str | None
    status: ClaimStatus
    resolved_at: datetime | None
    updated_at: datetime
    flag_count: int
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    embedding_model: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.status is ClaimStatus.OPEN

    @classmethod
    def from_row(cls, row: Claim) -> ClaimView:
        vector = None if row.embedding is None else np.frombuffer(row.embedding, dtype="<f4")
        return cls(
            id=row.id,
            text=row.text,
            normalized_text=row.normalized_text,
            verdict=Verdict(row.verdict),
            note=row.note,
            evidence_urls=tuple(row.evidence_urls or ()),
            flagged_by=row.flagged_by,
            flagged_by_name=row.flagged_by_name,
            flagged_at=row.flagged_at,
            origin=row.origin,
            status=ClaimStatus(row.status),
            resolved_at=row.resolved_at,
            updated_at=row.updated_at,
            flag_count=row.flag_count,
            embedding=vector,
            embedding_model=row.embedding_model,
        )


@dataclass(frozen=True, slots=True)
class EventView:
    """One audit-log entry; ``before``/``after`` hold only the fields that changed."""

    id: int
    claim_id: int
    action: EventAction
    actor: str
    actor_name: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str

    @classmethod
    def from_row(cls, row: ClaimEvent) -> EventView:
        return cls(
            id=row.id,
            claim_id=row.claim_id,
            action=EventAction(row.action),
            actor=row.actor,
            actor_name=row.actor_name,
            at=row.at,
            before=row.before,
            after=row.after,
            note=row.note,
        )


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A contradiction suggestion as the moderator queue shows it."""

    id: int
    kind: str
    text_a: str
    source_a: str | None
    text_b: str | None
    source_b: str | None
    explanation: str
    status: SuggestionStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    claim_id: int | None

    @classmethod
    def from_row(cls, row: SuggestedFlag) -> SuggestionView:
        return cls(
            id=row.id,
            kind=row.kind,
            text_a=row.text_a,
            source_a=row.source_a,
            text_b=row.text_b,
            source_b=row.source_b,
            explanation=row.explanation,
            status=SuggestionStatus(row.status),
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            claim_id=row.claim_id,
        )


@dataclass(frozen=True, slots=True)
class _NewFlag:
    """A validated flag request, prepared (and embedded) before any transaction opens."""

    text: str
    normalized: str
    verdict: Verdict
    note: str
    evidence_urls: tuple[str, ...]
    origin: str | None
    vector: np.ndarray


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_enum(enum_cls: type[E], value: E | str, what: str) -> E:
    """``value`` as a member of ``enum_cls``, case-insensitively; the error lists the valid values."""
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(str(m.value) for m in enum_cls)
        raise InvalidInputError(f"unknown {what} {str(value)!r}; valid: {valid}") from None


def parse_id(value: int | str, what: str) -> int:
    """An id typed by a user ("12", "#12") as an int; anything else is invalid input."""
    try:
        return int(str(value).strip().lstrip("#"))
    except ValueError:
        raise InvalidInputError(f"{what} id must be a number, not {str(value)[:50]!r}") from None


def parse_verdict(value: Verdict | str) -> Verdict:
    return parse_enum(Verdict, value, "verdict")


def clean_claim_text(text: str) -> str:
    """Cleaned (no NUL or other controls, lone surrogates replaced: PostgreSQL and UTF-8 refuse them),
    whitespace collapsed; refuses empty, wordless and over-long claims."""
    text = clean_inline(str(text))
    if not text:
        raise InvalidInputError("claim text is empty")
    if len(text) > MAX_CLAIM_CHARS:
        raise InvalidInputError(f"claim text is {len(text)} characters; the limit is {MAX_CLAIM_CHARS}")
    if not normalize_claim_text(text):
        raise InvalidInputError("claim text has no words")
    return text


def clean_note(note: str | None, what: str = "note") -> str:
    note = clean_untrusted(note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInputError(f"{what} is {len(note)} characters; the limit is {MAX_NOTE_CHARS}")
    return note


def clean_origin(origin: str | None) -> str | None:
    origin = clean_inline(origin or "")
    if len(origin) > MAX_ORIGIN_CHARS:
        raise InvalidInputError(f"origin is {len(origin)} characters; the limit is {MAX_ORIGIN_CHARS}")
    return origin or None


@functools.cache
def _http_url_adapter() -> TypeAdapter[HttpUrl]:
    return TypeAdapter(HttpUrl)


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host (pydantic's validator decides)."""
    try:
        _http_url_adapter().validate_python(value)
    except ValidationError:
        return False
    return True


def clean_evidence_urls(urls: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, de-duplicated http(s) URLs in the given order; anything else is refused."""
    if isinstance(urls, str):
        urls = [urls]
    out: list[str] = []
    for raw in urls:
        url = str(raw).strip()
        if not url:
            continue
        if len(url) > MAX_URL_CHARS or clean_inline(url) != url or not is_http_url(url):
            raise InvalidInputError(f"evidence URL {url[:100]!r} is not an http(s) URL")
        if url not in out:
            out.append(url)
    if len(out) > MAX_EVIDENCE_URLS:
        raise InvalidInputError(f"{len(out)} evidence URLs given; the limit is {MAX_EVIDENCE_URLS}")
    return tuple(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _snapshot(claim: Claim) -> dict[str, Any]:
    """The user-visible fields of a claim, JSON-ready, for the audit log."""
    return {
        "text": claim.text,
        "verdict": _jsonable(claim.verdict),
        "note": claim.note,
        "evidence_urls": list(claim.evidence_urls),
        "origin": claim.origin,
        "status": _jsonable(claim.status),
        "resolved_at": _jsonable(claim.resolved_at),
    }


class ClaimsService:
    """Flagged claims with moderator-only changes, duplicate merging and a complete audit log.

    Built from an engine (or URL), an embedder and the moderator lists; ``clock``
    exists so tests can pin time. A fresh database is migrated on construction
    unless ``migrate=False``; an up-to-date one is left alone.
    """

    def __init__(
        self,
        engine: Engine | str,
        embedder: Embedder,
        moderator_user_ids: Iterable[int | str] = (),
        moderator_role_ids: Iterable[int] = (),
        clock: Callable[[], datetime] = _utcnow,
        *,
        migrate: bool = True,
        duplicate_similarity: float = DUPLICATE_SIMILARITY,
    ) -> None:
        self._owns_engine = isinstance(engine, str)
        self.engine = make_engine(engine) if isinstance(engine, str) else engine
        self.embedder = embedder
        self.embedding_model: str = str(getattr(embedder, "model_name", type(embedder).__name__))
        self.moderator_user_ids = frozenset(str(i) for i in moderator_user_ids)
        self.moderator_role_ids = frozenset(int(i) for i in moderator_role_ids)
        self.duplicate_similarity = duplicate_similarity
        self._clock = clock
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            upgrade_database(self.engine)

    @classmethod
    def from_settings(cls, settings: Any, embedder: Embedder) -> ClaimsService:
        """From :class:`bot.core.settings.Settings`: its claims database and moderator lists."""
        return cls(
            database_url(settings),
            embedder,
            moderator_user_ids=settings.moderator_user_ids,
            moderator_role_ids=settings.moderator_role_ids,
        )

    def close(self) -> None:
        """Dispose of the engine if this service created it from a URL."""
        if self._owns_engine:
            self.engine.dispose()

    # --- permissions and helpers ---------------------------------------------------

    def is_moderator(self, actor: Actor) -> bool:
        return str(actor.id) in self.moderator_user_ids or bool(actor.role_ids & self.moderator_role_ids)

    def _require_moderator(self, actor: Actor, action: str) -> None:
        if not self.is_moderator(actor):
            log.info("refused %s by %s (%s): not a moderator", action, actor.name, actor.id)
            raise PermissionDeniedError(f"only moderators can {action}")

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now

    def _embed(self, text: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_array([text])[0], dtype="<f4")
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    @staticmethod
    def _row(session: Session, claim_id: int | str) -> Claim:
        claim = session.get(Claim, parse_id(claim_id, "claim"))
        if claim is None:
            raise NotFoundError(f"no claim #{claim_id}")
        return claim

    def _event(
        self,
        session: Session,
        claim: Claim,
        action: EventAction,
        actor: Actor,
        now: datetime,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str = "",
    ) -> None:
        session.add(
            ClaimEvent(
                claim_id=claim.id,
                action=action,
                actor=str(actor.id),
                actor_name=actor.name,
                at=now,
                before=before,
                after=after,
                note=note,
            )
        )

    def _with_retry_on_conflict(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction; once more if a concurrent flag won the unique index.

        The second run sees the committed twin and merges into it instead.
        """
        try:
            with self._sessions.begin() as session:
                return work(session)
        except IntegrityError:
            log.info("concurrent duplicate flag; retrying as a merge")
            with self._sessions.begin() as session:
                return work(session)

    # --- flagging --------------------------------------------------------------------

    def _prepare(
        self,
        text: str,
        verdict: Verdict | str,
        note: str,
        evidence_urls: Iterable[str],
        origin: str | None,
    ) -> _NewFlag:
        text = clean_claim_text(text)
        return _NewFlag(
            text=text,
            normalized=normalize_claim_text(text),
            verdict=parse_verdict(verdict),
            note=clean_note(note),
            evidence_urls=clean_evidence_urls(evidence_urls),
            origin=clean_origin(origin),
            vector=self._embed(text),
        )

    def _find_duplicate(self, session: Session, new: _NewFlag) -> tuple[Claim, float] | None:
        """The open claim this flag repeats: same normalized text, else the nearest embedding."""
        same = session.scalars(
            sa.select(Claim).where(Claim.normalized_text == new.normalized, Claim.status == ClaimStatus.OPEN)
        ).first()
        if same is not None:
            return same, 1.0
        rows = session.execute(
            sa.select(Claim.id, Claim.embedding).where(
                Claim.status == ClaimStatus.OPEN,
                Claim.embedding.is_not(None),
                Claim.embedding_model == self.embedding_model,
            )
        ).all()
        if not rows:
            return None
        matrix = np.stack([np.frombuffer(r.embedding, dtype="<f4") for r in rows])
        sims = matrix @ new.vector
        best = int(np.argmax(sims))
        if float(sims[best]) < self.duplicate_similarity:
            return None
        return self._row(session, rows[best].id), float(sims[best])

    def _flag_in(self, session: Session, actor: Actor, new: _NewFlag, now: datetime, event_note: str) -> Claim:
        duplicate = self._find_duplicate(session, new)
        if duplicate is not None:
            claim, similarity = duplicate
            self._merge_into(session, claim, actor, new, now, similarity)
            return claim
        claim = Claim(
            text=new.text,
            normalized_text=new.normalized,
            verdict=new.verdict,
            note=new.note,
            evidence_urls=list(new.evidence_urls),
            flagged_by=str(actor.id),
            flagged_by_name=actor.name,
            flagged_at=now,
            origin=new.origin,
            status=ClaimStatus.OPEN,
            resolved_at=None,
            flag_count=1,
            embedding=new.vector.astype("<f4").tobytes(),
            embedding_model=self.embedding_model,
            updated_at=now,
        )
        session.add(claim)
        session.flush()
        self._event(session, claim, EventAction.FLAGGED, actor, now, after=_snapshot(claim), note=event_note)
        log.info("claim #%d flagged by %s as %s", claim.id, actor.name, new.verdict.value)
        return claim

    def _merge_into(
        self, session: Session, claim: Claim, actor: Actor, new: _NewFlag, now: datetime, similarity: float
    ) -> None:
        """Record a repeat flag on ``claim``: evidence is added, the verdict stays as it is."""
        added = [u for u in new.evidence_urls if u not in claim.evidence_urls]
        before: dict[str, Any] = {"flag_count": claim.flag_count}
        after: dict[str, Any] = {"flag_count": claim.flag_count + 1}
        if added:
            before["evidence_urls"] = list(claim.evidence_urls)
            claim.evidence_urls = [*claim.evidence_urls, *added]
            after["evidence_urls"] = list(claim.evidence_urls)
        claim.flag_count += 1
        claim.updated_at = now
        after["merged_flag"] = {
            "text": new.text,
            "verdict": new.verdict.value,
            "note": new.note,
            "evidence_urls": list(new.evidence_urls),
            "origin": new.origin,
            "similarity": round(similarity, 4),
        }
        note = new.note
        if new.verdict is not claim.verdict:
            note = (
                f"requested verdict {new.verdict.value!r} not applied (claim stays "
                f"{claim.verdict.value!r}; use update to change it). {note}"
            ).strip()
        self._event(session, claim, EventAction.MERGED, actor, now, before=before, after=after, note=note)
        log.info("flag by %s merged into claim #%d (similarity %.3f)", actor.name, claim.id, similarity)

    def flag(
        self,
        actor: Actor,
        text: str,
        verdict: Verdict | str,
        note: str = "",
        evidence_urls: Iterable[str] = (),
        origin: str | None = None,
    ) -> ClaimView:
        """Flag a claim, or merge into the open claim it repeats (returned with its history grown)."""
        self._require_moderator(actor, "flag claims")
        new = self._prepare(text, verdict, note, evidence_urls, origin)
        now = self._now()
        return self._with_retry_on_conflict(
            lambda session: ClaimView.from_row(self._flag_in(session, actor, new, now, new.note))
        )

    # --- changing ------------------------------------------------------------------------

    def update(
        self,
        actor: Actor,
        claim_id: int,
        verdict: Verdict | str | None = None,
        note: str | None = None,
        evidence_urls: Iterable[str] | None = None,
    ) -> ClaimView:
        """Change verdict, note and/or evidence; the event keeps the old and new values."""
        self._require_moderator(actor, "update claims")
        if verdict is None and note is None and evidence_urls is None:
            raise InvalidInputError("nothing to update: give a verdict, a note or evidence URLs")
        changes: dict[str, Any] = {}
        if verdict is not None:
            changes["verdict"] = parse_verdict(verdict)
        if note is not None:
            changes["note"] = clean_note(note)
        if evidence_urls is not None:
            changes["evidence_urls"] = list(clean_evidence_urls(evidence_urls))
        now = self._now()
        with self._sessions.begin() as session:
            claim = self._row(session, claim_id)
            before = {k: _jsonable(getattr(claim, k)) for k, v in changes.items() if getattr(claim, k) != v}
            if not before:
                log.info("update of claim #%d by %s changed nothing", claim.id, actor.name)
                return ClaimView.from_row(claim)
            after = {k: _jsonable(changes[k]) for k in before}
            for key in before:
                setattr(claim, key, changes[key])
            claim.updated_at = now
            self._event(session, claim, EventAction.UPDATED, actor, now, before=before, after=after)
            log.info("claim #%d updated by %s: %s", claim.id, actor.name, ", ".join(before))
            return ClaimView.from_row(claim)

    def resolve(self, actor: Actor, claim_id: int, note: str) -> ClaimView:
        """Close a claim (e.g. corrected at the source); its history stays complete."""
        self._require_moderator(actor, "resolve claims")
        note = clean_note(note)
        now = self._now()
        with self._sessions.begin() as session:
            claim = self._row(session, claim_id)
            if claim.status is ClaimStatus.RESOLVED:
                raise InvalidInputError(f"claim #{claim.id} is already resolved")
            before = {"status": claim.status.value, "resolved_at": None}
            claim.status = ClaimStatus.RESOLVED
            claim.resolved_at = now
            claim.updated_at = now
            after = {"status": claim.status.value, "resolved_at": now.isoformat()}
            self._event(session, claim, EventAction.RESOLVED, actor, now, before=before, after=after, note=note)
            log.info("claim #%d resolved by %s", claim.id, actor.name)
            return ClaimView.from_row(claim)

    def reopen(self, actor: Actor, claim_id: int, note: str = "") -> ClaimView:
        """Open a resolved claim again, unless an open claim with the same text exists."""
        self._require_moderator(actor, "reopen claims")
        note = clean_note(note)
        now = self._now()
        with self._sessions.begin() as session:
            claim = self._row(session, claim_id)
            if claim.status is ClaimStatus.OPEN:
                raise InvalidInputError(f"claim #{claim.id} is already open")
            twin = session.scalars(
                sa.select(Claim.id).where(
                    Claim.normalized_text == claim.normalized_text, Claim.status == ClaimStatus.OPEN
                )
            ).first()
            if twin is not None:
                raise InvalidInputError(f"claim #{twin} with the same text is already open")
            before = {"status": claim.status.value, "resolved_at": _jsonable(claim.resolved_at)}
            claim.status = ClaimStatus.OPEN
            claim.resolved_at = None
            claim.updated_at = now
            after = {"status": claim.status.value, "resolved_at": None}
            self._event(session, claim, EventAction.REOPENED, actor, now, before=before, after=after, note=note)
            log.info("claim #%d reopened by %s", claim.id, actor.name)
            return ClaimView.from_row(claim)

    # --- reading ---------------------------------------------------------------------------

    def get(self, claim_id: int) -> ClaimView:
        with self._sessions() as session:
            return ClaimView.from_row(self._row(session, claim_id))

    def history(self, claim_id: int) -> builtins.list[EventView]:
        """The claim's audit log, oldest first."""
        with self._sessions() as session:
            self._row(session, claim_id)
            rows = session.scalars(
                sa.select(ClaimEvent).where(ClaimEvent.claim_id == parse_id(claim_id, "claim")).order_by(ClaimEvent.id)
            )
            return [EventView.from_row(r) for r in rows]

    def open_claims(self) -> builtins.list[ClaimView]:
        return self.list(status=ClaimStatus.OPEN)

    def export_claimreview(
        self,
        ids: Iterable[int] | None = None,
        publisher_name: str = "factdesk",
        review_url: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """schema.org ClaimReview JSON-LD, one dict per claim.

        ``itemReviewed.appearance`` lists where the claim was seen (the http(s)
        origins of the flag and of every merged repeat flag); evidence URLs are
        the review's sources, so they go in ``citation``. ``review_url`` is a
        template such as ``"https://example.org/claims/{id}"`` for the review's own page.
        """
        with self._sessions() as session:
            query = sa.select(Claim).order_by(Claim.id)
            if ids is not None:
                wanted = sorted({parse_id(i, "claim") for i in ids})
                query = query.where(Claim.id.in_(wanted))
            claims = builtins.list(session.scalars(query))
            if ids is not None:
                missing = sorted(set(wanted) - {c.id for c in claims})
                if missing:
                    raise NotFoundError(f"no claim #{', #'.join(map(str, missing))}")
            merged = session.execute(
                sa.select(ClaimEvent.claim_id, ClaimEvent.after)
                .where(ClaimEvent.action == EventAction.MERGED, ClaimEvent.claim_id.in_([c.id for c in claims]))
                .order_by(ClaimEvent.id)
            ).all()
        origins: dict[int, builtins.list[str]] = {c.id: [c.origin] if c.origin else [] for c in claims}
        for claim_id, after in merged:
            origin = ((after or {}).get("merged_flag") or {}).get("origin")
            if origin and origin not in origins[claim_id]:
                origins[claim_id].append(origin)
        return [claimreview(ClaimView.from_row(c), origins[c.id], publisher_name, review_url) for c in claims]

    def list(
        self,
        status: ClaimStatus | str | None = None,
        verdict: Verdict | str | None = None,
        limit: int | None = None,
    ) -> builtins.list[ClaimView]:
        """Claims, oldest first, optionally filtered by status and verdict."""
        query = sa.select(Claim).order_by(Claim.id)
        if status is not None:
            query = query.where(Claim.status == parse_enum(ClaimStatus, status, "status"))
        if verdict is not None:
            query = query.where(Claim.verdict == parse_verdict(verdict))
        if limit is not None:
            query = query.limit(max(int(limit), 0))
        with self._sessions() as session:
            return [ClaimView.from_row(c) for c in session.scalars(query)]

    # --- contradiction suggestions ---------------------------------------------------------

    def suggest(
        self,
        kind: str,
        text_a: str,
        source_a: str | None = None,
        text_b: str | None = None,
        source_b: str | None = None,
        explanation: str = "",
    ) -> SuggestionView:
        """Queue a suggestion for moderators; an identical pending one is returned instead of a copy."""
        text_a = clean_inline(text_a)
        text_b = clean_inline(text_b) if text_b else None
        if not text_a:
            raise InvalidInputError("suggestion text is empty")
        with self._sessions.begin() as session:
            existing = session.scalars(
                sa.select(SuggestedFlag).where(
                    SuggestedFlag.status == SuggestionStatus.PENDING,
                    SuggestedFlag.kind == kind,
                    SuggestedFlag.text_a == text_a,
                    SuggestedFlag.text_b.is_(None) if text_b is None else SuggestedFlag.text_b == text_b,
                )
            ).first()
            if existing is not None:
                return SuggestionView.from_row(existing)
            row = SuggestedFlag(
                kind=kind,
                text_a=text_a,
                source_a=source_a,
                text_b=text_b,
                source_b=source_b,
                explanation=explanation,
                status=SuggestionStatus.PENDING,
                created_at=self._now(),
            )
            session.add(row)
            session.flush()
            return SuggestionView.from_row(row)

    def suggest_contradiction(
        self, contradiction: Contradiction, source_label: Callable[[int], str] = lambda n: f"[{n}]"
    ) -> SuggestionView:
        """Queue what :func:`bot.verify.contradictions.detect_contradictions` found."""
        a, b = contradiction.a, contradiction.b
        return self.suggest(
            kind=contradiction.kind.value,
            text_a=a.text,
            source_a=source_label(a.source_number),
            text_b=b.text if b is not None else None,
            source_b=source_label(b.source_number) if b is not None else None,
            explanation=contradiction.explanation,
        )

    def pending_suggestions(self) -> builtins.list[SuggestionView]:
        with self._sessions() as session:
            rows = session.scalars(
                sa.select(SuggestedFlag)
                .where(SuggestedFlag.status == SuggestionStatus.PENDING)
                .order_by(SuggestedFlag.id)
            )
            return [SuggestionView.from_row(r) for r in rows]

    def get_suggestion(self, suggestion_id: int) -> SuggestionView:
        with self._sessions() as session:
            return SuggestionView.from_row(self._suggestion_row(session, suggestion_id))

    @staticmethod
    def _suggestion_row(session: Session, suggestion_id: int) -> SuggestedFlag:
        row = session.get(SuggestedFlag, parse_id(suggestion_id, "suggestion"))
        if row is None:
            raise NotFoundError(f"no suggestion #{suggestion_id}")
        if row.status is not SuggestionStatus.PENDING:
            raise InvalidInputError(f"suggestion #{row.id} was already {row.status.value} by {row.decided_by}")
        return row

    def accept_suggestion(
        self,
        actor: Actor,
        suggestion_id: int,
        verdict: Verdict | str = Verdict.DISPUTED,
        text: str | None = None,
    ) -> tuple[SuggestionView, ClaimView]:
        """Flag the suggestion's claim (``text``, else statement b, else a) and mark it accepted."""
        self._require_moderator(actor, "accept suggestions")
        with self._sessions() as session:
            pending = SuggestionView.from_row(self._suggestion_row(session, suggestion_id))
        note = f"{pending.kind} contradiction: {pending.explanation}".strip()
        new = self._prepare(
            text or pending.text_b or pending.text_a,
            verdict,
            note,
            (),
            pending.source_b if text is None and pending.text_b else pending.source_a,
        )
        now = self._now()

        def work(session: Session) -> tuple[SuggestionView, ClaimView]:
            row = self._suggestion_row(session, suggestion_id)
            claim = self._flag_in(session, actor, new, now, f"accepted suggestion #{row.id}")
            row.status = SuggestionStatus.ACCEPTED
            row.decided_by = str(actor.id)
            row.decided_at = now
            row.claim_id = claim.id
            return SuggestionView.from_row(row), ClaimView.from_row(claim)

        return self._with_retry_on_conflict(work)

    def dismiss_suggestion(self, actor: Actor, suggestion_id: int) -> SuggestionView:
        self._require_moderator(actor, "dismiss suggestions")
        with self._sessions.begin() as session:
            row = self._suggestion_row(session, suggestion_id)
            row.status = SuggestionStatus.DISMISSED
            row.decided_by = str(actor.id)
            row.decided_at = self._now()
            return SuggestionView.from_row(row)


def claimreview(
    claim: ClaimView, appearances: Sequence[str], publisher_name: str, review_url: str | None = None
) -> dict[str, Any]:
    """One claim as a schema.org ClaimReview JSON-LD object."""
    urls = [u for u in appearances if is_http_url(u)]
    item: dict[str, Any] = {"@type": "Claim"}
    if urls:
        item["appearance"] = [{"@type": "CreativeWork", "url": u} for u in urls]
        item["firstAppearance"] = {"@type": "CreativeWork", "url": urls[0]}
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "identifier": str(claim.id),
        "claimReviewed": claim.text,
        "datePublished": claim.flagged_at.date().isoformat(),
        "dateModified": claim.updated_at.date().isoformat(),
        "author": {"@type": "Organization", "name": publisher_name},
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": RATING_VALUES[claim.verdict],
            "bestRating": 5,
            "worstRating": 1,
            "alternateName": claim.verdict.value.capitalize(),
        },
        "itemReviewed": item,
    }
    if claim.note:
        review["reviewBody"] = claim.note
    if claim.evidence_urls:
        review["citation"] = [{"@type": "CreativeWork", "url": u} for u in claim.evidence_urls]
    if review_url:
        review["url"] = review_url.format(id=claim.id)
    return review
