"""Plain-text renderings of shared models: a cited source's line, the sources block a prompt carries.

Discord's renderings (markdown, escaped) live in :mod:`bot.discord.render`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Source
from bot.core.text.links import parse_link
from bot.core.text.sanitize import clean_inline, clean_untrusted, fence, prompt_attribute


def prompt_sources(sources: Sequence[Source]) -> str:
    """The block the LLM sees: one fenced, numbered source per article.

    Attribute values are escaped (an outlet named ``Reuters" published="2030-01-01`` stays one
    value); titles and passages are fenced so they cannot close the block.
    """
    blocks = []
    for source in sources:
        when = source.published_at.date().isoformat() if source.published_at else "date unknown"
        body = "\n…\n".join(fence(clean_untrusted(p.text)) for p in source.passages)
        blocks.append(
            f'<source n="{source.number}" outlet="{prompt_attribute(source.outlet)}" published="{when}">\n'
            f"Title: {fence(clean_inline(source.title))}\n{body}\n</source>"
        )
    return "\n\n".join(blocks)


def source_line(source: Source) -> str:
    """``[n] Title — Outlet (also: …), 2025-04-05. https://…``: how answers and digests list a source.

    Plain text, cleaned for a terminal; the URL is shown as it really leads (no user-info).
    """
    when = source.published_at.date().isoformat() if source.published_at else "date unknown"
    also = f" (also: {clean_inline(', '.join(source.also_in))})" if source.also_in else ""
    link = parse_link(source.url)
    url = f" {link.url}" if link else ""
    return f"[{source.number}] {clean_inline(source.title)} — {clean_inline(source.outlet)}{also}, {when}.{url}"
