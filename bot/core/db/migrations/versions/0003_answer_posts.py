"""Posted answers: what an answer's buttons need once the answer has left memory.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_posts",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("first_sentence", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_answer_posts")),
    )
    op.create_index(op.f("ix_answer_posts_posted_at"), "answer_posts", ["posted_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_answer_posts_posted_at"), table_name="answer_posts")
    op.drop_table("answer_posts")
