"""The digest history's tables (all prefixed ``digest_``) and its engine.

The schema is created with ``metadata.create_all`` and carries a one-row version
table; a database written by a newer schema is refused rather than misread.
Datetimes are stored as UTC and always come back timezone-aware (SQLite too).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from bot.core.errors import ConfigError, StoreError
from bot.dbtypes import UTCDateTime

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        list[str]: sa.JSON(),
        dict[str, Any]: sa.JSON(),
    }


class SchemaVersion(Base):
    __tablename__ = "digest_schema"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]


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


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created first."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"invalid database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(parsed)


class DigestDatabase:
    """Owns the engine and session factory; creates the tables on first use."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._ready = False

    def ensure_schema(self) -> None:
        if self._ready:
            return
        try:
            Base.metadata.create_all(self.engine)
            with self.session() as session, session.begin():
                row = session.get(SchemaVersion, 1)
                if row is None:
                    session.add(SchemaVersion(id=1, version=SCHEMA_VERSION))
                elif row.version > SCHEMA_VERSION:
                    raise ConfigError(
                        f"the digest database has schema version {row.version}, newer than this "
                        f"factdesk ({SCHEMA_VERSION}); upgrade factdesk"
                    )
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open the digest database: {exc}") from exc
        self._ready = True

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()
