"""Plain-text renderings of shared models: the sources block a prompt carries.

Discord's renderings (markdown, escaped) live in :mod:`bot.discord.render`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Source
from bot.core.text.sanitize import fence


def prompt_sources(sources: Sequence[Source]) -> str:
    """The block the LLM sees: one fenced, numbered source per article."""
    blocks = []
    for source in sources:
        when = source.published_at.date().isoformat() if source.published_at else "date unknown"
        body = "\n…\n".join(fence(p.text) for p in source.passages)
        blocks.append(
            f'<source n="{source.number}" outlet="{fence(source.outlet)}" published="{when}">\n'
            f"Title: {fence(source.title)}\n{body}\n</source>"
        )
    return "\n\n".join(blocks)
