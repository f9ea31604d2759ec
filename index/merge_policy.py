"""Which copy of an article the index keeps: never less text because a page could not be fetched.

A feed is polled every half hour. When an entry's page cannot be fetched (site down, 429, DNS),
the loader stands in the entry's summary, marked with ``fetch_error``. That teaser must never
replace a full article already stored under the same address, and a stored teaser must give way
to the page once it fetches, even when the page's address differs from the feed's link (a
redirect, a canonical URL, a GUID permalink). Addresses are matched through the article ids
they would give (:func:`index.models.article_id`), so no extra lookup table is stored.
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
    """Match each article to what is stored under any of its addresses; keep the stored text when it is longer."""
    lookup = [article.id for article in articles] + [i for article in articles for i in alias_ids(article)]
    stored = set(store.get_records(list(dict.fromkeys(lookup))))
    out = Resolution()
    taken = {article.id for article in articles}  # an id may be moved onto a stored article only once
    for article in articles:
        candidates = [i for i in [article.id, *alias_ids(article)] if i in stored]
        if is_summary_only(article):
            longer = _longer_stored(article, candidates, store)
            if longer is not None:
                detail = f"kept stored full text; page fetch failed: {article.fetch_error}"
                out.kept.append(Kept(article, longer, detail))
                log.info("%s: %s", article.source, detail)
                continue
            out.notes[article.id] = f"feed summary only; page fetch failed: {article.fetch_error}"
        if article.id not in stored and candidates and candidates[0] not in taken:
            taken.add(candidates[0])
            # Stored under another of its addresses: update that article instead of adding a copy.
            previous = article.id
            article = dataclasses.replace(article, id=candidates[0])
            out.notes[article.id] = out.notes.pop(previous, "") or "matched the article stored under another address"
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
