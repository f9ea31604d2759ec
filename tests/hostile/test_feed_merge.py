"""A feed poll during an outage never loses stored text; a page that fetches later upgrades a teaser.

Feed entries are matched to stored articles by address and by GUID (RSS ``<guid>``, Atom ``<id>``).
Real sockets (the hostile ``net`` fixture: a local server reached through a fake public DNS),
the real indexer and MiniLM, a temp Chroma.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from index.store import make_client
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


def page(canonical: str | None = STORY_URL, extra: str = "") -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in (FULL_TEXT + extra).split(". "))
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        "<html><head><title>Council approves Orchard Park estate</title>"
        f"{link}</head>"
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


# --- GUIDs ---------------------------------------------------------------------------------------

MOVED_PATH = "/2025/05/orchard-park-estate-approved"
TAG_GUID = "tag:news.example,2025:orchard-park"
UPDATE = " The mayor said on Tuesday that a second phase of 90 homes would be put to the council in the autumn."


def serve_rss(net: Net, link: str, guid: str) -> str:
    """The feed itself served over HTTP, as the bot polls it; returns its URL."""
    body = feed(link, guid).replace("<guid>", '<guid isPermaLink="false">').encode()
    net.server.routes["/feed.xml"] = lambda ex: ex.respond(200, {"Content-Type": "application/rss+xml"}, body)
    return net.url("/feed.xml")


def serve_page(net: Net, path: str, html: str | None) -> None:
    """``html`` on ``path``, or a 503 (the site is down) when None."""
    if html is None:
        net.server.routes[path] = lambda ex: ex.respond(503, {"Content-Type": "text/plain"}, b"down")
    else:
        data = html.encode()
        net.server.routes[path] = lambda ex: ex.respond(200, {"Content-Type": "text/html; charset=utf-8"}, data)


def test_entry_whose_link_changed_is_matched_by_its_non_url_guid(app, net: Net) -> None:  # type: ignore[no-untyped-def]
    serve_page(net, "/2025/05/orchard-park", page())
    feed_url = serve_rss(net, STORY_URL, TAG_GUID)
    first = app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    assert [i.status for i in first.items] == ["added"]
    (record,) = app.store.get_records().values()
    assert record.guid == TAG_GUID
    stored = app.store.article_body(record.id)
    assert stored is not None and "240 homes" in stored

    # The page moved and the feed's link carries tracking parameters; the new address is down.
    moved = net.url(MOVED_PATH) + "?utm_source=rss&utm_medium=feed"
    serve_page(net, MOVED_PATH, None)
    serve_rss(net, moved, TAG_GUID)
    second = app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    (item,) = second.items
    assert item.status == "kept"
    assert item.detail.startswith("kept stored full text; page fetch failed:") and "503" in item.detail
    assert app.store.article_body(record.id) == stored
    assert app.store.article_count() == 1

    # Back up, with an update: the same article is updated in place and now has the new address.
    serve_page(net, MOVED_PATH, page(canonical=net.url(MOVED_PATH), extra=UPDATE))
    third = app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    (item,) = third.items
    assert (item.status, item.detail) == ("updated", "matched the article stored under the same feed GUID")
    assert app.store.article_count() == 1
    (after,) = app.store.get_records().values()
    assert (after.id, after.guid, after.url) == (record.id, TAG_GUID, moved)
    body = app.store.article_body(record.id)
    assert body is not None and "240 homes" in body and "second phase of 90 homes" in body
    net.assert_nothing_forbidden_contacted()


def test_atom_summary_only_copy_is_upgraded_by_id_when_the_page_moved(app, net: Net, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    entry_id = "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"

    def atom(link: str) -> str:
        return (
            '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Town Crier</title>'
            f'<entry><title>Council approves Orchard Park estate</title><link href="{link}"/><id>{entry_id}</id>'
            f"<updated>2025-05-12T18:30:00+01:00</updated><summary>{TEASER}</summary></entry></feed>"
        )

    path = tmp_path / "crier.atom"
    path.write_text(atom("http://news.example/s/123"), encoding="utf-8")
    net.server.routes["/s/123"] = lambda ex: ex.respond(429, {"Content-Type": "text/plain"}, b"slow down")
    first = app.indexer.ingest([str(path)], net.fetcher(), 1_000_000)
    assert [i.status for i in first.items] == ["added"]
    (record,) = app.store.get_records().values()
    assert record.guid == entry_id
    teaser = app.store.article_body(record.id)
    assert teaser is not None and "240 homes" not in teaser

    # The entry now links the page's own address (no redirect, no canonical tying the two together).
    serve_page(net, MOVED_PATH, page(canonical=None))
    path.write_text(atom(net.url(MOVED_PATH)), encoding="utf-8")
    second = app.indexer.ingest([str(path)], net.fetcher(), 1_000_000)
    (item,) = second.items
    assert (item.status, item.detail) == ("updated", "matched the article stored under the same feed GUID")
    assert app.store.article_count() == 1
    body = app.store.article_body(record.id)
    assert body is not None and "240 homes" in body
    net.assert_nothing_forbidden_contacted()


def test_bare_guids_of_two_feeds_are_different_articles(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = (
        "The ferry operator cancelled all crossings to the island on Friday because of the storm, and said "
        "the timetable would return to normal on Sunday if the wind dropped, while passengers with tickets "
        "for the cancelled sailings could claim a refund at the harbour office or travel on Saturday's "
        "extra evening boat at no cost."
    )
    first, second = tmp_path / "crier.xml", tmp_path / "gazette.xml"
    first.write_text(feed(STORY_URL, guid="17"), encoding="utf-8")
    second.write_text(
        feed("http://gazette.example/ferry", guid="17").replace(TEASER, other).replace("Council approves", "Ferry"),
        encoding="utf-8",
    )
    report = app.indexer.ingest([str(first), str(second)], None, 1_000_000)
    assert [i.status for i in report.items] == ["added", "added"]  # "17" is unique only within its feed
    assert app.store.article_count() == 2


def test_store_written_before_guids_keeps_working_and_learns_them(app, net: Net, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    serve_page(net, "/2025/05/orchard-park", page())
    feed_url = serve_rss(net, STORY_URL, TAG_GUID)
    app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    (record,) = app.store.get_records().values()
    # As an older factdesk wrote it: no guid field on the record.
    client = make_client(app.settings.chroma_dir)
    client.get_collection(f"{app.settings.collection}-articles").update(ids=[record.id], metadatas=[{"guid": None}])
    assert app.store.get_records()[record.id].guid is None

    again = app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    assert [i.status for i in again.items] == ["unchanged"]
    assert app.store.get_records()[record.id].guid == TAG_GUID  # learnt on the unchanged poll

    serve_page(net, MOVED_PATH, None)
    serve_rss(net, net.url(MOVED_PATH), TAG_GUID)
    moved = app.indexer.ingest([feed_url], net.fetcher(), 1_000_000)
    assert [i.status for i in moved.items] == ["kept"]
    assert app.store.article_count() == 1
