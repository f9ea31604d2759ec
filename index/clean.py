"""Turn a loader's RawArticle into a clean Article: main text, metadata, references.

Scraped and pasted news carries page furniture ("Skip to content", "Read also:"),
headlines repeated by the page template and a trailing reference list. Left in,
these pollute chunks and embeddings, so they are removed here; the reference list
is kept as structured data instead. Only whole, short, standalone lines are ever
removed: a sentence that merely contains "read also" stays.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlsplit

import trafilatura

from bot.core.clock import parse_datetime
from bot.core.errors import SourceError
from bot.core.text.dates import find_dates, parse_date
from bot.core.text.sanitize import clean_inline, clean_untrusted
from bot.core.text.sentences import sentence_spans
from index.models import Article, RawArticle, Reference, article_id
from index.page_furniture import page_furniture

log = logging.getLogger(__name__)

# An HTML page must yield at least this much text after cleaning to count as an
# article; below it trafilatura has usually found a cookie wall, a paywall teaser
# or navigation. Both conditions must hold.
MIN_HTML_WORDS = 30
MIN_HTML_CHARS = 200

# A "headline-like" line: short, has letters, no sentence-ending punctuation.
HEADLINE_MAX_WORDS = 30
HEADLINE_MAX_CHARS = 250
# Repeated lines are only treated as duplicated headlines when at least this long,
# so short repeated labels ("Background") are not mistaken for them.
REPEATED_HEADLINE_MIN_WORDS = 4
# ... and only when every occurrence is among the first HEADER_LINES non-blank lines:
# further down, repeated short lines are data ("Available on: Netflix"), not template.
HEADER_LINES = 10
# Similarity (difflib ratio on normalised words) above which a line "is" the title.
TITLE_SIMILARITY = 0.9
# Boilerplate is only ever a short line.
BOILERPLATE_MAX_WORDS = 12
PROMO_MAX_WORDS = 25
COOKIE_NOTICE_MAX_WORDS = 60
FALLBACK_TITLE_CHARS = 100
# Metadata fields (title, outlet, author, category) longer than this are cut with "…";
# URLs longer than MAX_URL_CHARS, or not http(s), are dropped.
MAX_INLINE_CHARS = 500
MAX_URL_CHARS = 4096

_COPYRIGHT = re.compile(r"^(©|\(c\)|copyright)\s*(©\s*)?\d{4}\b", re.IGNORECASE)
_EDGE_PUNCT = " \t:|»›>·•*#-–—_"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.:;,。．，；：]['\"”’)\]」』]*$")
_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+[^|\-–—]{1,60}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")

_REF_START = re.compile(r"^\[(\d{1,3})\][.:]?\s+\S")
_REF_SPLIT = re.compile(r"\s*(?=\[\d{1,3}\][.:]?\s)")
_REF_ENTRY = re.compile(r"^\[(?P<number>\d{1,3})\][.:]?\s+(?P<rest>.+)$", re.DOTALL)
_REF_QUOTED = re.compile(r"^(?P<outlet>.*?)[,\s]*[\"“](?P<title>.+)[\"”](?P<after>.*)$", re.DOTALL)


@dataclass(slots=True)
class _Extracted:
    """What trafilatura found in an HTML page."""

    text: str
    title: str | None
    author: str | None
    date: str | None
    sitename: str | None
    url: str | None


def clean_article(raw: RawArticle) -> Article:
    """Clean one article; raises SourceError when nothing usable is left."""
    source = scrub_surrogates(raw.source)
    title = _clean_inline(raw.title)
    outlet = _clean_inline(raw.outlet)
    author = _clean_inline(raw.author)
    url = _article_url(raw.url, source)
    published = parse_datetime(raw.published_at)
    text = scrub_surrogates(raw.body)
    page_title: str | None = None
    aliases = [a for a in (_article_url(alias, source) for alias in raw.aliases) if a]
    if raw.is_html:
        extracted = _extract_html(raw)
        text = extracted.text
        page_title = _clean_inline(extracted.title)
        title = title or _clean_inline(extracted.title)
        author = author or _clean_inline(extracted.author)
        outlet = outlet or _clean_inline(extracted.sitename)
        canonical = _article_url(extracted.url, source)
        if url and canonical and _host(canonical) == _host(url):  # another site's canonical names nothing here
            aliases.append(canonical)
        url = url or canonical
        published = _more_precise(published, parse_datetime(extracted.date))

    lines = normalize_text(text).split("\n")
    lines, removed_tail = _strip_tail_section(lines)
    lines, removed_boilerplate = _strip_boilerplate(lines)
    lines, references, removed_refs = _extract_references(lines)
    lines, title, removed_headlines = _strip_headlines(lines, title, page_title)
    body = _join_lines(lines)

    if raw.is_html and (len(body) < MIN_HTML_CHARS or len(body.split()) < MIN_HTML_WORDS):
        raise SourceError(source, "no article text found")
    if not body:
        raise SourceError(source, "empty article")
    if not title:
        title = _fallback_title(body)
    if not outlet:
        outlet = _host(url) or "unknown"
    removed = removed_boilerplate + removed_tail + removed_refs + removed_headlines
    log.debug("cleaned %s: removed %d lines, %d references", source, removed, len(references))
    return Article(
        id=article_id(url, raw.identity, outlet=outlet, title=title, body=body),
        title=title,
        body=body,
        outlet=outlet,
        url=url,
        published_at=published,
        author=author,
        source=source,
        category=_clean_inline(raw.category),
        references=references,
        removed_lines=removed,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != url)),
        fetch_error=raw.fetch_error,
        guid=scrub_surrogates(raw.guid) if raw.guid else None,
    )


def _more_precise(given: datetime | None, page: datetime | None) -> datetime | None:
    """The loader's date, unless it is only a day (midnight UTC) and the page's metadata has that day's time.

    A feed's date-only ``pubDate`` or a record's ``2025-05-12`` must not erase the page's
    ``article:published_time`` of 18:30+01:00: the time decides which digest day a story lands on.
    """
    if given is None:
        return page
    if page is None or given.utcoffset() or (given.hour, given.minute, given.second) != (0, 0, 0):
        return given
    has_time = (page.hour, page.minute, page.second) != (0, 0, 0) or bool(page.utcoffset())
    return page if has_time and page.date() == given.date() else given


def normalize_text(text: str) -> str:
    """NFC, unified newlines and spaces, stripped lines, at most one blank line in a row.

    Terminal escapes, control and invisible format characters (bidi overrides, tag characters,
    zero-width spaces) go first: :func:`bot.core.text.sanitize.clean_untrusted`.
    """
    text = text.replace("\u2029", "\n\n")
    text = unicodedata.normalize("NFC", clean_untrusted(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def parse_references(text: str) -> list[Reference]:
    """Parse a reference list such as ``[1] BBC News, "Title," 2025-04-01. [2] ...``."""
    entries = [part.strip() for part in _REF_SPLIT.split(text.strip()) if part.strip()]
    references: list[Reference] = []
    for entry in entries:
        reference = _parse_reference(entry)
        if reference is None:
            return []
        references.append(reference)
    return references


# --- HTML ---------------------------------------------------------------------------


def _extract_html(raw: RawArticle) -> _Extracted:
    """Main text and metadata via trafilatura; one paragraph per blank-line-separated block."""
    document = trafilatura.bare_extraction(
        raw.body,
        url=raw.url,
        include_comments=False,
        include_images=False,
        include_links=False,
        with_metadata=True,
        # No "extensive" search: it turns a copyright year into January 1st.
        date_extraction_params={
            "extensive_search": False,
            "original_date": True,
            "outputformat": "%Y-%m-%dT%H:%M:%S%z",
        },
    )
    if document is None:
        raise SourceError(raw.source, "no article text found")
    data: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    text = str(data.get("text") or "")
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    if not paragraphs:
        raise SourceError(raw.source, "no article text found")
    return _Extracted(
        text="\n\n".join(paragraphs),
        title=_optional_str(data.get("title")),
        author=_optional_str(data.get("author")),
        date=_optional_str(data.get("date")),
        sitename=_optional_str(data.get("sitename")),
        url=_optional_str(data.get("url")),
    )


# --- line filters ---------------------------------------------------------------------


def _key(line: str) -> str:
    """Lower-case line without decoration, for matching against the boilerplate lists."""
    return " ".join(line.strip(_EDGE_PUNCT).lower().split())


def _is_boilerplate(line: str) -> bool:
    words, furniture = len(line.split()), page_furniture()
    if words <= BOILERPLATE_MAX_WORDS and _key(line) in furniture.lines:
        return True
    if words <= PROMO_MAX_WORDS and furniture.promo.match(line):
        return True
    if words <= 6 and furniture.advert.match(line):
        return True
    if words <= BOILERPLATE_MAX_WORDS and _COPYRIGHT.match(line):
        return True
    return words <= COOKIE_NOTICE_MAX_WORDS and bool(furniture.cookie_notice.match(line))


def _strip_boilerplate(lines: list[str]) -> tuple[list[str], int]:
    kept = [line for line in lines if not (line and _is_boilerplate(line))]
    return kept, len(lines) - len(kept)


def _strip_tail_section(lines: list[str]) -> tuple[list[str], int]:
    """Drop a trailing "Read also / Related" list of headline links."""
    for i, line in enumerate(lines):
        if not line or _key(line) not in page_furniture().tail_markers:
            continue
        rest = [later for later in lines[i + 1 :] if later]
        if all(_is_boilerplate(later) or (_is_headline_like(later) and not _REF_START.match(later)) for later in rest):
            return lines[:i], 1 + len(rest)
    return lines, 0


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _is_headline_like(line: str) -> bool:
    """Short, has letters, does not end like a sentence (questions and exclamations allowed)."""
    if not line or len(line) > HEADLINE_MAX_CHARS or len(line.split()) > HEADLINE_MAX_WORDS:
        return False
    if not any(ch.isalpha() for ch in line):
        return False
    return not _SENTENCE_END.search(line)


def _same_headline(line: str, title: str) -> bool:
    """Equal to the title (also when either carries a " | Outlet" suffix), or nearly equal as a whole."""
    line_forms = {" ".join(_words(line)), " ".join(_words(_TITLE_SUFFIX.sub("", line)))} - {""}
    title_forms = {" ".join(_words(title)), " ".join(_words(_TITLE_SUFFIX.sub("", title)))} - {""}
    if line_forms & title_forms:
        return True
    if not _is_headline_like(line):
        return False
    ratio = SequenceMatcher(None, " ".join(_words(line)), " ".join(_words(title))).ratio()
    return ratio >= TITLE_SIMILARITY


def _strip_headlines(
    lines: list[str], title: str | None, page_title: str | None = None
) -> tuple[list[str], str | None, int]:
    """Remove the title line(s) and repeated headline lines; take the title from the text if unknown.

    ``page_title`` is the HTML page's own headline, removed too when the source
    (e.g. a feed entry) supplied a different title.
    """
    removed = 0
    if not title:
        first = next((i for i, line in enumerate(lines) if line), None)
        if first is not None and _is_headline_like(lines[first]) and not _REF_START.match(lines[first]):
            title = lines[first].lstrip("# ").strip()
            lines = lines[:first] + lines[first + 1 :]
            removed += 1
    # Where each headline-like line occurs, by position among non-blank lines.
    positions: dict[str, list[int]] = {}
    for position, line in enumerate(line for line in lines if line):
        if _is_headline_like(line) and len(_words(line)) >= REPEATED_HEADLINE_MIN_WORDS:
            positions.setdefault(" ".join(_words(line)), []).append(position)
    duplicated = {
        key
        for key, seen in positions.items()
        if len(seen) > 1 and max(seen) < HEADER_LINES  # template repeats sit in the page header
    }
    titles = [t for t in (title, page_title) if t]
    kept: list[str] = []
    for line in lines:
        if line and (" ".join(_words(line)) in duplicated or any(_same_headline(line, t) for t in titles)):
            removed += 1
            continue
        kept.append(line)
    return kept, title, removed


def _join_lines(lines: list[str]) -> str:
    """Lines back to text, one blank line between paragraphs."""
    return normalize_text("\n".join(lines))


# --- references --------------------------------------------------------------------------


def _extract_references(lines: list[str]) -> tuple[list[str], list[Reference], int]:
    """Find a trailing block of ``[n] ...`` entries, parse it and cut it from the body."""
    paragraphs: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate([*lines, ""]):
        if line and start is None:
            start = i
        elif not line and start is not None:
            paragraphs.append((start, i))
            start = None
    block_start: int | None = None
    for begin, _end in reversed(paragraphs):
        if _REF_START.match(lines[begin]):
            block_start = begin
        else:
            break
    if block_start is None:
        return lines, [], 0
    block = [line for line in lines[block_start:] if line]
    references = parse_references(" ".join(block))
    if not references:
        return lines, [], 0
    cut = block_start
    heading = [i for i in range(block_start) if lines[i]]
    if heading and _key(lines[heading[-1]]) in page_furniture().reference_headings:
        cut = heading[-1]
        block.append(lines[cut])
    return lines[:cut], references, len(block)


def _parse_reference(entry: str) -> Reference | None:
    match = _REF_ENTRY.match(entry)
    if not match:
        return None
    number = int(match.group("number"))
    rest = " ".join(match.group("rest").split())
    quoted = _REF_QUOTED.match(rest)
    if quoted:
        outlet = quoted.group("outlet").strip(" ,.;:")
        title = quoted.group("title").strip().rstrip(",").rstrip()
        if title.endswith(".") and not title.endswith(".."):
            title = title[:-1].rstrip()
        published = parse_date(quoted.group("after"))
    else:
        published = parse_date(rest)
        without_date = _without_full_dates(rest).strip(" ,.;:")
        outlet, _, title = without_date.partition(",")
        outlet, title = outlet.strip(" ,.;:"), title.strip(" ,.;:")
        if not title:
            outlet, title = "", outlet
    if not title:
        return None
    return Reference(number=number, outlet=outlet, title=title, published=published, raw=entry.strip())


def _without_full_dates(text: str) -> str:
    """``text`` with every written day-month-year date cut out (a reference's outlet and title remain)."""
    for mention in reversed(find_dates(text)):
        if mention.year is not None and mention.on() is not None:
            text = text[: mention.start] + text[mention.end :]
    return text


# --- small helpers ----------------------------------------------------------------------


def _fallback_title(body: str) -> str:
    """The first sentence, shortened: only when neither source, page nor text has a title."""
    first = body.split("\n", 1)[0]
    spans = sentence_spans(first)
    sentence = first[spans[0].start : spans[0].end] if spans else first
    if len(sentence) <= FALLBACK_TITLE_CHARS:
        return sentence
    return sentence[:FALLBACK_TITLE_CHARS].rsplit(" ", 1)[0] + "…"


def scrub_surrogates(text: str) -> str:
    """``text`` with lone surrogates (from JSON escapes or undecodable file names) as U+FFFD.

    They cannot be encoded as UTF-8, so Chroma, SQLite and the console all refuse them.
    """
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def _clean_inline(value: str | None) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", clean_inline(str(value)))
    if len(text) > MAX_INLINE_CHARS:
        text = text[:MAX_INLINE_CHARS].rsplit(" ", 1)[0] + "…"
    return text or None


def _article_url(value: str | None, source: str) -> str | None:
    """An http(s) URL of sensible length, else None (a ``javascript:`` link is not an article's address)."""
    url = _clean_inline(value) if value and len(value) <= MAX_URL_CHARS else None
    if url is None:
        if value:
            log.warning("%s: ignoring an overlong URL (%d characters)", source, len(value))
        return None
    if _http_url(url) is None:
        log.warning("%s: ignoring URL %r (only http and https)", source, url[:80])
        return None
    return url


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _http_url(value: str | None) -> str | None:
    try:
        parts = urlsplit(value) if value else None
    except ValueError:  # e.g. an unclosed "[" in the host
        return None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
        return value
    return None


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    return host.removeprefix("www.") or None
