"""ORM tables of the claims store: claims, their audit log, and contradiction suggestions.

Column types are chosen to behave identically on SQLite and PostgreSQL: enums are
VARCHAR + CHECK (no native PostgreSQL ENUM to migrate), JSON is SQLAlchemy's
portable ``JSON``, embeddings are little-endian float32 bytes, and timestamps
always come back timezone-aware in UTC (SQLite drops the offset on its own).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.db.base import Base


class Verdict(enum.StrEnum):
    """How a moderator rates a claim; the order is the ClaimReview rating order, worst first."""

    FALSE = "false"
    MISLEADING = "misleading"
    DISPUTED = "disputed"
    UNVERIFIED = "unverified"
    ACCURATE = "accurate"


class ClaimStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class EventAction(enum.StrEnum):
    FLAGGED = "flagged"
    MERGED = "merged"
    UPDATED = "updated"
    RESOLVED = "resolved"
    REOPENED = "reopened"


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


def _enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


def enum_column_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """VARCHAR + CHECK storing the enum's values (not names), identical on both backends."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=_enum_values,
        validate_strings=True,
    )


class Claim(Base):
    """A flagged claim. Rows are never deleted; every change is mirrored by a ClaimEvent."""

    __tablename__ = "claims"
    __table_args__ = (
        # At most one *open* claim per normalized text: concurrent duplicate flags
        # collide here and the loser is merged instead of creating a twin.
        sa.Index(
            "uq_claims_open_normalized_text",
            "normalized_text",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    normalized_text: Mapped[str] = mapped_column(sa.Text, index=True)
    verdict: Mapped[Verdict] = mapped_column(enum_column_type(Verdict, "claim_verdict"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_urls: Mapped[list[str]] = mapped_column(default=list)
    flagged_by: Mapped[str] = mapped_column(sa.String(200))
    flagged_by_name: Mapped[str] = mapped_column(sa.String(200), default="")
    flagged_at: Mapped[datetime]
    origin: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[ClaimStatus] = mapped_column(enum_column_type(ClaimStatus, "claim_status"), default=ClaimStatus.OPEN)
    resolved_at: Mapped[datetime | None]
    flag_count: Mapped[int] = mapped_column(default=1)
    embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    embedding_model: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime]

    events: Mapped[list[ClaimEvent]] = relationship(back_populates="claim", order_by="ClaimEvent.id", lazy="raise")


class ClaimEvent(Base):
    """One entry of a claim's audit log: who did what, when, with the fields before and after."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claims.id"), index=True)
    action: Mapped[EventAction] = mapped_column(enum_column_type(EventAction, "claim_event_action"))
    actor: Mapped[str] = mapped_column(sa.String(200))
    actor_name: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[datetime]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")

    claim: Mapped[Claim] = relationship(back_populates="events", lazy="raise")


class SuggestedFlag(Base):
    """A contradiction the detector found, waiting for a moderator to accept or dismiss it."""

    __tablename__ = "suggested_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_a: Mapped[str] = mapped_column(sa.Text)
    source_a: Mapped[str | None] = mapped_column(sa.Text)
    text_b: Mapped[str | None] = mapped_column(sa.Text)
    source_b: Mapped[str | None] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(32))
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_column_type(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.PENDING, index=True
    )
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(sa.String(200))
    decided_at: Mapped[datetime | None]
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claims.id"))
