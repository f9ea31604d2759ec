"""Group a window's chunks into stories.

1. Chunks of one article that say similar things (cosine ≥ ``intra_article``) become
   one *unit*; a chunk about something else stays a unit of its own.
2. Units are clustered by average linkage on ``cosine + entity_weight × entity
   cosine`` (idf-weighted capitalised names, :mod:`bot.digest.entities`); units of
   the same article that step 1 kept apart are never pulled together.
3. A paragraph that names another story's people and places (≥ 2 of its salient
   names that its own story lacks) and whose embedding is closer to that story
   joins it too. Chunks are ~250 tokens, so a round-up article ("Meanwhile … Gaza …
   In other news, Soho House …") often packs several topics into one chunk; this is
   what lets it count in each story. Only a bounded number of paragraphs is embedded.

An article belongs to every story holding one of its units or paragraphs; its
main story is the one holding most of its chunks.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bot.digest.content import WindowArticle, WindowChunk, WindowContent
from bot.digest.entities import EntityVocabulary, Parsed, capitalised_words
from bot.digest.linkage import average_linkage
from index.embeddings import NamedEmbeddings, embed_array

log = logging.getLogger(__name__)

# all-MiniLM-L6-v2, chunk vectors as the store holds them (title + chunk text).
# LINK_THRESHOLD / ENTITY_WEIGHT: on the labelled stories of tests/data/digest and samples/corpus
# (8 windows: single days and whole spans) pairwise F1 is 1.0 for cuts 0.45-0.65 with weight
# 0.25 (without names, recall drops from 0.60 up); 0.55 is the middle. On MultiHop-RAG days
# (20 Nov-1 Dec 2023, `python -m benchmarks.digest`) 0.50-0.60 give the same purity against the
# category field (0.974); the names bonus needs salient names (see _unit_entities) and three
# shared ones to count fully, else one-off player lists glued a fantasy-football ranking to a
# basketball column.
# PARAGRAPH_JOIN / MARGIN: the seed article's Gaza and Soho House paragraphs score 0.72-0.78 to
# their stories against 0.25-0.42 to their own; on MultiHop-RAG the joins below 0.5, or within
# 0.1 of their own story, were passing mentions (an NHL coach's career, an AI aside).
INTRA_ARTICLE_MERGE = 0.72
LINK_THRESHOLD = 0.55
ENTITY_WEIGHT = 0.25
PARAGRAPH_JOIN = 0.50
PARAGRAPH_MARGIN = 0.10
FULL_NAME_EVIDENCE = 3.0
MIN_PARAGRAPH_NAMES = 2
MAX_PARAGRAPH_CHECKS = 48
_PARAGRAPH_SPLIT = re.compile(r"\n\s*\n|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A passage of an article that belongs to a story: a whole chunk or one paragraph of it."""

    chunk_id: str
    article_id: str
    text: str
    start: int
    end: int


@dataclass(slots=True)
class StoryCluster:
    """One story of one window, before it is matched to the stories already known."""

    key: str
    articles: list[WindowArticle]  # main members by centrality, then secondary members
    secondary: set[str]
    spans: dict[str, list[Span]]
    centroid: np.ndarray
    entities: tuple[str, ...]
    chunk_count: int
    headline: str = ""
    headline_article: str = ""
    names: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @property
    def article_ids(self) -> list[str]:
        return [a.id for a in self.articles]

    @property
    def main_ids(self) -> list[str]:
        return [a.id for a in self.articles if a.id not in self.secondary]

    @property
    def outlets(self) -> tuple[str, ...]:
        """Outlets whose article is mainly about this story (with their wire copies): its coverage."""
        seen: list[str] = []
        for article in self.articles:
            if article.id in self.secondary:
                continue
            for outlet in article.outlets:
                if outlet not in seen:
                    seen.append(outlet)
        return tuple(seen)

    @property
    def mentioned_in(self) -> tuple[str, ...]:
        """Other outlets whose articles touch the story in passing (a paragraph of a round-up)."""
        main = set(self.outlets)
        seen: list[str] = []
        for article in self.articles:
            if article.id in self.secondary:
                seen.extend(o for o in article.outlets if o not in main and o not in seen)
        return tuple(seen)

    @property
    def first_seen(self) -> datetime:
        return min(a.published_at for a in self.articles)

    @property
    def last_seen(self) -> datetime:
        return max(a.published_at for a in self.articles)


@dataclass(slots=True)
class _Unit:
    article_id: str
    chunks: list[int] = field(default_factory=list)
    vector: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))


def _unit(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)


def story_key(article_ids: Sequence[str]) -> str:
    """A stable id for a new story: the same articles always give the same id."""
    digest = hashlib.sha1("\n".join(sorted(article_ids)).encode("utf-8")).hexdigest()
    return f"st-{digest[:10]}"


class StoryClusterer:
    """Clusters a :class:`WindowContent` into :class:`StoryCluster` objects (see module docstring)."""

    def __init__(
        self,
        embeddings: NamedEmbeddings | None = None,
        *,
        link_threshold: float = LINK_THRESHOLD,
        entity_weight: float = ENTITY_WEIGHT,
        intra_article: float = INTRA_ARTICLE_MERGE,
        paragraph_join: float = PARAGRAPH_JOIN,
        max_paragraph_checks: int = MAX_PARAGRAPH_CHECKS,
    ) -> None:
        self.embeddings = embeddings
        self.link_threshold = link_threshold
        self.entity_weight = entity_weight
        self.intra_article = intra_article
        self.paragraph_join = paragraph_join
        self.max_paragraph_checks = max_paragraph_checks

    # ------------------------------------------------------------------ public
    def cluster(self, content: WindowContent) -> list[StoryCluster]:
        if content.empty:
            return []
        units = self._units(content)
        paragraphs = [_paragraphs(c) for c in content.chunks]
        titles = {a.id: capitalised_words(a.title) for a in content.articles.values()}
        vocabulary = EntityVocabulary.from_parsed([*titles.values(), *(p.parsed for ps in paragraphs for p in ps)])
        names = [[vocabulary.entities_of(p.parsed) for p in ps] for ps in paragraphs]
        unit_entities = [
            self._unit_entities(u, content, names, vocabulary.entities_of(titles[u.article_id])) for u in units
        ]
        entity_matrix, present = self._entity_matrix(unit_entities, units)
        similarity = self._similarity(units, entity_matrix, present)
        groups = average_linkage(similarity, self.link_threshold)
        groups = self._merge_nested(groups, units)
        clusters = [self._build(group, units, unit_entities, content) for group in groups]
        self._add_paragraphs(clusters, units, groups, content, paragraphs, names)
        for cluster in clusters:
            self._choose_headline(cluster, content)
        clusters.sort(key=lambda c: (-len(c.outlets), -c.last_seen.timestamp(), -len(c.articles), c.key))
        log.info("%d units → %d stories", len(units), len(clusters))
        return clusters

    # ------------------------------------------------------------------ units
    def _units(self, content: WindowContent) -> list[_Unit]:
        units: list[_Unit] = []
        by_article: dict[str, list[int]] = defaultdict(list)
        for i, chunk in enumerate(content.chunks):
            by_article[chunk.article_id].append(i)
        for article_id, rows in by_article.items():
            mine: list[_Unit] = []
            for row in rows:
                vector = content.vectors[row]
                scores = [float(u.vector @ vector) for u in mine]
                if scores and max(scores) >= self.intra_article:
                    unit = mine[int(np.argmax(scores))]
                    unit.chunks.append(row)
                    unit.vector = _unit(content.vectors[unit.chunks])
                else:
                    mine.append(_Unit(article_id, [row], vector.copy()))
            units.extend(mine)
        return units

    @staticmethod
    def _unit_entities(unit: _Unit, content: WindowContent, names: list[list[set[str]]], title: set[str]) -> set[str]:
        """The unit's salient names: in two or more of its paragraphs, or in the title (lede unit).

        A name said once is usually a passing mention (a player in a ranking, a city in
        a list); sharing one says little about two texts being the same story.
        """
        counts: Counter[str] = Counter()
        found: set[str] = set()
        for row in unit.chunks:
            for paragraph_names in names[row]:
                counts.update(paragraph_names)
            if content.chunks[row].index == 0:
                found |= title
        return found | {name for name, n in counts.items() if n >= 2}

    @staticmethod
    def _entity_matrix(entities: list[set[str]], units: list[_Unit]) -> tuple[np.ndarray, np.ndarray]:
        """Unit × name matrix, idf-weighted and L2-normalised, and the 0/1 matrix behind it.

        Names in only one article are dropped: they cannot be shared.
        """
        per_article: dict[str, set[str]] = defaultdict(set)
        for unit, names in zip(units, entities, strict=True):
            per_article[unit.article_id] |= names
        df = Counter(name for names in per_article.values() for name in names)
        n_articles = max(len(per_article), 1)
        vocab = {name: i for i, name in enumerate(sorted(n for n, c in df.items() if c >= 2))}
        matrix = np.zeros((len(units), max(len(vocab), 1)), dtype=np.float32)
        for row, names in enumerate(entities):
            for name in names:
                col = vocab.get(name)
                if col is not None:
                    matrix[row, col] = math.log(1.0 + n_articles / df[name])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.clip(norms, 1e-12, None), (matrix > 0).astype(np.float32)

    def _similarity(self, units: list[_Unit], entity_matrix: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Cosine plus the name bonus; the bonus needs FULL_NAME_EVIDENCE shared names to count fully.

        In a small window few names survive the df ≥ 2 cut, and one shared name ("NBA")
        would otherwise give two unrelated units a near-perfect name cosine.
        """
        vectors = np.stack([u.vector for u in units])
        evidence = np.minimum(1.0, (present @ present.T) / FULL_NAME_EVIDENCE)
        similarity = vectors @ vectors.T + self.entity_weight * evidence * (entity_matrix @ entity_matrix.T)
        owners = np.array([u.article_id for u in units])
        same_article = owners[:, None] == owners[None, :]
        similarity[same_article] = -1.0
        return np.asarray(similarity, dtype=np.float64)

    @staticmethod
    def _merge_nested(groups: list[list[int]], units: list[_Unit]) -> list[list[int]]:
        """Fold a group whose articles all belong to a bigger group into it.

        Long round-ups (deal lists, live blogs) split into several units; when two
        such articles pair up unit by unit, or an article's leftover unit stays
        alone, the result would be several "stories" with the same articles.
        """
        articles = [{units[i].article_id for i in g} for g in groups]
        size = [sum(len(units[i].chunks) for i in g) for g in groups]
        order = sorted(range(len(groups)), key=lambda g: (-len(articles[g]), -size[g], g))
        target: dict[int, int] = {}
        for rank, g in enumerate(order):
            for h in order[:rank]:
                if h not in target and articles[g] <= articles[h]:
                    target[g] = h
                    break
        merged = {g: list(groups[g]) for g in range(len(groups)) if g not in target}
        for g, h in target.items():
            merged[h].extend(groups[g])
        out = [sorted(m) for m in merged.values()]
        out.sort(key=lambda m: (-len(m), m[0]))
        return out

    # ------------------------------------------------------------------ stories
    def _build(
        self, group: list[int], units: list[_Unit], unit_entities: list[set[str]], content: WindowContent
    ) -> StoryCluster:
        chunk_rows = sorted(row for i in group for row in units[i].chunks)
        centroid = _unit(content.vectors[chunk_rows])
        spans: dict[str, list[Span]] = defaultdict(list)
        for row in chunk_rows:
            chunk = content.chunks[row]
            spans[chunk.article_id].append(_chunk_span(chunk))
        per_article: dict[str, set[str]] = defaultdict(set)
        for i in group:
            per_article[units[i].article_id] |= unit_entities[i]
        counts = Counter(name for names in per_article.values() for name in names)
        need = max(1, math.ceil(len(per_article) / 2))
        salient = tuple(sorted(n for n, c in counts.items() if c >= need))
        articles = [content.articles[a] for a in spans]
        return StoryCluster(
            key=story_key(list(spans)),
            articles=articles,
            secondary=set(),
            spans=dict(spans),
            centroid=centroid,
            entities=salient,
            chunk_count=len(chunk_rows),
            names=dict(per_article),
        )

    def _add_paragraphs(
        self,
        clusters: list[StoryCluster],
        units: list[_Unit],
        groups: list[list[int]],
        content: WindowContent,
        paragraphs: list[list[_Paragraph]],
        names: list[list[set[str]]],
    ) -> None:
        """Let paragraphs about another story's names join that story (bounded embedding work)."""
        if self.embeddings is None or len(clusters) < 2 or self.max_paragraph_checks <= 0:
            return
        story_of_unit = {u: s for s, group in enumerate(groups) for u in group}
        salient_in: dict[str, list[int]] = defaultdict(list)
        for s, cluster in enumerate(clusters):
            for name in cluster.entities:
                salient_in[name].append(s)
        own_cache: dict[tuple[int, str], set[str]] = {}
        candidates: list[tuple[int, int, int, Span]] = []  # (-shared, own story, other story, span)
        for u, unit in enumerate(units):
            own = story_of_unit[u]
            key = (own, unit.article_id)
            if key not in own_cache:
                # Names the rest of its own story uses: those say the paragraph is on topic.
                own_cache[key] = set().union(*(n for a, n in clusters[own].names.items() if a != unit.article_id))
            own_names = own_cache[key]
            for row in unit.chunks:
                for paragraph, found in zip(paragraphs[row], names[row], strict=True):
                    if len(found) < MIN_PARAGRAPH_NAMES or paragraph.words < 6:
                        continue
                    shared: Counter[int] = Counter()
                    for name in found - own_names:
                        shared.update(salient_in.get(name, ()))
                    for other, count in shared.items():
                        if count < MIN_PARAGRAPH_NAMES or other == own:
                            continue
                        if unit.article_id in clusters[other].spans:
                            continue
                        candidates.append((-count, own, other, paragraph.span))
        if not candidates:
            return
        candidates.sort(key=lambda c: (c[0], c[3].article_id, c[3].start, c[2]))
        candidates = candidates[: self.max_paragraph_checks]
        vectors = embed_array(self.embeddings, [c[3].text for c in candidates])
        for (_, own, other, span), vector in zip(candidates, vectors, strict=True):
            to_other = float(vector @ clusters[other].centroid)
            to_own = float(vector @ clusters[own].centroid)
            if to_other < self.paragraph_join or to_other < to_own + PARAGRAPH_MARGIN:
                continue
            cluster = clusters[other]
            if span.article_id not in cluster.spans:
                cluster.spans[span.article_id] = []
                cluster.articles.append(content.articles[span.article_id])
                cluster.secondary.add(span.article_id)
            if span not in cluster.spans[span.article_id]:
                cluster.spans[span.article_id].append(span)
            log.debug(
                "paragraph of %s joins story %s (%.2f vs %.2f)",
                span.article_id,
                cluster.key,
                to_other,
                to_own,
            )

    @staticmethod
    def _choose_headline(cluster: StoryCluster, content: WindowContent) -> None:
        """Most central main article first; its title is the story's headline."""
        index = {c.id: i for i, c in enumerate(content.chunks)}

        def centrality(article: WindowArticle) -> float:
            rows = [index[s.chunk_id] for s in cluster.spans[article.id] if s.chunk_id in index]
            return float(_unit(content.vectors[rows]) @ cluster.centroid) if rows else 0.0

        scores = {a.id: centrality(a) for a in cluster.articles}
        main = [a for a in cluster.articles if a.id not in cluster.secondary]
        rest = [a for a in cluster.articles if a.id in cluster.secondary]
        main.sort(key=lambda a: (-scores[a.id], a.published_at, a.id))
        rest.sort(key=lambda a: (-scores[a.id], a.published_at, a.id))
        cluster.articles = main + rest
        if main:
            cluster.headline = main[0].title
            cluster.headline_article = main[0].id


def _chunk_span(chunk: WindowChunk) -> Span:
    return Span(chunk.id, chunk.article_id, chunk.text, chunk.start, chunk.end)


@dataclass(frozen=True, slots=True)
class _Paragraph:
    span: Span
    parsed: Parsed
    words: int


def _paragraphs(chunk: WindowChunk) -> list[_Paragraph]:
    """Paragraphs of a chunk with their character spans in the article and their capitalised words."""
    out: list[_Paragraph] = []
    pos = 0
    for piece in _PARAGRAPH_SPLIT.split(chunk.text):
        found = chunk.text.find(piece, pos)
        if found < 0:
            continue
        pos = found + len(piece)
        text = piece.strip()
        if not text:
            continue
        offset = found + piece.find(text)
        span = Span(chunk.id, chunk.article_id, text, chunk.start + offset, chunk.start + offset + len(text))
        out.append(_Paragraph(span, capitalised_words(text), len(text.split())))
    return out


def main_story_of(clusters: Sequence[StoryCluster]) -> dict[str, str]:
    """Article id → key of the story holding most of its chunks (paragraph joins never count)."""
    best: dict[str, tuple[int, str]] = {}
    for cluster in clusters:
        for article_id in cluster.main_ids:
            n = len(cluster.spans.get(article_id, []))
            if article_id not in best or n > best[article_id][0]:
                best[article_id] = (n, cluster.key)
    return {a: key for a, (_, key) in best.items()}
