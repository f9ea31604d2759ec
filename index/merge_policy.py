"""Which copy of an article the index keeps: never less text because a page could not be fetched.

A feed is polled every half hour. When an entry's page cannot be fetched (site down, 429, DNS),
the loader stands in the entry's summary, marked with ``fetch_error``. That teaser must never
replace a full article already stored under the same address, and a stored teaser must give way
to the page once it fetches, even when the page's address differs from the feed's link (a
redirect, a canonical URL, a GUID permalink). Addresses are matched through the article ids
they would give (:func:`index.models.article_id`), so no extra lookup table is stored. A feed
entry's GUID (RSS ``<guid>``, Atom ``<id>``; often no address at all: ``tag:…``, ``urn:uuid:…``)
is stored on the article record and matched too, so an entry whose link changed (tracking
parameters, a moved page) still updates its article.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from index.models import Article, article_id

log = logging.getLogger(__name__)


class _Records(Protocol):
    def get_records(self, ids: Sequence[str] | None = None) -> Mapping[str, object]: ...

    def article_body(self, article_id: str) -> str | None: ...

    def ids_by_guid(self, guids: Sequence[str]) -> Mapping[str, Sequence[str]]: ...


@dataclass(frozen=True, slots=True)
class Kept:
    """A stored article left as it is instead of being replaced by ``article``."""

    article: Article
    stored_id: str
    detail: str


@dataclass(slots=True)
class Resolution:
    """The batch to index (ids possibly moved onto stored articles), what was kept, notes per id."""

    articles: list[Article] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def is_summary_only(article: Article) -> bool:
    return article.fetch_error is not None


def prefer(earlier: Article, later: Article) -> Article:
    """Of two copies with one id in one batch, the later, unless it is a teaser standing in for a longer text."""
    if is_summary_only(later) and _words(later.body) < _words(earlier.body):
        return earlier
    return later


def alias_ids(article: Article) -> list[str]:
    """Ids the article's other addresses would give, in order, without its own."""
    ids = [article_id(alias, None, outlet="", title="", body="") for alias in article.aliases]
    return [i for i in dict.fromkeys(ids) if i != article.id]


def resolve(articles: Sequence[Article], store: _Records) -> Resolution:
    """Match each article to what is stored under its addresses or its GUID; keep the stored text when longer."""
    lookup = [article.id for article in articles] + [i for article in articles for i in alias_ids(article)]
    stored = set(store.get_records(list(dict.fromkeys(lookup))))
    by_guid = store.ids_by_guid([article.guid for article in articles if article.guid])
    out = Resolution()
    taken = {article.id for article in articles}  # an id may be moved onto a stored article only once
    for article in articles:
        same_guid = [i for i in by_guid.get(article.guid or "", ()) if i != article.id]
        candidates = [i for i in [article.id, *same_guid, *alias_ids(article)] if i in stored or i in same_guid]
        candidates = list(dict.fromkeys(candidates))
        if is_summary_only(article):
            longer = _longer_stored(article, candidates, store)
            if longer is not None:
                detail = f"kept stored full text; page fetch failed: {article.fetch_error}"
                out.kept.append(Kept(article, longer, detail))
                log.info("%s: %s", article.source, detail)
                continue
            out.notes[article.id] = f"feed summary only; page fetch failed: {article.fetch_error}"
        if article.id not in stored and candidates and candidates[0] not in taken:
            target = candidates[0]
            taken.add(target)
            # Stored under another of its addresses or its GUID: update that article instead of adding a copy.
            how = "the same feed GUID" if target in same_guid else "another address"
            previous = article.id
            article = dataclasses.replace(article, id=target)
            out.notes[article.id] = out.notes.pop(previous, "") or f"matched the article stored under {how}"
        out.articles.append(article)
    return out


def _longer_stored(article: Article, candidates: Sequence[str], store: _Records) -> str | None:
    mine = _words(article.body)
    for candidate in candidates:
        body = store.article_body(candidate)
        if body and _words(body) > mine:
            return candidate
    return None


def _words(text: str) -> int:
    return len(text.split())
