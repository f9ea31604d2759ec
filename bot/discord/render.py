"""Core results as Discord embeds and message text, always within Discord's limits.

Discord rejects a whole message when one limit is exceeded, so content that matters
(answers, sources, digests) is split into continuation fields, embeds and messages,
never silently dropped; only titles are shortened. Text that came from articles or
a model is escaped so it cannot format, link or mention. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

import discord

from bot.answer.models import Answer, Source
from bot.claims.models import ClaimStatus, SuggestionStatus, Verdict
from bot.claims.service import ClaimView, SuggestionView
from bot.core.text.links import link_label, parse_link
from bot.core.text.markers import CANONICAL_RUN
from bot.core.text.sanitize import clean_untrusted
from bot.digest.models import Digest, render_sentence
from index.pipeline import IngestReport
from index.stats import IndexStats

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # per message: the sum over all of its embeds
EMBEDS_PER_MESSAGE = 10
CONTENT_LIMIT = 2000

# Links longer than this are shown as plain titles: a field cannot hold them with room to spare.
MAX_LINK_URL = 512
MAX_LINK_LABEL = 200
# What one answer may post: its text (a model that ignores max_tokens, or repeats itself, could
# otherwise fill 25 messages), and the messages the final answer takes (sources and notes included).
MAX_ANSWER_CHARS = 10_000
MAX_ANSWER_MESSAGES = 5

ANSWER_COLOUR = discord.Colour.blurple()
WARNING_COLOUR = discord.Colour.orange()
REFUSAL_COLOUR = discord.Colour.light_grey()
DIGEST_COLOUR = discord.Colour.teal()
RESOLVED_COLOUR = discord.Colour.dark_grey()
VERDICT_COLOURS: dict[Verdict, discord.Colour] = {
    Verdict.FALSE: discord.Colour.red(),
    Verdict.MISLEADING: discord.Colour.orange(),
    Verdict.DISPUTED: discord.Colour.gold(),
    Verdict.UNVERIFIED: discord.Colour.light_grey(),
    Verdict.ACCURATE: discord.Colour.green(),
}

# Spans a split must never cut: masked links, runs of [n] markers, bare or <wrapped> URLs.
_PROTECTED = re.compile(
    r"\[[^\[\]\n]*\]\(<?[^()\s<>]*>?\)"
    rf"|{CANONICAL_RUN}"
    r"|<https?://[^\s>]+>"
    r"|https?://[^\s<>()\[\]]+"
)
# A piece must not start with a citation marker: "[1]" belongs to the words before it. (A marker
# at the start of a line is a list item such as a source line, so a line break before it is fine.)
_MARKER_AHEAD = re.compile(rf"[ \t]*{CANONICAL_RUN}")
# (separator, characters of it kept at the end of the first piece), gentlest first.
_BREAKS: tuple[tuple[str, int], ...] = (
    ("\n\n", 0),
    ("\n", 0),
    (". ", 1),
    ("! ", 1),
    ("? ", 1),
    ("; ", 1),
    (" ", 0),
)
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"


# --------------------------------------------------------------------------- text helpers


def escape(text: str) -> str:
    """Article or model text made inert: cleaned (controls, bidi, escapes), markdown escaped,
    masked links and mentions broken."""
    text = discord.utils.escape_markdown(clean_untrusted(text))
    text = text.replace("](", "]\\(")
    return discord.utils.escape_mentions(text)


def truncate(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters with an ellipsis (for titles and names only)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe inside ``[label](url)`` (parentheses and spaces encoded, no user-info), else None."""
    target = parse_link(url)
    if target is None or len(target.url) > MAX_LINK_URL:
        return None
    return quote(target.url, safe=_URL_SAFE)


def link(label: str, url: str | None) -> str:
    """A markdown link with an escaped label, or the plain label when the URL is unusable.

    A label that looks like an address is replaced by the host the link really leads to.
    """
    target = safe_url(url)
    parsed = parse_link(target) if target else None
    shown = link_label(label, parsed) if parsed else label
    text = truncate(escape(shown.replace("[", "(").replace("]", ")")), MAX_LINK_LABEL) or "link"
    return f"[{text}]({target})" if target else text


def quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _cut_point(text: str, limit: int) -> int:
    """Where to end the first piece: the gentlest boundary at or before ``limit`` that cuts nothing."""
    spans = [(m.start(), m.end()) for m in _PROTECTED.finditer(text) if m.start() < limit]

    def allowed(cut: int) -> bool:
        if any(start < cut < end for start, end in spans):
            return False
        return _MARKER_AHEAD.match(text, cut) is None

    for separator, keep in _BREAKS:
        # Paragraph and sentence breaks only count if they leave a reasonably full piece.
        minimum = 1 if separator == " " else limit // 2
        pos = text.rfind(separator, 0, limit - keep + len(separator))
        while pos != -1:
            cut = pos + keep
            if cut < minimum:
                break
            if cut <= limit and allowed(cut):
                return cut
            pos = text.rfind(separator, 0, pos)
    # No boundary at all (one enormous word): cut hard, but before a protected span the limit falls in.
    for start, end in spans:
        if 0 < start < limit < end:
            return start
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraphs, lines, sentences, then words.

    Never inside a markdown link, a URL or a ``[n]`` marker run, and never between a
    word and the markers after it (unless a single unbreakable span exceeds ``limit``).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces


def pack_lines(lines: Iterable[str], limit: int) -> list[str]:
    """Lines joined by newlines into as few pieces of at most ``limit`` as possible."""
    pieces: list[str] = []
    current = ""
    for line in lines:
        for part in split_text(line, limit) if len(line) > limit else [line]:
            candidate = f"{current}\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def preview_text(text: str, limit: int = CONTENT_LIMIT) -> str:
    """The growing draft as message content: escaped, its tail kept when long, marked unfinished."""
    suffix = " …"
    body = escape(text.strip())
    room = limit - len(suffix)
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    return body + suffix


# --------------------------------------------------------------------------- embed paging


class EmbedPager:
    """Fills embeds field by field, starting a continuation embed before any limit is crossed."""

    def __init__(self, first: discord.Embed) -> None:
        self.colour = first.colour
        self.embeds: list[discord.Embed] = [first]

    def new_embed(self, description: str | None = None) -> discord.Embed:
        embed = discord.Embed(colour=self.colour, description=description)
        self.embeds.append(embed)
        return embed

    def add_field(self, name: str, value: str, *, inline: bool = False) -> None:
        name = truncate(name, FIELD_NAME_LIMIT)
        value = truncate(value, FIELD_VALUE_LIMIT)
        current = self.embeds[-1]
        if len(current.fields) >= FIELD_COUNT_LIMIT or len(current) + len(name) + len(value) > EMBED_TOTAL_LIMIT:
            current = self.new_embed()
        current.add_field(name=name, value=value, inline=inline)

    def add_section(self, name: str, lines: Sequence[str]) -> None:
        """Lines under one heading, continued in further fields named "… (continued)"."""
        for i, value in enumerate(pack_lines(lines, FIELD_VALUE_LIMIT)):
            self.add_field(name if i == 0 else f"{name} (continued)", value)

    def finish(self, footer: str | None = None) -> list[discord.Embed]:
        if footer:
            text = truncate(clean_untrusted(footer), FOOTER_LIMIT)  # footers show no markdown: clean only
            last = self.embeds[-1]
            if len(last) + len(text) > EMBED_TOTAL_LIMIT:
                last = self.new_embed()
            last.set_footer(text=text)
        return self.embeds


def group_embeds(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds grouped into messages: at most 10 per message and 6000 characters in total."""
    groups: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        size = len(embed)
        if current and (len(current) >= EMBEDS_PER_MESSAGE or total + size > EMBED_TOTAL_LIMIT):
            groups.append(current)
            current, total = [], 0
        current.append(embed)
        total += size
    if current:
        groups.append(current)
    return groups


# --------------------------------------------------------------------------- answers


def source_line(source: Source) -> str:
    """``[n] [Title](url) — Outlet (also: …), 2025-04-05``: a cited source of an answer or a digest, in markdown."""
    when = source.published_at.date().isoformat() if source.published_at else "date unknown"
    also = f" (also: {escape(', '.join(source.also_in))})" if source.also_in else ""
    title = link(source.title or "Untitled", source.url)
    return f"[{source.number}] {title} — {escape(source.outlet)}{also}, {when}"


def answer_footer(answer: Answer) -> str:
    parts = [f"as of {answer.as_of.isoformat()}" if answer.as_of else "as of: undated sources"]
    parts.append(f"engine: {answer.engine}")
    if not answer.refused:
        parts.append(f"support {answer.support_score:.2f}")
    if answer.prompt_name:
        parts.append(f"prompt {answer.prompt_name}@{answer.prompt_hash[:12]}")
    return " · ".join(parts)


def cited_sources(answer: Answer) -> list[Source]:
    cited = set(answer.cited_numbers())
    return [s for s in answer.sources if s.number in cited]


def answer_embeds(answer: Answer, title: str | None = None) -> list[discord.Embed]:
    """The answer with [n] citations, then warnings, disagreements, sources and notes as fields.

    ``title`` replaces the question as the heading (mention-mode questions carry earlier turns).
    """
    heading = truncate(escape(title if title is not None else answer.question), TITLE_LIMIT)
    if answer.refused:
        first = discord.Embed(
            title=heading, description=truncate(escape(answer.text), DESCRIPTION_LIMIT), colour=REFUSAL_COLOUR
        )
        pager = EmbedPager(first)
        if answer.notes:
            pager.add_section("Notes", [escape(n) for n in answer.notes])
        return pager.finish(answer_footer(answer))
    colour = WARNING_COLOUR if answer.warnings else ANSWER_COLOUR
    chunks = split_text(escape(_capped(answer.text)), DESCRIPTION_LIMIT) or ["(empty answer)"]
    pager = EmbedPager(discord.Embed(title=heading, description=chunks[0], colour=colour))
    for chunk in chunks[1:]:
        pager.new_embed(chunk)
    if answer.warnings:
        pager.add_section("⚠ Disputed claims", [escape(w.render()) for w in answer.warnings])
    if answer.disagreements:
        pager.add_section("Sources disagree", [escape(d) for d in answer.disagreements])
    lines = [source_line(s) for s in cited_sources(answer)]
    if lines:
        pager.add_section("Sources", lines)
    if answer.notes:
        pager.add_section("Notes", [escape(n) for n in answer.notes])
    return pager.finish(answer_footer(answer))


def _capped(text: str) -> str:
    """The answer text within :data:`MAX_ANSWER_CHARS`, cut at a sentence or word, saying so."""
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    head = split_text(text, MAX_ANSWER_CHARS - 100)[0]
    return f"{head}\n\n(Answer shortened for Discord: {len(head):,} of {len(text):,} characters shown.)"


def answer_messages(answer: Answer, title: str | None = None) -> list[list[discord.Embed]]:
    """The answer's embeds grouped into at most :data:`MAX_ANSWER_MESSAGES` messages.

    Text is capped first (:func:`_capped`); the sources, warnings and notes sections are small,
    so the message cap is a backstop that says what it left out rather than a silent drop.
    """
    groups = group_embeds(answer_embeds(answer, title=title))
    if len(groups) <= MAX_ANSWER_MESSAGES:
        return groups
    left = sum(len(g) for g in groups[MAX_ANSWER_MESSAGES:])
    kept = groups[:MAX_ANSWER_MESSAGES]
    note = f"{left} more part(s) of this answer are not shown in Discord."
    last = kept[-1][-1]
    footer = f"{last.footer.text} · {note}" if last.footer and last.footer.text else note
    last.set_footer(text=truncate(footer, FOOTER_LIMIT))
    return kept


def sources_embeds(answer: Answer) -> list[discord.Embed]:
    """The cited passages, each with its character span in the article: what the Sources button shows."""
    return source_passages_embeds(cited_sources(answer))


def source_passages_embeds(sources: Sequence[Source]) -> list[discord.Embed]:
    """Each source's passages with their character spans in the article."""
    embeds: list[discord.Embed] = []
    for source in sources:
        blocks: list[str] = []
        for i, passage in enumerate(source.passages, start=1):
            header = f"**Passage {i}** · characters {passage.start}–{passage.end}"
            body = [quote_block(piece) for piece in split_text(escape(passage.text), DESCRIPTION_LIMIT - 200)]
            blocks.append("\n".join([header, *body]))
        pieces = pack_lines(blocks, DESCRIPTION_LIMIT) or ["(no passage text)"]
        title = truncate(f"[{source.number}] {escape(source.title or 'Untitled')}", TITLE_LIMIT)
        first = discord.Embed(title=title, url=safe_url(source.url), description=pieces[0], colour=ANSWER_COLOUR)
        pager = EmbedPager(first)
        for piece in pieces[1:]:
            pager.new_embed(piece)
        when = source.published_at.date().isoformat() if source.published_at else "date unknown"
        also = f" · also in {', '.join(source.also_in)}" if source.also_in else ""
        embeds.extend(pager.finish(f"{source.outlet} · {when}{also}"))
    if not embeds:
        embeds.append(discord.Embed(description="This answer cites no sources.", colour=REFUSAL_COLOUR))
    return embeds


# --------------------------------------------------------------------------- digests


def digest_embeds(digest: Digest) -> list[discord.Embed]:
    """Ranked stories as fields (split when long), then the numbered sources, then how it was made."""
    if digest.stories:
        intro = (
            f"{digest.article_count} articles, {digest.story_count} stories; "
            "ranked by the number of outlets covering each."
        )
    else:
        intro = escape(digest.empty_message())
    first = discord.Embed(title=truncate(escape(digest.title()), TITLE_LIMIT), description=intro, colour=DIGEST_COLOUR)
    pager = EmbedPager(first)
    for rank, story in enumerate(digest.stories, start=1):
        summary = " ".join(render_sentence(s) for s in story.summary)
        lines = [escape(summary) if summary else "_No summary could be cited._"]
        if story.since_last:
            lines.append("**Since last digest:** " + escape(" ".join(render_sentence(s) for s in story.since_last)))
        lines.extend(escape(mark.render()) for mark in story.disputed)
        first_seen = story.first_seen.astimezone(digest.window.zone)
        count = len(story.outlets)
        lines.append(
            f"_Covered by {count} outlet{'s' if count != 1 else ''}: {escape(', '.join(story.outlets))}. "
            f"First seen {first_seen:%Y-%m-%d}{' (continuing story)' if story.continuing else ''}._"
        )
        pager.add_section(f"{rank}. {escape(story.headline)}", lines)
    if digest.sources:
        pager.add_section("Sources", [source_line(s) for s in digest.sources])
    return pager.finish("\n".join(digest.footer()))


def digest_text(digest: Digest) -> list[str]:
    """Plain-text fallback (no Embed Links permission): the markdown digest in messages under 2000.

    The digest's own markdown has no masked links (URLs are shown bare), so every ``](`` came
    from an article and is broken.
    """
    text = clean_untrusted(digest.to_markdown()).replace("](", "]\\(")
    return split_text(discord.utils.escape_mentions(text), CONTENT_LIMIT)


# --------------------------------------------------------------------------- claims


def claim_embed(claim: ClaimView) -> discord.Embed:
    """One claim: text, verdict, note, evidence and origin, with who flagged it when."""
    resolved = claim.status is ClaimStatus.RESOLVED
    title = f"Claim #{claim.id} · {claim.verdict.value.upper()}" + (" (resolved)" if resolved else "")
    embed = discord.Embed(
        title=title,
        description=truncate(escape(claim.text), DESCRIPTION_LIMIT),
        colour=RESOLVED_COLOUR if resolved else VERDICT_COLOURS.get(claim.verdict, WARNING_COLOUR),
        timestamp=claim.updated_at,
    )
    if claim.note:
        embed.add_field(name="Note", value=truncate(escape(claim.note), FIELD_VALUE_LIMIT), inline=False)
    if claim.evidence_urls:
        lines = [link(_host(u), u) for u in claim.evidence_urls]
        packed = pack_lines(lines, FIELD_VALUE_LIMIT - 40)
        more = len(lines) - packed[0].count("\n") - 1
        value = packed[0] + (f"\n…and {more} more" if more > 0 else "")
        embed.add_field(name="Evidence", value=value, inline=False)
    if claim.origin:
        origin = link("original message", claim.origin) if safe_url(claim.origin) else escape(claim.origin)
        embed.add_field(name="Origin", value=truncate(origin, FIELD_VALUE_LIMIT), inline=False)
    status = claim.status.value
    if resolved and claim.resolved_at:
        status += f" on {claim.resolved_at:%Y-%m-%d}"
    embed.add_field(name="Status", value=status, inline=True)
    embed.add_field(name="Flags", value=str(claim.flag_count), inline=True)
    embed.set_footer(
        text=truncate(
            clean_untrusted(f"Flagged by {claim.flagged_by_name or claim.flagged_by} on {claim.flagged_at:%Y-%m-%d}"),
            FOOTER_LIMIT,
        )
    )
    return embed


def claims_list_embeds(claims: Sequence[ClaimView], label: str) -> list[discord.Embed]:
    """A compact list, newest first: ``#12 · FALSE — text``."""
    lines = [
        f"**#{c.id}** · {c.verdict.value.upper()}{' · resolved' if c.status is ClaimStatus.RESOLVED else ''}"
        f" — {truncate(escape(c.text), 150)}"
        for c in sorted(claims, key=lambda c: c.id, reverse=True)
    ]
    pieces = pack_lines(lines, DESCRIPTION_LIMIT) or ["No claims."]
    first = discord.Embed(title=f"{len(claims)} {label} claim{'s' if len(claims) != 1 else ''}", description=pieces[0])
    pager = EmbedPager(first)
    for piece in pieces[1:]:
        pager.new_embed(piece)
    return pager.finish("/claim show <id> for details")


def suggestion_embed(suggestion: SuggestionView) -> discord.Embed:
    """A contradiction the detector found; the footer names its id (used to find posted ones again)."""
    pending = suggestion.status is SuggestionStatus.PENDING
    embed = discord.Embed(
        title=f"Suggested flag #{suggestion.id}: {suggestion.kind} contradiction",
        description=truncate(escape(suggestion.explanation), DESCRIPTION_LIMIT) or None,
        colour=WARNING_COLOUR if pending else RESOLVED_COLOUR,
        timestamp=suggestion.created_at,
    )
    for name, text, source in (
        ("Statement A", suggestion.text_a, suggestion.source_a),
        ("Statement B", suggestion.text_b, suggestion.source_b),
    ):
        if text:
            where = f"\n— {escape(source)}" if source else ""
            embed.add_field(
                name=name, value=truncate(escape(text), FIELD_VALUE_LIMIT - len(where)) + where, inline=False
            )
    if not pending:
        outcome = suggestion.status.value
        if suggestion.claim_id is not None:
            outcome += f" as claim #{suggestion.claim_id}"
        embed.add_field(name="Decision", value=f"{outcome} by {suggestion.decided_by}", inline=False)
    embed.set_footer(text=f"suggestion #{suggestion.id} · {suggestion.status.value}")
    return embed


def _host(url: str) -> str:
    parsed = parse_link(url)
    return parsed.host if parsed else url


SUGGESTION_FOOTER = re.compile(r"^suggestion #(\d+)\b")


# --------------------------------------------------------------------------- index


def stats_embed(stats: IndexStats) -> discord.Embed:
    embed = discord.Embed(title="Index", colour=ANSWER_COLOUR)
    rows = [
        ("Articles", str(stats.articles)),
        ("Near-duplicate copies", str(stats.duplicates)),
        ("Incomplete", str(stats.pending)),
        ("Chunks", str(stats.chunks)),
        ("Outlets", str(stats.outlets)),
        ("Undated", str(stats.undated)),
        ("First published", stats.first.date().isoformat() if stats.first else "-"),
        ("Last published", stats.last.date().isoformat() if stats.last else "-"),
        ("Embedding model", escape(stats.embedding_model)),
    ]
    if stats.size_bytes is not None:
        rows.append(("Size", f"{stats.size_bytes / 1_048_576:.1f} MiB"))
    for name, value in rows:
        embed.add_field(name=name, value=value, inline=True)
    return embed


def outlets_embeds(stats: IndexStats) -> list[discord.Embed]:
    """Outlets with article counts and date ranges (``/sources``)."""
    lines = []
    for row in stats.by_outlet:
        first = row.first.date().isoformat() if row.first else "?"
        last = row.last.date().isoformat() if row.last else "?"
        copies = f" (+{row.copies} copies)" if row.copies else ""
        lines.append(f"**{escape(row.outlet)}** — {row.articles} articles{copies}, {first} → {last}")
    pieces = pack_lines(lines, DESCRIPTION_LIMIT) or ["The index is empty."]
    pager = EmbedPager(discord.Embed(title=f"{stats.outlets} outlets", description=pieces[0], colour=ANSWER_COLOUR))
    for piece in pieces[1:]:
        pager.new_embed(piece)
    return pager.finish()


def ingest_embed(report: IngestReport, label: str) -> discord.Embed:
    counts = {s: report.count(s) for s in ("added", "updated", "unchanged", "kept", "duplicate", "error")}
    labels = {"kept": "kept their stored text (page fetch failed)"}
    summary = ", ".join(f"{n} {labels.get(s, s)}" for s, n in counts.items() if n) or "nothing found"
    embed = discord.Embed(
        title=truncate(f"Ingested {label}", TITLE_LIMIT),
        description=f"{summary}; {report.chunks_written} chunks in {report.seconds:.1f}s",
        colour=WARNING_COLOUR if report.errors else ANSWER_COLOUR,
    )
    lines = [
        f"{item.status}: {escape(item.title or item.source)}" + (f" — {escape(item.detail)}" if item.detail else "")
        for item in report.items
        if item.status != "unchanged"
    ]
    for i, value in enumerate(pack_lines(lines, FIELD_VALUE_LIMIT)[:5]):
        embed.add_field(name="Items" if i == 0 else "Items (continued)", value=value, inline=False)
    return embed
