"""Reading and writing the digest history: stories, their events, digests and posts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.digest.clustering import StoryCluster
from bot.digest.continuity import KnownStory
from bot.digest.db import DigestDatabase, DigestRow, PostRow, StoryArticleRow, StoryEventRow, StoryRow
from bot.digest.models import Digest, Story, StoryEvent, StoryTimeline
from bot.digest.window import Window

log = logging.getLogger(__name__)

MAX_STORY_ENTITIES = 40


def _vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def _bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def _unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector / max(float(np.linalg.norm(vector)), 1e-12), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What one window says about one story, ready to store."""

    story_id: str
    cluster: StoryCluster
    summary: tuple[str, ...]
    new: tuple[str, ...]


class DigestHistory:
    """All database access of the digest package (one short transaction per call)."""

    def __init__(self, database: DigestDatabase) -> None:
        self.database = database

    def _session(self) -> Session:
        self.database.ensure_schema()
        return self.database.session()

    # ------------------------------------------------------------------ digests
    def find_digest(self, window: Window, topic: str | None) -> Digest | None:
        """The newest stored revision for this window and topic."""
        with self._session() as session:
            row = session.scalars(
                sa.select(DigestRow)
                .where(
                    DigestRow.window_start == window.start,
                    DigestRow.window_end == window.end,
                    DigestRow.topic == (topic or ""),
                )
                .order_by(DigestRow.revision.desc())
                .limit(1)
            ).first()
            return _digest_of(row) if row else None

    def latest(self, n: int) -> list[Digest]:
        with self._session() as session:
            rows = session.scalars(sa.select(DigestRow).order_by(DigestRow.id.desc()).limit(max(0, n))).all()
            return [_digest_of(r) for r in rows]

    def get_digest(self, digest_id: int) -> Digest | None:
        with self._session() as session:
            row = session.get(DigestRow, digest_id)
            return _digest_of(row) if row else None

    def save(
        self,
        digest: Digest,
        clusters: Sequence[StoryCluster],
        story_ids: dict[str, str],
        events: Sequence[EventRecord],
        embedding_model: str,
    ) -> Digest:
        """Stories, events and the digest in one transaction; returns the digest with its id."""
        now = datetime.now(UTC)
        window = digest.window
        with self._session() as session, session.begin():
            for cluster in clusters:
                self._upsert_story(session, story_ids[cluster.key], cluster, embedding_model, now)
            session.flush()
            for event in events:
                self._upsert_event(session, event, window, now)
            revision = (
                session.scalar(
                    sa.select(sa.func.max(DigestRow.revision)).where(
                        DigestRow.window_start == window.start,
                        DigestRow.window_end == window.end,
                        DigestRow.topic == (digest.topic or ""),
                    )
                )
                or 0
            ) + 1
            row = DigestRow(
                window_start=window.start,
                window_end=window.end,
                topic=digest.topic or "",
                revision=revision,
                created_at=digest.generated_at,
                engine=digest.engine,
                prompt_name=digest.prompt_name,
                prompt_hash=digest.prompt_hash,
                content={},
                markdown="",
            )
            session.add(row)
            session.flush()
            digest.digest_id = row.id
            row.content = digest.to_dict()
            row.markdown = digest.to_markdown()
        return digest

    @staticmethod
    def _upsert_story(
        session: Session, story_id: str, cluster: StoryCluster, embedding_model: str, now: datetime
    ) -> None:
        row = session.get(StoryRow, story_id)
        if row is None:
            row = StoryRow(
                id=story_id,
                headline=cluster.headline,
                centroid=_bytes(cluster.centroid),
                embedding_model=embedding_model,
                entities=list(cluster.entities[:MAX_STORY_ENTITIES]),
                outlets=list(cluster.outlets),
                first_seen=cluster.first_seen,
                last_seen=cluster.last_seen,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        else:
            old = _vector(row.centroid)
            if old.shape == cluster.centroid.shape and row.embedding_model == embedding_model:
                row.centroid = _bytes(_unit(old + cluster.centroid))  # drift with the news, keep the past
            else:
                row.centroid = _bytes(cluster.centroid)
                row.embedding_model = embedding_model
            if cluster.last_seen >= row.last_seen:
                row.headline = cluster.headline
            row.entities = list(dict.fromkeys([*cluster.entities, *row.entities]))[:MAX_STORY_ENTITIES]
            row.outlets = list(dict.fromkeys([*row.outlets, *cluster.outlets]))
            row.first_seen = min(row.first_seen, cluster.first_seen)
            row.last_seen = max(row.last_seen, cluster.last_seen)
            row.updated_at = now
        for article in cluster.articles:
            if article.id in cluster.secondary:
                continue
            if session.get(StoryArticleRow, (story_id, article.id)) is None:
                session.add(
                    StoryArticleRow(story_id=story_id, article_id=article.id, published_at=article.published_at)
                )

    @staticmethod
    def _upsert_event(session: Session, event: EventRecord, window: Window, now: datetime) -> None:
        row = session.scalars(
            sa.select(StoryEventRow).where(
                StoryEventRow.story_id == event.story_id,
                StoryEventRow.window_start == window.start,
                StoryEventRow.window_end == window.end,
            )
        ).first()
        cluster = event.cluster
        if row is None:
            row = StoryEventRow(
                story_id=event.story_id, window_start=window.start, window_end=window.end, created_at=now
            )
            session.add(row)
        row.article_ids = list(cluster.article_ids)
        row.headline = cluster.headline
        row.outlets = list(cluster.outlets)
        if event.summary or not row.summary:
            row.summary = list(event.summary)
            row.new = list(event.new)
        row.created_at = now

    # ------------------------------------------------------------------ stories
    def known_stories(self, since: datetime, until: datetime, embedding_model: str) -> list[KnownStory]:
        """Stories seen between ``since`` and ``until`` (built with the same embedding model)."""
        with self._session() as session:
            rows = session.scalars(
                sa.select(StoryRow).where(
                    StoryRow.last_seen >= since,
                    StoryRow.first_seen < until,
                    StoryRow.embedding_model == embedding_model,
                )
            ).all()
            articles: dict[str, set[str]] = {r.id: set() for r in rows}
            if rows:
                for link in session.scalars(
                    sa.select(StoryArticleRow).where(StoryArticleRow.story_id.in_(list(articles)))
                ):
                    articles[link.story_id].add(link.article_id)
            return [
                KnownStory(
                    id=r.id,
                    headline=r.headline,
                    centroid=_vector(r.centroid),
                    entities=frozenset(r.entities),
                    article_ids=frozenset(articles[r.id]),
                    first_seen=r.first_seen,
                    last_seen=r.last_seen,
                )
                for r in rows
            ]

    def previous_event(self, story_id: str, before: datetime) -> StoryEvent | None:
        """The story's last event from a window that started before ``before``."""
        with self._session() as session:
            row = session.scalars(
                sa.select(StoryEventRow)
                .where(StoryEventRow.story_id == story_id, StoryEventRow.window_start < before)
                .order_by(StoryEventRow.window_start.desc(), StoryEventRow.id.desc())
                .limit(1)
            ).first()
            return _event_of(row) if row else None

    def story(self, story_id: str) -> Story | None:
        with self._session() as session:
            row = session.get(StoryRow, story_id)
            return self._story_of(session, row) if row else None

    def events(self, story_id: str) -> list[StoryEvent]:
        with self._session() as session:
            rows = session.scalars(
                sa.select(StoryEventRow)
                .where(StoryEventRow.story_id == story_id)
                .order_by(StoryEventRow.window_start, StoryEventRow.window_end, StoryEventRow.id)
            ).all()
            return [_event_of(r) for r in rows]

    def timeline(self, story_id: str) -> StoryTimeline | None:
        story = self.story(story_id)
        return StoryTimeline(story, tuple(self.events(story_id))) if story else None

    def stories_for_search(self, embedding_model: str, limit: int) -> list[tuple[Story, np.ndarray]]:
        """The ``limit`` most recently seen stories with their centroids."""
        with self._session() as session:
            rows = session.scalars(
                sa.select(StoryRow)
                .where(StoryRow.embedding_model == embedding_model)
                .order_by(StoryRow.last_seen.desc())
                .limit(limit)
            ).all()
            return [(self._story_of(session, r), _vector(r.centroid)) for r in rows]

    def stories_of_article(self, article_id: str) -> list[str]:
        with self._session() as session:
            return list(
                session.scalars(sa.select(StoryArticleRow.story_id).where(StoryArticleRow.article_id == article_id))
            )

    @staticmethod
    def _story_of(session: Session, row: StoryRow) -> Story:
        article_ids = session.scalars(
            sa.select(StoryArticleRow.article_id)
            .where(StoryArticleRow.story_id == row.id)
            .order_by(StoryArticleRow.published_at, StoryArticleRow.article_id)
        ).all()
        return Story(
            id=row.id,
            headline=row.headline,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            article_ids=tuple(article_ids),
            outlets=tuple(row.outlets),
            entities=tuple(row.entities),
        )

    # ------------------------------------------------------------------ posts
    def was_posted(self, window: Window) -> bool:
        with self._session() as session:
            found = session.scalar(
                sa.select(PostRow.id).where(PostRow.window_start == window.start, PostRow.window_end == window.end)
            )
            return found is not None

    def mark_posted(self, window: Window, channel_id: int, message_id: int) -> bool:
        """Record the post; False if this window was already marked (by anyone, ever)."""
        try:
            with self._session() as session, session.begin():
                session.add(
                    PostRow(
                        window_start=window.start,
                        window_end=window.end,
                        channel_id=channel_id,
                        message_id=message_id,
                        posted_at=datetime.now(UTC),
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True


def _event_of(row: StoryEventRow) -> StoryEvent:
    return StoryEvent(
        story_id=row.story_id,
        window_start=row.window_start,
        window_end=row.window_end,
        article_ids=tuple(row.article_ids),
        headline=row.headline,
        summary=tuple(row.summary),
        new=tuple(row.new),
        outlets=tuple(row.outlets),
    )


def _digest_of(row: DigestRow) -> Digest:
    digest = Digest.from_dict(row.content)
    digest.digest_id = row.id
    digest.from_history = True
    return digest
