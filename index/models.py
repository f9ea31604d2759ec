"""Plain data objects passed between the loading, cleaning, chunking and storing steps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of an article's trailing reference list, e.g. ``[1] BBC News, "Title," 2025-04-01.``."""

    number: int
    outlet: str
    title: str
    published: date | None
    raw: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "outlet": self.outlet,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "raw": self.raw,
        }


@dataclass(slots=True)
class RawArticle:
    """An article as a loader found it, before cleaning.

    ``identity`` names the article when it has no URL and the place it came from
    holds only this article (``file:<path>`` for a text, Markdown or HTML file), so
    an edited file updates its article; records inside a collection leave it None
    and are identified by their content (see :func:`article_id`).
    """

    body: str
    source: str
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    category: str | None = None
    is_html: bool = False
    identity: str | None = None
    # Other addresses naming the same article (a feed entry's link or URL GUID, the URL asked for
    # before redirects), so a later copy finds the stored one; see index.merge_policy.
    aliases: tuple[str, ...] = ()
    # Set when this is a feed summary standing in for a page that could not be fetched.
    fetch_error: str | None = None
    # The feed entry's RSS <guid> / Atom <id> (see index.loaders.feed_guid), stored with the article
    # so a later poll of the same entry finds it even when its link changed.
    guid: str | None = None


@dataclass(slots=True)
class Article:
    """A cleaned article with its metadata; ``id`` is stable across re-ingests."""

    id: str
    title: str
    body: str
    outlet: str
    url: str | None
    published_at: datetime | None
    author: str | None
    source: str
    category: str | None = None
    references: list[Reference] = field(default_factory=list)
    removed_lines: int = 0
    aliases: tuple[str, ...] = ()
    fetch_error: str | None = None
    guid: str | None = None

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a reader or a citation would see changes."""
        h = hashlib.sha256()
        for part in (
            self.title,
            self.body,
            self.outlet,
            self.url or "",
            self.published_at.isoformat() if self.published_at else "",
            self.author or "",
        ):
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()

    @property
    def date_known(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of an article; ``start``/``end`` index into ``Article.body``."""

    id: str
    article_id: str
    index: int
    text: str
    start: int
    end: int
    tokens: int


def normalize_url(url: str) -> str:
    """Canonical form used for ids: lower-case host, no fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def article_id(url: str | None, identity: str | None, *, outlet: str, title: str, body: str) -> str:
    """Stable id that two different texts cannot share by accident.

    From the canonical URL when known (the same URL is the same article, so a new
    body is an update); else from the loader's ``identity`` (a file's path, so an
    edited file is an update); else from the content itself: outlet, title and
    body, so records without URL that share a title (or a fallback title) stay
    apart, and only an exact copy maps to the same id.
    """
    if url:
        key = "url:" + normalize_url(url)
    elif identity:
        key = "identity:" + identity
    else:
        digest = hashlib.sha256()
        for part in (outlet.strip().lower(), " ".join(title.lower().split()), body):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        key = "content:" + digest.hexdigest()
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ChunkFilter:
    """Which chunks a search may return: outlets (None = any) and a publication-time range.

    ``ts_min <= published_ts < ts_max`` in epoch seconds (undated chunks have -1). The same
    filter is applied inside the lexical and the dense search, never over all-corpus arrays.
    """

    outlets: tuple[str, ...] | None = None
    ts_min: int | None = None
    ts_max: int | None = None

    @property
    def empty(self) -> bool:
        """True when no chunk can match."""
        if self.outlets is not None and not self.outlets:
            return True
        return self.ts_min is not None and self.ts_max is not None and self.ts_min >= self.ts_max

    def __and__(self, other: ChunkFilter | None) -> ChunkFilter:
        if other is None:
            return self
        outlets = self.outlets
        if other.outlets is not None:
            outlets = other.outlets if outlets is None else tuple(o for o in outlets if o in other.outlets)
        lows = [v for v in (self.ts_min, other.ts_min) if v is not None]
        highs = [v for v in (self.ts_max, other.ts_max) if v is not None]
        return ChunkFilter(outlets, max(lows) if lows else None, min(highs) if highs else None)
