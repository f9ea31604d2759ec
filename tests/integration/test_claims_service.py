"""ClaimsService on SQLite (and, from tests/server, PostgreSQL): permissions, validation, merging, audit, export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bot.answer.posts
import bot.digest.db  # noqa: F401  (every model module: the migrations must match all of them)
from bot.claims.models import ClaimStatus, EventAction, SuggestionStatus, Verdict
from bot.claims.service import Actor, ClaimsService, ClaimView
from bot.core.db.base import Base
from bot.core.db.engine import make_engine
from bot.core.db.migrate import VERSION_TABLE, current_revision, head_revision, upgrade_database
from bot.core.errors import FactdeskError, InvalidInputError, NotFoundError, PermissionDeniedError
from bot.verify.contradictions import Contradiction, ContradictionKind, Statement
from index.embeddings import LocalMiniLMEmbeddings

MOD_USER = Actor(id="100", name="mod-by-id")
MOD_ROLE = Actor(id="300", name="mod-by-role", role_ids=frozenset({7, 8}))
USER = Actor(id="200", name="reader", role_ids=frozenset({9}))

CLAIM = "Trump rules out sending American troops to Ukraine as part of security guarantees."


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite here; tests/server/test_claims_postgres.py runs every test of this module on PostgreSQL."""
    return f"sqlite:///{tmp_path / 'claims.sqlite3'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(db_url: str, embeddings: LocalMiniLMEmbeddings, clock: FakeClock) -> Iterator[ClaimsService]:
    svc = ClaimsService(db_url, embeddings, moderator_user_ids=[100], moderator_role_ids=[7], clock=clock)
    yield svc
    svc.close()


def flag(service: ClaimsService, text: str = CLAIM, **kwargs: Any) -> ClaimView:
    kwargs.setdefault("verdict", "false")
    return service.flag(MOD_USER, text, **kwargs)


# --- flag, get, list ----------------------------------------------------------------------


def test_flag_then_get_and_list(service: ClaimsService, clock: FakeClock) -> None:
    claim = flag(
        service,
        "  " + CLAIM + "\n ",
        note="No such statement was made.",
        evidence_urls=["https://example.org/fact", "https://example.org/fact"],
        origin="https://discord.com/channels/1/2/3",
    )
    assert claim.text == CLAIM
    assert claim.verdict is Verdict.FALSE
    assert claim.status is ClaimStatus.OPEN
    assert claim.evidence_urls == ("https://example.org/fact",)
    assert claim.flagged_by == "100" and claim.flagged_by_name == "mod-by-id"
    assert claim.flagged_at == clock.now and claim.flagged_at.tzinfo is not None
    assert claim.flag_count == 1
    assert claim.embedding is not None and claim.embedding.shape == (384,)

    fetched = service.get(claim.id)
    assert fetched == claim
    assert fetched.flagged_at.utcoffset() == timedelta(0)

    second = service.flag(MOD_ROLE, "The measles vaccine causes autism.", "misleading")
    assert [c.id for c in service.list()] == [claim.id, second.id]
    assert [c.id for c in service.list(verdict="MISLEADING")] == [second.id]
    assert [c.id for c in service.list(status="open", verdict=Verdict.FALSE)] == [claim.id]
    assert service.list(status="resolved") == []
    with pytest.raises(InvalidInputError, match="unknown status"):
        service.list(status="closed")


def test_history_starts_with_flagged_event(service: ClaimsService) -> None:
    claim = flag(service, note="n")
    (event,) = service.history(claim.id)
    assert event.action is EventAction.FLAGGED
    assert event.actor == "100" and event.before is None
    assert event.after is not None and event.after["text"] == CLAIM and event.after["verdict"] == "false"


# --- permissions -------------------------------------------------------------------------


def test_non_moderator_is_refused_everything_that_changes(service: ClaimsService) -> None:
    with pytest.raises(PermissionDeniedError):
        service.flag(USER, CLAIM, "false")
    claim = flag(service)
    with pytest.raises(PermissionDeniedError):
        service.update(USER, claim.id, verdict="accurate")
    with pytest.raises(PermissionDeniedError):
        service.resolve(USER, claim.id, "done")
    service.resolve(MOD_USER, claim.id, "done")
    with pytest.raises(PermissionDeniedError):
        service.reopen(USER, claim.id)
    # Refusals change nothing.
    assert [e.action for e in service.history(claim.id)] == [EventAction.FLAGGED, EventAction.RESOLVED]
    assert service.get(claim.id).verdict is Verdict.FALSE


def test_moderators_by_user_id_and_by_role_may_change(service: ClaimsService) -> None:
    assert service.is_moderator(MOD_USER) and service.is_moderator(MOD_ROLE)
    assert not service.is_moderator(USER)
    claim = service.flag(MOD_ROLE, CLAIM, "disputed")
    service.update(MOD_USER, claim.id, verdict="false")
    service.resolve(MOD_ROLE, claim.id, "corrected at the source")
    reopened = service.reopen(MOD_USER, claim.id, "it is back")
    assert reopened.status is ClaimStatus.OPEN and reopened.verdict is Verdict.FALSE


def test_everyone_can_read(service: ClaimsService) -> None:
    claim = flag(service)
    assert service.get(claim.id).id == claim.id
    assert service.list()
    assert service.history(claim.id)
    assert service.export_claimreview()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t ", "!!! ...", "x" * 1001])
def test_bad_claim_text_is_refused(service: ClaimsService, text: str) -> None:
    with pytest.raises(InvalidInputError):
        service.flag(MOD_USER, text, "false")
    assert service.list() == []


def test_claim_text_limit_is_inclusive(service: ClaimsService) -> None:
    text = ("word " * 250)[:1000]
    assert len(text.strip()) <= 1000
    assert service.flag(MOD_USER, text, "unverified").text == text.strip()


def test_unknown_verdict_lists_the_valid_ones(service: ClaimsService) -> None:
    with pytest.raises(InvalidInputError) as info:
        service.flag(MOD_USER, CLAIM, "fake news")
    message = str(info.value)
    for verdict in ("disputed", "false", "misleading", "unverified", "accurate"):
        assert verdict in message
    assert isinstance(info.value, FactdeskError)


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "javascript:alert(1)", "example.org/no-scheme", "https://", "http:// bad"]
)
def test_bad_evidence_url_is_refused(service: ClaimsService, url: str) -> None:
    with pytest.raises(InvalidInputError, match="not an http"):
        service.flag(MOD_USER, CLAIM, "false", evidence_urls=[url])
    claim = flag(service)
    with pytest.raises(InvalidInputError):
        service.update(MOD_USER, claim.id, evidence_urls=["https://ok.example", url])
    assert service.get(claim.id).evidence_urls == ()


# --- duplicates -------------------------------------------------------------------------------


def test_same_normalized_text_is_merged(service: ClaimsService, clock: FakeClock) -> None:
    first = flag(service, evidence_urls=["https://a.example/1"], origin="https://news.example/a")
    clock.advance()
    again = service.flag(
        MOD_ROLE,
        "TRUMP rules out sending American troops to Ukraine, as part of security guarantees [2]",
        "accurate",
        note="seen again",
        evidence_urls=["https://a.example/1", "https://b.example/2"],
        origin="https://news.example/b",
    )
    assert again.id == first.id
    assert again.verdict is Verdict.FALSE  # a merge never changes the verdict
    assert again.flag_count == 2
    assert again.evidence_urls == ("https://a.example/1", "https://b.example/2")
    assert len(service.list()) == 1

    flagged, merged = service.history(first.id)
    assert flagged.action is EventAction.FLAGGED and merged.action is EventAction.MERGED
    assert merged.actor == MOD_ROLE.id and merged.at == clock.now
    assert merged.before == {"flag_count": 1, "evidence_urls": ["https://a.example/1"]}
    assert merged.after is not None
    assert merged.after["merged_flag"]["verdict"] == "accurate"
    assert merged.after["merged_flag"]["origin"] == "https://news.example/b"
    assert "not applied" in merged.note and "seen again" in merged.note


def test_near_identical_wording_is_merged_by_embedding(service: ClaimsService) -> None:
    first = flag(service, "Trump rules out sending American troops to Ukraine.")
    again = flag(service, "Trump rules out sending American troops into Ukraine.")
    assert again.id == first.id
    events = service.history(first.id)
    assert events[-1].action is EventAction.MERGED
    assert events[-1].after is not None and 0.95 <= events[-1].after["merged_flag"]["similarity"] < 1


def test_different_claims_are_not_merged(service: ClaimsService) -> None:
    a = flag(service, "Hamas is holding 50 hostages in Gaza.")
    b = flag(service, "Trump did not rule out sending American troops to Ukraine.")
    c = flag(service, CLAIM)
    assert len({a.id, b.id, c.id}) == 3


def test_resolved_claim_is_not_a_merge_target(service: ClaimsService) -> None:
    first = flag(service)
    service.resolve(MOD_USER, first.id, "retracted")
    second = flag(service)
    assert second.id != first.id and second.is_open
    with pytest.raises(InvalidInputError, match=f"#{second.id}"):
        service.reopen(MOD_USER, first.id)


def test_concurrent_duplicate_insert_becomes_a_merge(service: ClaimsService, monkeypatch: pytest.MonkeyPatch) -> None:
    first = flag(service)
    real = service._find_duplicate
    calls = {"n": 0}

    def blind_once(session: Any, new: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(session, new)

    monkeypatch.setattr(service, "_find_duplicate", blind_once)
    again = flag(service)  # first attempt collides with the partial unique index
    assert calls["n"] == 2
    assert again.id == first.id and again.flag_count == 2
    assert len(service.list()) == 1


# --- update, resolve, reopen ---------------------------------------------------------------------


def test_update_records_before_and_after(service: ClaimsService, clock: FakeClock) -> None:
    claim = flag(service, note="first note", evidence_urls=["https://a.example"])
    clock.advance(5)
    updated = service.update(MOD_USER, claim.id, verdict="misleading", note="better note", evidence_urls=[])
    assert updated.verdict is Verdict.MISLEADING and updated.note == "better note"
    assert updated.evidence_urls == () and updated.updated_at == clock.now
    assert updated.flagged_at == claim.flagged_at

    event = service.history(claim.id)[-1]
    assert event.action is EventAction.UPDATED
    assert event.before == {"verdict": "false", "note": "first note", "evidence_urls": ["https://a.example"]}
    assert event.after == {"verdict": "misleading", "note": "better note", "evidence_urls": []}


def test_update_only_records_what_changed(service: ClaimsService) -> None:
    claim = flag(service, note="same")
    service.update(MOD_USER, claim.id, verdict="false", note="same")  # no change at all
    assert len(service.history(claim.id)) == 1
    service.update(MOD_USER, claim.id, verdict="false", note="other")
    event = service.history(claim.id)[-1]
    assert event.before == {"note": "same"} and event.after == {"note": "other"}
    with pytest.raises(InvalidInputError, match="nothing to update"):
        service.update(MOD_USER, claim.id)


def test_resolve_keeps_the_complete_history(service: ClaimsService, clock: FakeClock) -> None:
    claim = flag(service)
    flag(service)  # merged
    service.update(MOD_USER, claim.id, verdict="misleading")
    clock.advance()
    resolved = service.resolve(MOD_ROLE, claim.id, "article corrected")
    assert resolved.status is ClaimStatus.RESOLVED and resolved.resolved_at == clock.now
    with pytest.raises(InvalidInputError, match="already resolved"):
        service.resolve(MOD_USER, claim.id, "again")
    clock.advance()
    reopened = service.reopen(MOD_USER, claim.id, "spreading again")
    assert reopened.is_open and reopened.resolved_at is None
    with pytest.raises(InvalidInputError, match="already open"):
        service.reopen(MOD_USER, claim.id)

    events = service.history(claim.id)
    assert [e.action for e in events] == [
        EventAction.FLAGGED,
        EventAction.MERGED,
        EventAction.UPDATED,
        EventAction.RESOLVED,
        EventAction.REOPENED,
    ]
    assert events[3].note == "article corrected" and events[3].actor == MOD_ROLE.id
    assert events[3].before == {"status": "open", "resolved_at": None}
    assert events[4].before is not None and events[4].before["status"] == "resolved"
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_unknown_id_is_not_found(service: ClaimsService) -> None:
    flag(service)
    for call in (
        lambda: service.get(999),
        lambda: service.history(999),
        lambda: service.update(MOD_USER, 999, note="x"),
        lambda: service.resolve(MOD_USER, 999, "x"),
        lambda: service.reopen(MOD_USER, 999),
        lambda: service.export_claimreview([1, 999]),
    ):
        with pytest.raises(NotFoundError, match="999"):
            call()
    with pytest.raises(InvalidInputError, match="must be a number"):
        # Front ends may pass what a user typed.
        service.get("abc")  # type: ignore[arg-type]
    assert service.get("#1").id == 1  # type: ignore[arg-type]


# --- migrations ---------------------------------------------------------------------------------------


def test_migrations_are_idempotent_and_match_the_models(db_url: str, embeddings: LocalMiniLMEmbeddings) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade_database(engine)
        upgrade_database(engine)
        assert current_revision(engine) == head_revision() == "0003"
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), Base.metadata
            )
            tables = set(sa.inspect(conn).get_table_names())
        assert diff == []
        assert {"claims", "claim_events", "suggested_flags", "factdesk_alembic_version"} <= tables
        assert {"digest_stories", "digest_digests", "digest_posts", "answer_posts"} <= tables

        first = ClaimsService(engine, embeddings, moderator_user_ids=["100"])
        claim = first.flag(MOD_USER, CLAIM, "false")
        second = ClaimsService(engine, embeddings)  # migrating an up-to-date database is a no-op
        assert second.get(claim.id) == claim
    finally:
        engine.dispose()


# --- ClaimReview ---------------------------------------------------------------------------------------


def test_claimreview_export_shape(service: ClaimsService) -> None:
    claim = flag(
        service,
        note="No such statement.",
        evidence_urls=["https://factcheck.example/1"],
        origin="https://news.example/story",
    )
    service.flag(MOD_ROLE, CLAIM, "false", origin="https://discord.com/channels/1/2/3")
    other = service.flag(MOD_ROLE, "Soho House is going private in a $2.7 billion deal.", "accurate", origin="a1")

    reviews = service.export_claimreview(publisher_name="Example Desk", review_url="https://d.example/c/{id}")
    assert len(reviews) == 2
    review = reviews[0]
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == CLAIM
    assert review["datePublished"] == "2025-04-01"
    assert review["author"] == {"@type": "Organization", "name": "Example Desk"}
    assert review["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 1,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "False",
    }
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["appearance"] == [
        {"@type": "CreativeWork", "url": "https://news.example/story"},
        {"@type": "CreativeWork", "url": "https://discord.com/channels/1/2/3"},
    ]
    assert item["firstAppearance"] == {"@type": "CreativeWork", "url": "https://news.example/story"}
    assert review["citation"] == [{"@type": "CreativeWork", "url": "https://factcheck.example/1"}]
    assert review["url"] == f"https://d.example/c/{claim.id}"
    assert review["reviewBody"] == "No such statement."

    accurate = reviews[1]
    assert accurate["reviewRating"]["ratingValue"] == 5
    assert "appearance" not in accurate["itemReviewed"]  # "a1" is an article id, not a URL
    assert service.export_claimreview([other.id])[0]["claimReviewed"] == other.text
    assert "url" not in service.export_claimreview([other.id])[0]


# --- suggestions ----------------------------------------------------------------------------------------


def test_suggestions_accept_and_dismiss(service: ClaimsService) -> None:
    contradiction = Contradiction(
        ContradictionKind.ROLE,
        Statement("U.S. President Trump rules out troops.", 1),
        Statement("Former US President Donald Trump wants a meeting.", 2),
        "current vs former",
    )
    suggestion = service.suggest_contradiction(contradiction)
    assert service.suggest_contradiction(contradiction).id == suggestion.id  # no duplicate while pending
    assert suggestion.status is SuggestionStatus.PENDING and suggestion.source_b == "[2]"
    other = service.suggest("number", "50 hostages", "[1]", "48 hostages", "[2]", "50 vs 48")
    assert [s.id for s in service.pending_suggestions()] == [suggestion.id, other.id]

    with pytest.raises(PermissionDeniedError):
        service.accept_suggestion(USER, suggestion.id)
    accepted, claim = service.accept_suggestion(MOD_USER, suggestion.id)
    assert accepted.status is SuggestionStatus.ACCEPTED and accepted.claim_id == claim.id
    assert accepted.decided_by == MOD_USER.id
    assert claim.text == "Former US President Donald Trump wants a meeting."
    assert claim.verdict is Verdict.DISPUTED and "current vs former" in claim.note
    assert service.history(claim.id)[0].note == f"accepted suggestion #{suggestion.id}"
    with pytest.raises(InvalidInputError, match="already accepted"):
        service.dismiss_suggestion(MOD_USER, suggestion.id)

    dismissed = service.dismiss_suggestion(MOD_ROLE, other.id)
    assert dismissed.status is SuggestionStatus.DISMISSED
    assert service.pending_suggestions() == []
    with pytest.raises(NotFoundError):
        service.get_suggestion(999)
