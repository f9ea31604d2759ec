"""Digest history: stories, their articles and events, digests, posts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Earlier versions created these tables with ``metadata.create_all`` and a one-row
``digest_schema`` version table (schema version 1). Such tables are the same schema
as below, so they are adopted as they are and ``digest_schema`` is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("digest_posts", "digest_digests", "digest_story_events", "digest_story_articles", "digest_stories")


def _when(name: str, nullable: bool = False, index: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "digest_schema" in existing:
        version = op.get_bind().execute(sa.text("SELECT version FROM digest_schema WHERE id = 1")).scalar()
        if version is not None and int(version) > 1:
            raise RuntimeError(f"the digest tables have schema version {version}, newer than this factdesk knows")
    if not set(TABLES) <= existing:
        _create_tables()
    if "digest_schema" in existing:
        op.drop_table("digest_schema")


def _create_tables() -> None:
    op.create_table(
        "digest_stories",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("embedding_model", sa.String(length=200), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("outlets", sa.JSON(), nullable=False),
        _when("first_seen"),
        _when("last_seen"),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_stories")),
    )
    op.create_index(op.f("ix_digest_stories_first_seen"), "digest_stories", ["first_seen"], unique=False)
    op.create_index(op.f("ix_digest_stories_last_seen"), "digest_stories", ["last_seen"], unique=False)
    op.create_table(
        "digest_story_articles",
        sa.Column("story_id", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        _when("published_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["digest_stories.id"],
            name=op.f("fk_digest_story_articles_story_id_digest_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", "article_id", name=op.f("pk_digest_story_articles")),
    )
    op.create_index(op.f("ix_digest_story_articles_article_id"), "digest_story_articles", ["article_id"], unique=False)
    op.create_table(
        "digest_story_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.String(length=32), nullable=False),
        _when("window_start"),
        _when("window_end"),
        sa.Column("article_ids", sa.JSON(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.Column("outlets", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["digest_stories.id"],
            name=op.f("fk_digest_story_events_story_id_digest_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_story_events")),
        sa.UniqueConstraint("story_id", "window_start", "window_end", name="uq_digest_story_events_window"),
    )
    op.create_index(op.f("ix_digest_story_events_story_id"), "digest_story_events", ["story_id"], unique=False)
    op.create_table(
        "digest_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("window_start"),
        _when("window_end"),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("prompt_name", sa.String(length=100), nullable=False),
        sa.Column("prompt_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_digests")),
        sa.UniqueConstraint("window_start", "window_end", "topic", "revision", name="uq_digest_digests_revision"),
    )
    op.create_index(op.f("ix_digest_digests_created_at"), "digest_digests", ["created_at"], unique=False)
    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("window_start"),
        _when("window_end"),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        _when("posted_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_posts")),
        sa.UniqueConstraint("window_start", "window_end", name="uq_digest_posts_window"),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
