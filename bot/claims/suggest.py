"""Suggested flags: contradictions between recently indexed articles about the same story.

Moderators review these (CLI ``factdesk claims suggest`` / the Discord moderators'
channel); nothing found here is ever published as a verdict on its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, cast

import numpy as np
from chromadb.api.types import Where

from bot.claims.service import ClaimsService, SuggestionView
from bot.verify.contradictions import Contradiction, Statement, detect_contradictions, statements_from_text
from bot.verify.disagreements import SourceDisagreements
from index.store import STATUS_COMPLETE, ChunkStore

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
    where = cast(Where, {"$and": [{"status": STATUS_COMPLETE}, {"published_ts": {"$gte": int(since.timestamp())}}]})
    result = store.articles.get(
        where=where,
        include=["embeddings", "documents", "metadatas"],
    )
    ids = list(result["ids"])[:max_articles]
    if len(ids) < 2:
        return []
    vectors = np.asarray(result["embeddings"], dtype=np.float32)[: len(ids)]
    metas = [dict(m or {}) for m in (result["metadatas"] or [])][: len(ids)]
    bodies = [d or "" for d in (result["documents"] or [])][: len(ids)]
    labels = [
        f"{m.get('outlet', '?')}, {str(m.get('published_at', ''))[:10]}: {m.get('title', '')} {m.get('url', '')}"
        for m in metas
    ]
    worth_reviewing = SourceDisagreements(finder=None if isinstance(finder, RuleFinder) else finder).relevant
    similar = vectors @ vectors.T
    suggestions: list[SuggestionView] = []
    for i, j in itertools.combinations(range(len(ids)), 2):
        if similar[i, j] < SAME_STORY_COSINE:
            continue
        statements = []
        for n in (i, j):
            published = datetime.fromisoformat(str(metas[n]["published_at"])).date()
            statements.extend(statements_from_text(bodies[n], n + 1, published)[:max_statements_per_article])
        for found in finder.find(statements):
            if not worth_reviewing(found):
                continue
            suggestions.append(service.suggest_contradiction(found, source_label=lambda n: labels[n - 1]))
    log.info("suggested %d flags from %d articles", len(suggestions), len(ids))
    return suggestions
