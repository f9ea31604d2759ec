"""Plain-text renderings of shared models: a cited source's line, the sources block a prompt carries.

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


def source_line(source: Source) -> str:
    """``[n] Title — Outlet (also: …), 2025-04-05. https://…``: how answers and digests list a source."""
    when = source.published_at.date().isoformat() if source.published_at else "date unknown"
    also = f" (also: {', '.join(source.also_in)})" if source.also_in else ""
    url = f" {source.url}" if source.url else ""
    return f"[{source.number}] {source.title} — {source.outlet}{also}, {when}.{url}"
