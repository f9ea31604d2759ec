"""Embeds as plain text, for READMEs, release notes and eyeballing renders in tests."""

from __future__ import annotations

from collections.abc import Sequence

import discord


def embed_to_text(embed: discord.Embed) -> str:
    """Title, link, description, fields and footer, in the order Discord shows them."""
    lines: list[str] = []
    if embed.title:
        lines.append(f"## {embed.title}")
    if embed.url:
        lines.append(f"<{embed.url}>")
    if embed.description:
        lines.append(embed.description)
    for field in embed.fields:
        lines.append(f"**{field.name}**\n{field.value}")
    if embed.footer.text:
        lines.append("\n".join(f"-# {line}" for line in embed.footer.text.splitlines()))
    return "\n\n".join(lines)


def message_to_text(embeds: Sequence[discord.Embed], content: str | None = None) -> str:
    """A whole message: its content, then each embed separated by a rule."""
    parts = [content] if content else []
    parts.extend(embed_to_text(e) for e in embeds)
    return "\n\n---\n\n".join(parts)
