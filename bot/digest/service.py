"""The digest service: window → stories → summaries → stored digest, and the story history.

Built from parts (store, embeddings, history database, summarizer, optional claim
matcher); :class:`bot.app.Factdesk` builds it with its defaults.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from bot.core.clock import utc_now
from bot.core.errors import InvalidInputError, NotFoundError
from bot.core.models import CitedSentence, Source
from bot.core.protocols import claims_in_sources
from bot.digest.clustering import StoryCluster, StoryClusterer, story_key
from bot.digest.content import DEFAULT_MAX_CHUNKS, WindowContent, load_window
from bot.digest.continuity import KnownStory, StoryMatcher
from bot.digest.db import DigestDatabase
from bot.digest.history import DigestHistory, EventRecord
from bot.digest.models import Digest, DigestStory, DisputedMark, Story, StoryTimeline
from bot.digest.novelty import NO_NEWS, NoveltyFinder, candidates_from
from bot.digest.protocols import ClaimMatcherLike, WindowChunks
from bot.digest.sources import SourceBook
from bot.digest.summary import StorySummarizer
from bot.digest.topic import TopicFilter, topic_words
from bot.digest.window import Window, resolve_window
from index.embeddings import embed_array
from index.store import ChunkStore

log = logging.getLogger(__name__)

DEFAULT_MAX_STORIES = 10
MAX_TOPIC_CHARS = 200
FIND_THRESHOLD = 0.40
FIND_POOL = 2000
_STORY_ID = re.compile(r"^st-[0-9a-f]{10}$")


@dataclass(slots=True)
class _Produced:
    """A new digest and what the history must store with it."""

    digest: Digest
    clusters: list[StoryCluster]
    story_ids: dict[str, str]
    events: list[EventRecord]


@dataclass(frozen=True, slots=True)
class DigestOptions:
    max_stories: int = DEFAULT_MAX_STORIES
    max_chunks: int = DEFAULT_MAX_CHUNKS


def normalize_topic(topic: str | None) -> str | None:
    if topic is None:
        return None
    text = " ".join(topic.split())
    if not text:
        return None
    if len(text) > MAX_TOPIC_CHARS:
        raise InvalidInputError(f"--topic is too long ({len(text)} characters, at most {MAX_TOPIC_CHARS})")
    return text


class DigestService:
    """Produces, stores and looks up digests and story timelines."""

    def __init__(
        self,
        store: ChunkStore,
        database: DigestDatabase,
        summarizer: StorySummarizer,
        *,
        timezone: str = "UTC",
        clusterer: StoryClusterer | None = None,
        continuity: StoryMatcher | None = None,
        novelty: NoveltyFinder | None = None,
        topics: TopicFilter | None = None,
        claim_matcher: ClaimMatcherLike | None = None,
        options: DigestOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        chunks_from: WindowChunks | None = None,
    ) -> None:
        """``chunks_from``: where window chunks are read when not from ``store`` (see WindowChunks)."""
        self.store = store
        self.chunks_from = chunks_from
        self.embeddings = store.embeddings
        self.history = DigestHistory(database)
        self.summarizer = summarizer
        self.timezone = timezone
        self.clusterer = clusterer or StoryClusterer(self.embeddings)
        self.continuity = continuity or StoryMatcher()
        self.novelty = novelty or NoveltyFinder(self.embeddings)
        self.topics = topics or TopicFilter(self.embeddings)
        self.claim_matcher = claim_matcher
        self.options = options or DigestOptions()
        self.clock = clock

    # ------------------------------------------------------------------ windows
    def window(self, since: str | None = None, day: str | None = None, now: datetime | None = None) -> Window:
        """The window for CLI-style options in this service's timezone (default: last 24 hours)."""
        return resolve_window(since, day, now or self.clock(), self.timezone)

    # ------------------------------------------------------------------ digests
    def get_or_create(self, window: Window, topic: str | None = None, force: bool = False) -> Digest:
        """The stored digest for this window and topic, or a new one (always new with ``force``).

        A window that has not ended yet is always produced afresh: it may still gain articles.
        """
        topic = normalize_topic(topic)
        still_open = window.end > self.clock()
        if not force and not still_open:
            stored = self.history.find_digest(window, topic)
            if stored is not None:
                log.info("digest %s (%s) served from history", window.key, topic or "all")
                return stored
        produced = self._produce(window, topic)
        digest = produced.digest
        if still_open:
            digest.notes.append("This window had not ended when the digest was made; later articles are missing.")
        try:
            return self.history.save(
                digest, produced.clusters, produced.story_ids, produced.events, self.embeddings.model_name
            )
        except sa.exc.IntegrityError:  # another process stored the same revision first
            log.info("digest %s stored concurrently; serving the stored one", window.key)
            return self.history.find_digest(window, topic) or digest

    def latest(self, n: int = 5) -> list[Digest]:
        """The ``n`` most recently produced digests, newest first."""
        return self.history.latest(n)

    def get(self, digest_id: int) -> Digest:
        found = self.history.get_digest(digest_id)
        if found is None:
            raise NotFoundError(f"no digest with id {digest_id}")
        return found

    # ------------------------------------------------------------------ posts
    def was_posted(self, window: Window) -> bool:
        return self.history.was_posted(window)

    def mark_posted(self, window: Window, channel_id: int, message_id: int) -> bool:
        """Remember that this window's digest was posted; False if it already was."""
        return self.history.mark_posted(window, channel_id, message_id)

    # ------------------------------------------------------------------ stories
    def story_timeline(self, story_id: str) -> StoryTimeline:
        timeline = self.history.timeline(story_id)
        if timeline is None:
            raise NotFoundError(f"no story with id {story_id!r}")
        return timeline

    def find_stories(self, query: str, limit: int = 5) -> list[Story]:
        """Stories whose centroid is close to ``query`` or whose headline names it, best first."""
        text = " ".join((query or "").split())
        if not text:
            raise InvalidInputError("the story search is empty")
        if _STORY_ID.match(text):
            story = self.history.story(text)
            return [story] if story else []
        pool = self.history.stories_for_search(self.embeddings.model_name, FIND_POOL)
        if not pool:
            return []
        q = embed_array(self.embeddings, [text])[0]
        words = topic_words(text)
        scored: list[Story] = []
        for story, centroid in pool:
            cosine = float(centroid @ q) if centroid.shape == q.shape else 0.0
            names = set(re.findall(r"[^\W_]+", story.headline.lower())) | {w for e in story.entities for w in e.split()}
            hits = sum(1 for w in words if w in names) / len(words) if words else 0.0
            score = cosine + 0.15 * hits
            if score >= FIND_THRESHOLD or (words and hits == 1.0):
                scored.append(replace(story, score=score))
        scored.sort(key=lambda s: (-s.score, -s.last_seen.timestamp()))
        return scored[: max(1, limit)]

    # ------------------------------------------------------------------ producing
    def _produce(self, window: Window, topic: str | None) -> _Produced:
        started = time.perf_counter()
        content = load_window(self.store, window, self.options.max_chunks, self.chunks_from)
        clusters = self.clusterer.cluster(content)
        model = self.embeddings.model_name
        known = self.history.known_stories(
            window.start - self.continuity.max_gap, window.end + self.continuity.max_gap, model
        )
        story_ids = self._story_ids(clusters, known, window)

        shown = self.topics.relevant(topic, clusters, content) if topic else list(clusters)
        total_shown = len(shown)
        shown = shown[: self.options.max_stories]

        book = SourceBook()
        stories: list[DigestStory] = []
        events: dict[str, EventRecord] = {}
        notes: list[str] = list(content.notes)
        engines: set[str] = set()
        for cluster in shown:
            story_id = story_ids[cluster.key]
            sources = book.story_sources(cluster)
            summary = self.summarizer.summarize(cluster.headline, sources, window.label())
            engines.add(summary.engine)
            if summary.note and summary.note not in notes:
                notes.append(summary.note)
            previous = self.history.previous_event(story_id, window.start)
            before = (previous.summary or (previous.headline,)) if previous else None
            since_last = self._since_last(cluster.main_ids, content, sources, before)
            story = DigestStory(
                story_id=story_id,
                headline=cluster.headline,
                summary=summary.sentences,
                outlets=cluster.outlets,
                article_ids=tuple(cluster.article_ids),
                first_seen=min(cluster.first_seen, _first_seen(known, story_id) or cluster.first_seen),
                last_seen=cluster.last_seen,
                continuing=previous is not None,
                mentioned_in=cluster.mentioned_in,
                since_last=since_last if previous is not None else [],
                disputed=self._disputed(sources),
                engine=summary.engine,
            )
            stories.append(story)
            events[cluster.key] = EventRecord(
                story_id,
                cluster,
                tuple(s.text for s in summary.sentences),
                tuple(s.text for s in story.since_last),
            )
        for cluster in clusters:
            events.setdefault(cluster.key, EventRecord(story_ids[cluster.key], cluster, (), ()))
        sources_out = book.finalize(stories)
        engine = "+".join(sorted(engines, reverse=True)) if engines else self.summarizer.engine
        prompt = self.summarizer.prompt if self.summarizer.chat_model is not None else None
        article_count = len(content.articles)
        if topic:
            article_count = len({a for s in stories for a in s.article_ids})
        digest = Digest(
            window=window,
            topic=topic,
            generated_at=self.clock(),
            stories=stories,
            sources=sources_out,
            article_count=article_count,
            story_count=total_shown,
            undated_count=content.undated,
            window_articles=len(content.articles),
            engine=engine,
            prompt_name=prompt.name if prompt else "",
            prompt_hash=prompt.content_hash if prompt else "",
            notes=notes,
        )
        log.info(
            "digest %s: %d articles, %d stories (%d shown) in %.2fs",
            window.key,
            len(content.articles),
            len(clusters),
            len(stories),
            time.perf_counter() - started,
        )
        return _Produced(digest, clusters, story_ids, list(events.values()))

    def _story_ids(
        self, clusters: Sequence[StoryCluster], known: Sequence[KnownStory], window: Window
    ) -> dict[str, str]:
        """Cluster key → story id: the continued story's, or a new id no other story has."""
        continued = self.continuity.match(clusters, known)
        taken = {k.id for k in known}
        out: dict[str, str] = {}
        for cluster in clusters:
            if cluster.key in continued:
                out[cluster.key] = continued[cluster.key].story_id
                continue
            new_id = story_key(cluster.main_ids)
            if new_id in taken:  # its articles' story went to another cluster
                new_id = story_key([*cluster.main_ids, window.key])
            taken.add(new_id)
            out[cluster.key] = new_id
        return out

    def _since_last(
        self,
        article_ids: Sequence[str],
        content: WindowContent,
        sources: Sequence[Source],
        previous: Sequence[str] | None,
    ) -> list[CitedSentence]:
        if previous is None:
            return []
        by_article = {s.article_id: s for s in sources}
        newest = sorted(
            (by_article[a] for a in article_ids if a in by_article),
            key=lambda s: (s.published_at or content.window.start, s.number),
            reverse=True,
        )
        passages = [(s.passages[0].text, s.number) for s in newest if s.passages]
        found = self.novelty.new_sentences(candidates_from(passages), list(previous))
        if found:
            return found
        cites = tuple(s.number for s in newest[:2])
        return [CitedSentence(NO_NEWS, cites, 0.0, True)] if cites else []

    def _disputed(self, sources: Sequence[Source]) -> list[DisputedMark]:
        if self.claim_matcher is None:
            return []
        return [
            DisputedMark(
                claim_id=match.claim.id,
                claim=match.claim.text,
                verdict=str(getattr(match.claim.verdict, "value", match.claim.verdict)),
                note=match.claim.note,
                source_number=number,
                sentence=match.sentence,
            )
            for number, match in claims_in_sources(self.claim_matcher, sources)
        ]


def _first_seen(known: Sequence[KnownStory], story_id: str) -> datetime | None:
    return next((k.first_seen for k in known if k.id == story_id), None)
