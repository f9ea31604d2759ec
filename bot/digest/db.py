"""The digest history's tables (all prefixed ``digest_``), on the one database of :mod:`bot.core.db`.

The schema comes from the Alembic migrations there (revision 0002); datetimes are
stored as UTC and always come back timezone-aware (SQLite too).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from bot.core.db.base import Base
from bot.core.db.engine import make_engine
from bot.core.db.migrate import upgrade_database
from bot.core.errors import StoreError

log = logging.getLogger(__name__)


class StoryRow(Base):
    """A story across windows; ``centroid`` is float32 little-endian bytes of a unit vector."""

    __tablename__ = "digest_stories"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    headline: Mapped[str] = mapped_column(sa.Text)
    centroid: Mapped[bytes] = mapped_column(sa.LargeBinary)
    embedding_model: Mapped[str] = mapped_column(sa.String(200), default="")
    entities: Mapped[list[str]] = mapped_column(default=list)
    outlets: Mapped[list[str]] = mapped_column(default=list)
    first_seen: Mapped[datetime] = mapped_column(index=True)
    last_seen: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StoryArticleRow(Base):
    __tablename__ = "digest_story_articles"

    story_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("digest_stories.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True, index=True)
    published_at: Mapped[datetime | None]


class StoryEventRow(Base):
    __tablename__ = "digest_story_events"
    __table_args__ = (
        sa.UniqueConstraint("story_id", "window_start", "window_end", name="uq_digest_story_events_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("digest_stories.id", ondelete="CASCADE"), index=True
    )
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    article_ids: Mapped[list[str]] = mapped_column(default=list)
    headline: Mapped[str] = mapped_column(sa.Text)
    summary: Mapped[list[str]] = mapped_column(default=list)
    new: Mapped[list[str]] = mapped_column(default=list)
    outlets: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class DigestRow(Base):
    """A produced digest; regenerating a window adds a revision, the newest one is served."""

    __tablename__ = "digest_digests"
    __table_args__ = (
        sa.UniqueConstraint("window_start", "window_end", "topic", "revision", name="uq_digest_digests_revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    topic: Mapped[str] = mapped_column(sa.String(500), default="")
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(index=True)
    engine: Mapped[str] = mapped_column(sa.String(32))
    prompt_name: Mapped[str] = mapped_column(sa.String(100), default="")
    prompt_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    content: Mapped[dict[str, Any]]
    markdown: Mapped[str] = mapped_column(sa.Text)


class PostRow(Base):
    """A digest window posted to a channel: the guard against posting a daily digest twice."""

    __tablename__ = "digest_posts"
    __table_args__ = (sa.UniqueConstraint("window_start", "window_end", name="uq_digest_posts_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    channel_id: Mapped[int] = mapped_column(sa.BigInteger)
    message_id: Mapped[int] = mapped_column(sa.BigInteger)
    posted_at: Mapped[datetime]


class DigestDatabase:
    """Owns the session factory over the database's ``digest_*`` tables; migrates it on first use.

    Pass ``migrate=False`` when the caller (the application) has already migrated the database.
    """

    def __init__(self, url_or_engine: str | Engine, *, migrate: bool = True) -> None:
        self._owns_engine = isinstance(url_or_engine, str)
        self.engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._ready = not migrate

    def ensure_schema(self) -> None:
        if self._ready:
            return
        try:
            upgrade_database(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open the digest database: {exc}") from exc
        self._ready = True

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        """Dispose of the engine if this object created it from a URL."""
        if self._owns_engine:
            self.engine.dispose()
