"""HTML metadata keeps its time and offset: a story published 18:30+01:00 lands on the right digest day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from index.clean import clean_article
from index.models import RawArticle

BODY = "<p>" + "The council met on Monday evening to discuss the new park and its budget. " * 10 + "</p>"
PUBLISHED = datetime(2025, 5, 12, 18, 30, tzinfo=timezone(timedelta(hours=1)))


def page(head: str) -> str:
    title = "<title>Council meets</title>"
    return f"<html><head>{title}{head}</head><body><article><h1>Council meets</h1>{BODY}</article></body></html>"


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="article:published_time" content="2025-05-12T18:30:00+01:00">',
        '<meta itemprop="datePublished" content="2025-05-12T18:30:00+01:00">',
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "datePublished": "2025-05-12T18:30:00+01:00"}</script>',
    ],
)
def test_page_metadata_keeps_time_and_offset(head: str) -> None:
    article = clean_article(RawArticle(body=page(head), source="a.html", is_html=True))
    assert article.published_at == PUBLISHED
    assert article.published_at is not None and article.published_at.utcoffset() == timedelta(hours=1)


def test_a_date_only_feed_date_does_not_erase_the_pages_time() -> None:
    head = '<meta property="article:published_time" content="2025-05-12T18:30:00+01:00">'
    raw = RawArticle(body=page(head), source="feed#0", is_html=True, published_at=datetime(2025, 5, 12, tzinfo=UTC))
    assert clean_article(raw).published_at == PUBLISHED


def test_a_feed_time_wins_over_the_page_when_it_has_one() -> None:
    head = '<meta property="article:published_time" content="2025-05-12T18:30:00+01:00">'
    given = datetime(2025, 5, 12, 17, 45, tzinfo=UTC)
    raw = RawArticle(body=page(head), source="feed#0", is_html=True, published_at=given)
    assert clean_article(raw).published_at == given
