"""Digest-wide source numbering: every article cited anywhere in a digest gets one number.

Numbers are handed out provisionally while stories are summarised, then the
cited ones are renumbered 1..n in reading order and the rest dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core.models import CitedSentence, Passage, Source
from bot.digest.clustering import Span, StoryCluster
from bot.digest.content import WindowArticle
from bot.digest.models import DigestStory

MAX_SOURCES_PER_STORY = 6
MAX_SPANS_PER_SOURCE = 3


class SourceBook:
    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._articles: dict[str, WindowArticle] = {}

    def number(self, article: WindowArticle) -> int:
        if article.id not in self._numbers:
            self._numbers[article.id] = len(self._numbers) + 1
            self._articles[article.id] = article
        return self._numbers[article.id]

    def story_sources(
        self,
        cluster: StoryCluster,
        max_sources: int = MAX_SOURCES_PER_STORY,
        max_spans: int = MAX_SPANS_PER_SOURCE,
    ) -> list[Source]:
        """The story's most central articles as numbered sources holding the story's passages.

        Articles that only mention the story in passing are used when no article is about it.
        """
        main = [a for a in cluster.articles if a.id not in cluster.secondary]
        out: list[Source] = []
        for article in (main or cluster.articles)[:max_sources]:
            spans = sorted(cluster.spans.get(article.id, []), key=lambda s: s.start)[:max_spans]
            if not spans:
                continue
            out.append(
                Source(
                    number=self.number(article),
                    article_id=article.id,
                    title=article.title,
                    outlet=article.outlet,
                    url=article.url,
                    published_at=article.published_at,
                    passages=tuple(_passages(article, spans)),
                    also_in=tuple(c.outlet for c in article.also_in),
                )
            )
        return out

    def finalize(self, stories: Sequence[DigestStory]) -> list[Source]:
        """Renumber cited sources 1..n in reading order, rewriting every story's citations in place."""
        order: list[int] = []
        for story in stories:
            order.extend(n for n in story.cited_numbers() if n not in order)
        mapping = {old: new for new, old in enumerate(order, start=1)}
        for story in stories:
            story.summary = [_renumber(s, mapping) for s in story.summary]
            story.since_last = [_renumber(s, mapping) for s in story.since_last]
            story.disputed = [
                replace(m, source_number=mapping.get(m.source_number) if m.source_number else None)
                for m in story.disputed
            ]
        by_number = {n: a for a, n in self._numbers.items()}
        sources: list[Source] = []
        for old in order:
            article = self._articles[by_number[old]]
            sources.append(
                Source(
                    number=mapping[old],
                    article_id=article.id,
                    title=article.title,
                    outlet=article.outlet,
                    url=article.url,
                    published_at=article.published_at,
                    also_in=tuple(dict.fromkeys(c.outlet for c in article.also_in if c.outlet != article.outlet)),
                )
            )
        return sources


def _renumber(sentence: CitedSentence, mapping: dict[int, int]) -> CitedSentence:
    return replace(sentence, citations=tuple(mapping[n] for n in sentence.citations if n in mapping))


def _passages(article: WindowArticle, spans: Sequence[Span]) -> list[Passage]:
    """One passage per chunk: paragraphs of the same chunk are joined (chunk ids stay unique)."""
    by_chunk: dict[str, list[Span]] = {}
    for span in spans:
        by_chunk.setdefault(span.chunk_id, []).append(span)
    return [
        Passage(
            chunk_id=chunk_id,
            article_id=article.id,
            text="\n\n".join(s.text for s in parts),
            title=article.title,
            outlet=article.outlet,
            url=article.url,
            published_at=article.published_at,
            start=min(s.start for s in parts),
            end=max(s.end for s in parts),
        )
        for chunk_id, parts in by_chunk.items()
    ]
