"""A feed poll during an outage never loses stored text; a page that fetches later upgrades a teaser.

Real sockets (the hostile ``net`` fixture: a local server reached through a fake public DNS),
the real indexer and MiniLM, a temp Chroma.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import app_for
from tests.hostile.conftest import Net

STORY_URL = "http://news.example/2025/05/orchard-park"
FULL_TEXT = " ".join(
    [
        "The council approved the Orchard Park estate on Monday after a four-hour meeting.",
        "The estate will have 240 homes, of which 72 will be social housing, the planning officer said.",
        "Construction is due to start in September and the first residents should move in by spring 2027.",
        "Residents of the neighbouring streets had objected to the loss of the old cricket ground.",
        "The developer agreed to build a new pavilion and two football pitches on the northern edge.",
        "Councillor Mary Webb, who chairs the planning committee, said the vote was the hardest of her term.",
    ]
    * 3
)
TEASER = (
    "The council approved the Orchard Park estate on Monday after a four-hour meeting in which residents "
    "of the neighbouring streets spoke against the plans, and the developer promised new sports grounds "
    "on the northern edge of the site, which is the old cricket ground that the town used for decades, "
    "at the Orchard Park estate. Read more"
)


def page(canonical: str = STORY_URL) -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in FULL_TEXT.split(". "))
    return (
        "<html><head><title>Council approves Orchard Park estate</title>"
        f'<link rel="canonical" href="{canonical}"></head>'
        f"<body><article><h1>Council approves Orchard Park estate</h1>{paragraphs}</article></body></html>"
    )


def feed(link: str, guid: str | None = None) -> str:
    guid_tag = f"<guid>{guid}</guid>" if guid else ""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Town Crier</title>'
        "<item><title>Council approves Orchard Park estate</title>"
        f"<link>{link}</link>{guid_tag}<description>{TEASER}</description>"
        "<pubDate>Mon, 12 May 2025 18:30:00 +0100</pubDate></item></channel></rss>"
    )


@pytest.fixture
def app(tmp_path: Path, embeddings: LocalMiniLMEmbeddings):  # type: ignore[no-untyped-def]
    with app_for(load_settings(None, data_dir=tmp_path / "data"), embeddings) as factdesk:
        yield factdesk


def test_failed_page_fetch_keeps_the_stored_full_article(app, net: Net, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "orchard.html"
    html.write_text(page(), encoding="utf-8")
    first = app.indexer.ingest([str(html)], None, 1_000_000)
    assert [i.status for i in first.items] == ["added"]
    (record,) = app.store.get_records().values()
    stored = app.store.article_body(record.id)
    assert stored is not None and "240 homes" in stored

    net.server.routes["/2025/05/orchard-park"] = lambda ex: ex.respond(503, {"Content-Type": "text/plain"}, b"down")
    rss = tmp_path / "crier.xml"
    rss.write_text(feed(STORY_URL), encoding="utf-8")
    report = app.indexer.ingest([str(rss)], net.fetcher(), 1_000_000)

    (item,) = report.items
    assert item.status == "kept"
    assert item.detail.startswith("kept stored full text; page fetch failed:")
    assert "503" in item.detail
    assert app.store.article_body(record.id) == stored  # the full text, not the teaser
    assert app.store.article_count() == 1
    assert "240 homes" in app.ask("How many homes will the Orchard Park estate have?").render()
    net.assert_nothing_forbidden_contacted()


def test_summary_only_copy_is_upgraded_when_the_page_later_fetches(app, net: Net, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The feed links a short address that redirects to the article's own URL once the site is back.
    link = "http://news.example/s/123"
    rss = tmp_path / "crier.xml"
    rss.write_text(feed(link, guid=link), encoding="utf-8")
    net.server.routes["/s/123"] = lambda ex: ex.respond(429, {"Content-Type": "text/plain"}, b"slow down")
    first = app.indexer.ingest([str(rss)], net.fetcher(), 1_000_000)
    (item,) = first.items
    assert item.status == "added"
    assert "feed summary only; page fetch failed" in item.detail and "429" in item.detail
    (record,) = app.store.get_records().values()
    teaser = app.store.article_body(record.id)
    assert teaser is not None and "240 homes" not in teaser
    assert not teaser.endswith("Read more")  # the link text is not part of the story

    net.server.routes["/s/123"] = lambda ex: ex.respond(301, {"Location": STORY_URL})
    net.server.routes["/2025/05/orchard-park"] = lambda ex: ex.respond(
        200, {"Content-Type": "text/html; charset=utf-8"}, page().encode()
    )
    second = app.indexer.ingest([str(rss)], net.fetcher(), 1_000_000)
    (item,) = second.items
    assert item.status == "updated"  # the same article, not a second copy of the story
    assert app.store.article_count() == 1
    body = app.store.article_body(record.id)
    assert body is not None and "240 homes" in body

    # Polling again while the site is down again keeps the page's text.
    net.server.routes["/s/123"] = lambda ex: ex.respond(500, {"Content-Type": "text/plain"}, b"boom")
    third = app.indexer.ingest([str(rss)], net.fetcher(), 1_000_000)
    assert [i.status for i in third.items] == ["kept"]
    assert app.store.article_body(record.id) == body
    net.assert_nothing_forbidden_contacted()


def test_offline_feed_summary_does_not_replace_the_stored_page(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "orchard.html"
    html.write_text(page(), encoding="utf-8")
    app.indexer.ingest([str(html)], None, 1_000_000)
    (record,) = app.store.get_records().values()
    stored = app.store.article_body(record.id)
    rss = tmp_path / "crier.xml"
    rss.write_text(feed(STORY_URL), encoding="utf-8")
    report = app.indexer.ingest([str(rss)], None, 1_000_000)  # no fetcher: the summary stands in
    assert [i.status for i in report.items] == ["kept"]
    assert app.store.article_body(record.id) == stored
