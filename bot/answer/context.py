"""Numbering sources and packing their passages into a prompt within a token budget.

The prompt's sources block is :func:`bot.core.render.prompt_sources` (shared with digests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.models import Passage, Source
from index.tokens import count_tokens


def number_sources(
    passages: Sequence[Passage],
    budget_tokens: int,
    also_in: Callable[[str], tuple[str, ...]] | None = None,
    max_sources: int = 8,
) -> list[Source]:
    """Group passages by article in rank order, numbering articles 1..n, within the token budget."""
    order: list[str] = []
    grouped: dict[str, list[Passage]] = {}
    used = 0
    for passage in passages:
        cost = count_tokens(passage.text) + 30  # header and separators
        if used + cost > budget_tokens:
            continue
        if passage.article_id not in grouped:
            if len(order) >= max_sources:
                continue
            order.append(passage.article_id)
            grouped[passage.article_id] = []
        grouped[passage.article_id].append(passage)
        used += cost
    sources = []
    for number, article_id in enumerate(order, 1):
        parts = sorted(grouped[article_id], key=lambda p: p.start)
        first = parts[0]
        sources.append(
            Source(
                number=number,
                article_id=article_id,
                title=first.title,
                outlet=first.outlet,
                url=first.url,
                published_at=first.published_at,
                passages=tuple(parts),
                also_in=also_in(article_id) if also_in else (),
            )
        )
    return sources
