"""Initial claims schema: claims, claim_events, suggested_flags.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Types are spelled out here rather than imported from the models, so this
revision keeps describing the same schema after the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized_text", sa.Text(), nullable=False),
        sa.Column(
            "verdict",
            _enum("claim_verdict", "false", "misleading", "disputed", "unverified", "accurate"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence_urls", sa.JSON(), nullable=False),
        sa.Column("flagged_by", sa.String(length=200), nullable=False),
        sa.Column("flagged_by_name", sa.String(length=200), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("status", _enum("claim_status", "open", "resolved"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flag_count", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    op.create_index(op.f("ix_claims_normalized_text"), "claims", ["normalized_text"], unique=False)
    op.create_index(
        "uq_claims_open_normalized_text",
        "claims",
        ["normalized_text"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "claim_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            _enum("claim_event_action", "flagged", "merged", "updated", "resolved", "reopened"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_claim_events_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_events")),
    )
    op.create_index(op.f("ix_claim_events_claim_id"), "claim_events", ["claim_id"], unique=False)

    op.create_table(
        "suggested_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text_a", sa.Text(), nullable=False),
        sa.Column("source_a", sa.Text(), nullable=True),
        sa.Column("text_b", sa.Text(), nullable=True),
        sa.Column("source_b", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", _enum("suggestion_status", "pending", "accepted", "dismissed"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.id"], name=op.f("fk_suggested_flags_claim_id_claims")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggested_flags")),
    )
    op.create_index(op.f("ix_suggested_flags_status"), "suggested_flags", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_suggested_flags_status"), table_name="suggested_flags")
    op.drop_table("suggested_flags")
    op.drop_index(op.f("ix_claim_events_claim_id"), table_name="claim_events")
    op.drop_table("claim_events")
    op.drop_index("uq_claims_open_normalized_text", table_name="claims")
    op.drop_index(op.f("ix_claims_normalized_text"), table_name="claims")
    op.drop_table("claims")
