"""Suggested flags: contradictions between recently indexed articles about the same story.

Moderators review these (CLI ``factdesk claims suggest`` / the Discord moderators'
channel); nothing found here is ever published as a verdict on its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import numpy as np

from bot.claims.service import ClaimsService, SuggestionView
from bot.verify.contradictions import Contradiction, Statement, detect_contradictions, statements_from_text
from bot.verify.disagreements import SourceDisagreements
from index.store import ArticleRecord, ChunkStore

log = logging.getLogger(__name__)

# Article vectors (mean of chunk vectors) this close are taken to be about the same story.
SAME_STORY_COSINE = 0.75


class Finder(Protocol):
    def find(self, statements: Sequence[Statement]) -> list[Contradiction]: ...


class RuleFinder:
    def find(self, statements: Sequence[Statement]) -> list[Contradiction]:
        return detect_contradictions(statements)


def suggest_flags(
    store: ChunkStore,
    service: ClaimsService,
    since: datetime,
    finder: Finder | None = None,
    max_articles: int = 60,
    max_statements_per_article: int = 25,
) -> list[SuggestionView]:
    """Compare articles published since ``since`` with each other, pairwise within a story."""
    finder = finder or RuleFinder()
    articles = store.complete_articles_since(since)[:max_articles]
    if len(articles) < 2:
        return []
    vectors = np.stack([a.vector for a in articles])
    bodies = [a.body for a in articles]
    labels = [_label(a.record) for a in articles]
    worth_reviewing = SourceDisagreements(finder=None if isinstance(finder, RuleFinder) else finder).relevant
    similar = vectors @ vectors.T
    suggestions: list[SuggestionView] = []
    for i, j in itertools.combinations(range(len(articles)), 2):
        if similar[i, j] < SAME_STORY_COSINE:
            continue
        statements = []
        for n in (i, j):
            published_at = articles[n].record.published_at
            assert published_at is not None  # only dated articles are published since a moment
            published = published_at.date()
            statements.extend(statements_from_text(bodies[n], n + 1, published)[:max_statements_per_article])
        for found in finder.find(statements):
            if not worth_reviewing(found):
                continue
            suggestions.append(service.suggest_contradiction(found, source_label=lambda n: labels[n - 1]))
    log.info("suggested %d flags from %d articles", len(suggestions), len(articles))
    return suggestions


def _label(record: ArticleRecord) -> str:
    """Where a statement comes from, as moderators see it: "Outlet, 2025-04-03: Title URL"."""
    day = record.published_at.date().isoformat() if record.published_at else ""
    return f"{record.outlet}, {day}: {record.title} {record.url or ''}"
