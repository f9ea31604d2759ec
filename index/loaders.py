"""Turn source strings (files, folders, URLs, feeds) into RawArticle items.

Problems with one source are yielded as SourceError values, never raised, so a
batch of a thousand files survives one bad file. That holds for unexpected
exceptions too (a parser's RecursionError, a library bug): each file, record,
feed entry and URL is isolated, its failure becomes its own one-line error
(the traceback is logged at debug level) and the rest of the batch goes on.

A source string is one of:

* a file: ``.txt``, ``.md``/``.markdown`` (optional YAML front matter), ``.html``/``.htm``,
  ``.json`` (a list of records or ``{"articles": [...]}``), ``.jsonl`` (one record per line),
  ``.xml``/``.rss``/``.atom`` (a feed);
* a folder: searched recursively in sorted order; hidden entries, symlinked folders
  and files with other extensions are skipped;
* an ``http(s)://`` URL: a feed when the response says or looks so, else an article page;
* ``feed:<url or path>`` (or ``feed://host/path``): always read as a feed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import trafilatura
import yaml

from bot.core.clock import parse_datetime
from bot.core.errors import SourceError
from index import jsonsafe
from index.decoding import decode_text
from index.fetch import FetchedDocument, Fetcher, check_url
from index.models import RawArticle

log = logging.getLogger(__name__)

TEXT_EXTENSIONS = frozenset({".txt"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
JSON_EXTENSIONS = frozenset({".json"})
JSONL_EXTENSIONS = frozenset({".jsonl"})
FEED_EXTENSIONS = frozenset({".xml", ".rss", ".atom"})
SUPPORTED_EXTENSIONS = (
    TEXT_EXTENSIONS | MARKDOWN_EXTENSIONS | HTML_EXTENSIONS | JSON_EXTENSIONS | JSONL_EXTENSIONS | FEED_EXTENSIONS
)
# A JSON/JSONL file holds many articles, so it may be this many times max_bytes
# (each record's body is still held to max_bytes). With the default 5 MB limit
# this admits the 6.8 MB MultiHop-RAG corpus.json.
COLLECTION_SIZE_FACTOR = 10
# A feed entry whose page cannot be fetched is still indexed from its summary if
# the summary has at least this many words; shorter teasers are not articles.
MIN_SUMMARY_WORDS = 40

# A list-valued field (``authors``) contributes at most this many entries.
MAX_LIST_ITEMS = 50

BODY_KEYS = ("body", "content", "text")
OUTLET_KEYS = ("outlet", "source", "publisher")
URL_KEYS = ("url", "link")
DATE_KEYS = ("published_at", "date", "published")

FEED_MEDIA_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml"}
)
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_URL_LIKE_SCHEMES = frozenset({"data", "javascript", "vbscript", "mailto", "about", "blob", "file", "ftp"})
_FEED_START = re.compile(r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.DOTALL)
_HTML_START = re.compile(r"^\s*(<!doctype html|<html\b|<head\b|<body\b)", re.IGNORECASE)
_MD_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$")
# A feed summary's link text to the page ("… estate. Read more", "Continue reading →", "[…]").
_READ_MORE_TAIL = re.compile(
    r"(\s*(\[(…|\.\.\.)\]|(read|see) (the )?(more|full (story|article))|continue reading|keep reading)"
    r"\s*[.…»›→>\]]*)+\s*$",
    re.IGNORECASE,
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A GUID longer than this is not an identifier anyone chose; it is not stored.
MAX_GUID_CHARS = 512
_GLOBAL_GUID = re.compile(r"^(tag|urn|https?):\S", re.IGNORECASE)


def load_sources(sources: Iterable[str], fetcher: Fetcher | None, max_bytes: int) -> Iterator[RawArticle | SourceError]:
    """Yield every article found in ``sources``, and a SourceError for each problem.

    ``fetcher`` is None to refuse URLs (offline ingest); ``max_bytes`` limits each file.
    """
    for source in sources:
        yield from _guarded(_load_source(source, fetcher, max_bytes), display_name(str(source)))


def display_name(text: str) -> str:
    """``text`` safe to print, log and store on one line.

    Bytes that are not UTF-8 (file names) become ``\\xNN``, control characters
    (a newline or an ESC in a file name) ``\\n``/``\\x1b``; the file itself is
    still opened by its real name.
    """
    try:
        cleaned = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # lone surrogates that are not escaped bytes
        cleaned = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if _CONTROL.search(cleaned):
        cleaned = _CONTROL.sub(lambda match: repr(match.group())[1:-1], cleaned)
    return cleaned


def unexpected_error(source: str, exc: Exception) -> SourceError:
    """A one-line error for an exception that is not a SourceError; the traceback goes to the debug log."""
    log.debug("unexpected error while loading %s", source, exc_info=exc)
    if isinstance(exc, RecursionError):
        return SourceError(source, "nested too deeply to read")
    if isinstance(exc, MemoryError):
        return SourceError(source, "too large to read into memory")
    detail = " ".join(str(exc).split())[:160]
    return SourceError(source, f"could not be read ({type(exc).__name__}{': ' + detail if detail else ''})")


def _guarded(items: Iterator[RawArticle | SourceError], source: str) -> Iterator[RawArticle | SourceError]:
    """Turn any exception raised mid-source into a yielded error, ending only that source."""
    try:
        yield from items
    except SourceError as exc:
        log.info("skipped %s", exc)
        yield exc
    except Exception as exc:  # one bad item must not lose the batch
        error = unexpected_error(source, exc)
        log.info("skipped %s", error)
        yield error


def _load_source(source: str, fetcher: Fetcher | None, max_bytes: int) -> Iterator[RawArticle | SourceError]:
    text = source.strip()
    if not text:
        raise SourceError(repr(source), "empty source")
    explicit_feed = False
    if text.lower().startswith("feed:"):
        explicit_feed = True
        text = text[5:].strip()
        if text.startswith("//"):
            text = "http:" + text
    if "\x00" in text:
        raise SourceError(display_name(text), "invalid path (contains a NUL byte)")
    if _looks_like_url(text):
        yield from _load_url(display_name(text), fetcher, explicit_feed)
        return
    path = Path(text).expanduser().absolute()
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError) as exc:
        raise SourceError(display_name(str(path)), _os_reason(exc)) from exc
    if is_dir and not explicit_feed:
        for item in _walk(path):
            if isinstance(item, SourceError):
                yield item
            else:
                yield from _guarded(_load_file(item, fetcher, max_bytes, as_feed=False), display_name(str(item)))
        return
    yield from _load_file(path, fetcher, max_bytes, as_feed=explicit_feed)


def _looks_like_url(text: str) -> bool:
    """``scheme://...`` or a scheme that can only be a URL (``data:``, ``javascript:``)."""
    match = _SCHEME.match(text)
    if not match:
        return False
    return "://" in text[: match.end() + 2] or match.group(1).lower() in _URL_LIKE_SCHEMES


# --- folders and files -----------------------------------------------------------------------


def _walk(folder: Path) -> Iterator[Path | SourceError]:
    """Supported files under ``folder`` in sorted order; unreadable folders become errors."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        yield SourceError(display_name(str(folder)), _os_reason(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path)
                continue
            if not entry.is_file():
                continue
        except OSError as exc:
            yield SourceError(display_name(str(path)), _os_reason(exc))
            continue
        if path.suffix.lower() in SUPPORTED_EXTENSIONS:
            yield path
        else:
            log.debug("skipping unsupported file %s", path)


def _load_file(
    path: Path, fetcher: Fetcher | None, max_bytes: int, *, as_feed: bool
) -> Iterator[RawArticle | SourceError]:
    source = display_name(str(path))
    suffix = path.suffix.lower()
    if not path.exists():
        raise SourceError(source, "file not found")
    if as_feed or suffix in FEED_EXTENSIONS:
        text = decode_text(_read_bytes(path, source, max_bytes), source, markup=True).text
        yield from _feed_entries(text, source, fetcher)
    elif suffix in TEXT_EXTENSIONS | MARKDOWN_EXTENSIONS:
        text = decode_text(_read_bytes(path, source, max_bytes), source).text
        yield _text_article(text, source, markdown=suffix in MARKDOWN_EXTENSIONS)
    elif suffix in HTML_EXTENSIONS:
        text = decode_text(_read_bytes(path, source, max_bytes), source, markup=True).text
        yield RawArticle(body=text, source=source, is_html=True, identity=_file_identity(source))
    elif suffix in JSON_EXTENSIONS:
        text = decode_text(_read_bytes(path, source, max_bytes * COLLECTION_SIZE_FACTOR), source).text
        yield from _json_records(text, source, max_bytes)
    elif suffix in JSONL_EXTENSIONS:
        text = decode_text(_read_bytes(path, source, max_bytes * COLLECTION_SIZE_FACTOR), source).text
        yield from _jsonl_records(text, source, max_bytes)
    else:
        raise SourceError(source, f"unsupported file type '{suffix or '(none)'}'")


def _file_identity(source: str) -> str:
    """What names a one-article file that has no URL: its path (an edited file is an update)."""
    return "file:" + source


def _read_bytes(path: Path, source: str, limit: int) -> bytes:
    """The file's bytes, refusing missing, special, empty and oversized files."""
    try:
        if not path.exists():
            raise SourceError(source, "file not found")
        if not path.is_file():
            raise SourceError(source, "not a regular file")
        size = path.stat().st_size
        if size > limit:
            raise SourceError(source, f"file too large ({size} bytes > {limit})")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SourceError(source, _os_reason(exc)) from exc
    if len(data) > limit:
        raise SourceError(source, f"file too large (more than {limit} bytes)")
    if not data.strip():
        raise SourceError(source, "empty file")
    return data


def _os_reason(exc: OSError | ValueError) -> str:
    if isinstance(exc, ValueError):  # e.g. a NUL in the path
        return f"invalid path ({' '.join(str(exc).split())[:80]})"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"


# --- text and markdown ---------------------------------------------------------------------


def _text_article(text: str, source: str, *, markdown: bool) -> RawArticle:
    meta, body = _split_front_matter(text, source)
    fields = _record_fields(meta, source)
    title = fields.pop("title")
    if markdown and not title:
        lines = body.lstrip("\n").split("\n", 1)
        heading = _MD_HEADING.match(lines[0].strip())
        if heading:
            title = heading.group(1)
            body = lines[1] if len(lines) > 1 else ""
    if not body.strip():
        raise SourceError(source, "no article text (only front matter or a heading)")
    return RawArticle(body=body, source=source, title=title, identity=_file_identity(source), **fields)


def _split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """A leading ``---`` YAML block and the rest; no closing ``---`` means no front matter."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise SourceError(source, f"invalid front matter: {problem}") from exc
    except RecursionError:
        raise SourceError(source, "invalid front matter: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise SourceError(source, f"invalid front matter: {' '.join(str(exc).split())[:120]}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SourceError(source, "front matter must be a mapping of keys to values")
    return {str(key).lower(): value for key, value in meta.items()}, "\n".join(lines[end + 1 :])


# --- JSON ------------------------------------------------------------------------------------


def _json_records(text: str, source: str, max_bytes: int) -> Iterator[RawArticle | SourceError]:
    try:
        data = jsonsafe.loads(text, max_depth=None)  # each record's depth is checked on its own
    except jsonsafe.JSONRefused as exc:
        raise SourceError(source, str(exc)) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if not isinstance(data, list):
        raise SourceError(source, "expected a list of records or an object with an 'articles' list")
    if not data:
        raise SourceError(source, "no records")
    for index, record in enumerate(data):
        yield _isolated_record(record, f"{source}#{index}", max_bytes)


def _jsonl_records(text: str, source: str, max_bytes: int) -> Iterator[RawArticle | SourceError]:
    """One record per line; ``#i`` in a record's source is its 0-based line index."""
    for index, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        record_source = f"{source}#{index}"
        try:
            record = jsonsafe.loads(line)
        except jsonsafe.JSONRefused as exc:
            yield SourceError(record_source, f"line {index + 1}: {exc}")
            continue
        yield _isolated_record(record, record_source, max_bytes)


def _isolated_record(record: object, source: str, max_bytes: int) -> RawArticle | SourceError:
    """One record as an article, or as its own error whatever goes wrong."""
    try:
        return _record_article(record, source, max_bytes)
    except SourceError as exc:
        return exc
    except Exception as exc:  # one bad record must not lose the rest of the file
        return unexpected_error(source, exc)


def _record_article(record: object, source: str, max_bytes: int) -> RawArticle:
    if not isinstance(record, dict):
        raise SourceError(source, "record is not a JSON object")
    try:
        jsonsafe.check_depth(record)
    except jsonsafe.JSONRefused as exc:
        raise SourceError(source, f"record {exc}") from None
    lowered = {str(key).lower(): value for key, value in record.items()}
    body = next((lowered[key] for key in BODY_KEYS if isinstance(lowered.get(key), str)), "")
    if not body.strip():
        raise SourceError(source, "record has no body ('body', 'content' or 'text')")
    if len(body.encode("utf-8", "surrogatepass")) > max_bytes:
        raise SourceError(source, f"record body too large (> {max_bytes} bytes)")
    fields = _record_fields(lowered, source)
    return RawArticle(body=body, source=source, **fields)


def _record_fields(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Metadata shared by JSON records and front matter, under RawArticle's field names."""
    raw_date = _first(record, DATE_KEYS)
    published = parse_datetime(raw_date)
    if raw_date not in (None, "") and published is None:
        log.warning("%s: ignoring unreadable date %s", source, reprlib.repr(raw_date))
    return {
        "title": _text_value(record.get("title")),
        "outlet": _text_value(_first(record, OUTLET_KEYS)),
        "url": _text_value(_first(record, URL_KEYS)),
        "published_at": published,
        "author": _text_value(record.get("author") or record.get("authors")),
        "category": _text_value(record.get("category")),
    }


def _first(record: Mapping[str, Any], keys: Iterable[str]) -> Any:
    return next((record[key] for key in keys if record.get(key) not in (None, "")), None)


def _text_value(value: object) -> str | None:
    """A scalar as one line, or a list of scalars joined (``authors``); anything nested is ignored."""
    if isinstance(value, list):
        parts = [_scalar_text(item) for item in value[:MAX_LIST_ITEMS]]
        return ", ".join(part for part in parts if part) or None
    return _scalar_text(value)


def _scalar_text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        try:
            text = " ".join(str(value).split())
        except ValueError:  # an int too long for str()
            return None
        return text or None
    return None


# --- URLs and feeds ------------------------------------------------------------------------------


def _load_url(url: str, fetcher: Fetcher | None, explicit_feed: bool) -> Iterator[RawArticle | SourceError]:
    check_url(url)
    if fetcher is None:
        raise SourceError(url, "fetching URLs is disabled here")
    document = fetcher.get(url)
    media_type = document.content_type
    feed_typed = media_type in FEED_MEDIA_TYPES or "rss" in media_type or "atom" in media_type
    if explicit_feed or feed_typed or _FEED_START.match(document.text):
        parsed = _parse_feed(document.text.encode("utf-8"), _feed_headers(document))
        if _usable_entries(parsed):
            yield from _feed_entries_parsed(parsed, url, fetcher, base_url=document.final_url)
            return
        if explicit_feed or feed_typed:
            raise SourceError(url, _feed_failure(parsed))
    yield _fetched_article(document, url, title=None, published=None, author=None)


def _fetched_article(
    document: FetchedDocument,
    source: str,
    *,
    title: str | None,
    published: object,
    author: str | None,
) -> RawArticle:
    """An article page from a fetched response; refuses types that are not HTML or text."""
    media_type = document.content_type
    if media_type in HTML_MEDIA_TYPES or (not media_type and _HTML_START.match(document.text)):
        is_html = True
    elif media_type == "text/plain" or media_type == "text/markdown":
        is_html = False
    else:
        raise SourceError(source, f"unsupported content type '{media_type or 'unknown'}'")
    return RawArticle(
        body=document.text,
        source=source,
        title=title,
        url=document.final_url,
        published_at=parse_datetime(published),
        author=author,
        is_html=is_html,
        aliases=(document.requested_url,) if document.requested_url != document.final_url else (),
    )


def _feed_headers(document: FetchedDocument) -> dict[str, str]:
    """Tell feedparser the text is UTF-8 now (we decoded it) and where it came from."""
    return {"content-type": "application/xml; charset=utf-8", "content-location": document.final_url}


def _parse_feed(data: bytes, headers: dict[str, str] | None) -> Any:
    """Parse feed bytes; a file object, so feedparser never treats the input as a URL or path."""
    return feedparser.parse(io.BytesIO(data), response_headers=headers or {}, sanitize_html=True)


def _usable_entries(parsed: Any) -> bool:
    """Any entry with a link or some text; a broken feed can yield a stray title-only entry."""
    return any(entry.get("link") or _entry_summary(entry) for entry in parsed.entries)


def _feed_failure(parsed: Any) -> str:
    if parsed.get("bozo"):
        reason = " ".join(str(parsed.get("bozo_exception", "")).split())[:200]
        return f"malformed feed: {reason or 'unreadable'}"
    return "feed has no entries" if not parsed.entries else "feed entries have no links or text"


def _feed_entries(text: str, source: str, fetcher: Fetcher | None) -> Iterator[RawArticle | SourceError]:
    """Entries of a local feed file, decoded by the shared decoder (its own declaration honoured)."""
    parsed = _parse_feed(text.encode("utf-8"), {"content-type": "application/xml; charset=utf-8"})
    if not _usable_entries(parsed):
        raise SourceError(source, _feed_failure(parsed))
    yield from _feed_entries_parsed(parsed, source, fetcher, base_url=None)


def _feed_entries_parsed(
    parsed: Any, source: str, fetcher: Fetcher | None, *, base_url: str | None
) -> Iterator[RawArticle | SourceError]:
    """Each entry's linked page, or its summary when the page cannot be had; one entry's failure is its own."""
    if parsed.get("bozo"):
        log.info("%s: feed has problems but entries were read: %s", source, parsed.get("bozo_exception"))
    feed_title = _text_value(parsed.feed.get("title"))
    for index, entry in enumerate(parsed.entries):
        entry_source = f"{source}#{index}"
        yield from _guarded(_feed_entry(entry, entry_source, feed_title, fetcher, base_url), entry_source)


def feed_guid(guid: str | None, feed_source: str) -> str | None:
    """The entry's GUID as stored: a ``tag:``/``urn:`` URI or a URL as given, since those are unique
    everywhere; anything else (a bare ``12345``, ``post-7``) is unique only within its feed, so it
    is qualified with the feed's source."""
    if not guid or len(guid) > MAX_GUID_CHARS:
        return None
    if _GLOBAL_GUID.match(guid):
        return guid
    return f"{feed_source}#guid={guid}"


def _feed_entry(
    entry: Any, entry_source: str, feed_title: str | None, fetcher: Fetcher | None, base_url: str | None
) -> Iterator[RawArticle | SourceError]:
    feed_source = entry_source.rsplit("#", 1)[0]
    title = _text_value(entry.get("title"))
    author = _text_value(entry.get("author"))
    published = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("published")
    link = _text_value(entry.get("link"))
    if link and base_url:
        link = urljoin(base_url, link)
    guid = _text_value(entry.get("id"))  # RSS <guid>, Atom <id>
    aliases = tuple(a for a in (guid,) if a and a != link and _looks_like_url(a))
    stored_guid = feed_guid(guid, feed_source)
    fetch_error: SourceError | None = None
    if link and fetcher is not None:
        try:
            document = fetcher.get(link)
            article = _fetched_article(document, link, title=title, published=published, author=author)
            article.aliases = tuple(dict.fromkeys((*article.aliases, link, *aliases)))
            article.guid = stored_guid
            yield article
            return
        except SourceError as exc:
            fetch_error = exc
    summary = _entry_summary(entry)
    words = len(summary.split())
    if words >= MIN_SUMMARY_WORDS:
        log.info("%s: using the feed summary (%d words)", entry_source, words)
        yield RawArticle(
            body=summary,
            source=f"{entry_source}:summary",
            title=title,
            outlet=feed_title,
            url=link,
            published_at=parse_datetime(published),
            author=author,
            aliases=aliases,
            guid=stored_guid,
            # Marks a stand-in: it never replaces a longer stored text (index.merge_policy).
            fetch_error=fetch_error.reason if fetch_error else ("fetching is disabled" if link else None),
        )
    elif fetch_error is not None:
        yield fetch_error
    elif not link or fetcher is None:
        why = "no link" if not link else "fetching is disabled"
        yield SourceError(entry_source, f"{why} and the summary is too short ({words} words)")


def _entry_summary(entry: Any) -> str:
    """The entry's full content if given, else its summary, as plain text."""
    html = ""
    for content in entry.get("content") or []:
        value = content.get("value") if hasattr(content, "get") else None
        if isinstance(value, str) and len(value) > len(html):
            html = value
    if not html:
        html = str(entry.get("summary") or "")
    text = html if "<" not in html else trafilatura.html2txt(f"<html><body>{html}</body></html>")
    return _READ_MORE_TAIL.sub("", text.strip()).strip()
