"""load_sources: files, folders, JSON/JSONL records, URLs and feeds (MockTransport, fake DNS)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.errors import BlockedURLError, SourceError
from index.clean import clean_article
from index.fetch import Fetcher
from index.loaders import feed_guid, load_sources
from index.models import RawArticle
from tests.conftest import MULTIHOP_CORPUS

CORPUS = MULTIHOP_CORPUS
MAX = 100_000
PUBLIC_IP = "93.184.216.34"

STORY = (
    "The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs. "
    "Engineers replaced corroded steel cables and resurfaced the deck, officials said."
)
LONG_SUMMARY = (
    "Ferry operators announced a new winter timetable on Friday, adding three late sailings on weekdays "
    "and one extra early crossing on Saturdays. The company said demand had grown steadily since the "
    "bridge closure last summer and that the new schedule would stay in place until at least March."
)
ARTICLE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:site_name" content="Example News"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>
<p>The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs that cost the
city council more than twelve million euros, officials said at a press conference.</p>
<p>Engineers replaced corroded steel cables and resurfaced the deck, which had been closed since a routine
inspection found cracks in two of the main supports last summer.</p>
<p>Local businesses welcomed the reopening, saying the detour had cut visitor numbers by almost a third.</p>
</article><footer>© 2024 Example News</footer></body></html>"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Example News - Top stories</title>
  <link>https://news.example.com/</link>
  <description>Top stories</description>
  <item>
    <title>Harbour bridge reopens</title>
    <link>https://news.example.com/bridge</link>
    <pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
    <dc:creator>Jane Doe</dc:creator>
    <description>Short teaser.</description>
  </item>
  <item>
    <title>Ferry timetable changes</title>
    <link>https://news.example.com/ferry</link>
    <pubDate>Wed, 06 Mar 2024 10:00:00 GMT</pubDate>
    <description><![CDATA[<p>{summary}</p>]]></description>
  </item>
  <item>
    <title>Storm warning</title>
    <link>https://news.example.com/storm</link>
    <description>Heavy rain expected.</description>
  </item>
</channel>
</rss>""".replace("{summary}", LONG_SUMMARY)

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Atom</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-03-06T10:00:00Z</updated>
  <entry>
    <title>Harbour bridge reopens</title>
    <link href="/bridge"/>
    <id>urn:uuid:1</id>
    <updated>2024-03-05T08:30:00Z</updated>
    <author><name>Jane Doe</name></author>
    <summary>Short teaser.</summary>
  </entry>
  <entry>
    <title>Ferry timetable changes</title>
    <link href="https://news.example.com/ferry"/>
    <id>urn:uuid:2</id>
    <updated>2024-03-06T10:00:00Z</updated>
    <content type="html">&lt;p&gt;{summary}&lt;/p&gt;</content>
  </entry>
</feed>""".replace("{summary}", LONG_SUMMARY)


def run(sources: Iterable[str], fetcher: Fetcher | None = None, max_bytes: int = MAX) -> list[object]:
    return list(load_sources(sources, fetcher, max_bytes))


def articles(items: list[object]) -> list[RawArticle]:
    return [item for item in items if isinstance(item, RawArticle)]


def errors(items: list[object]) -> list[SourceError]:
    return [item for item in items if isinstance(item, SourceError)]


def site(
    routes: dict[str, tuple[int, str, str]], seen: list[str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler serving ``routes`` keyed by ``host + path``."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["host"] + request.url.path
        if seen is not None:
            seen.append(key)
        status, content_type, text = routes.get(key, (404, "text/plain", "not found"))
        return httpx.Response(status, headers={"content-type": content_type}, text=text)

    return handler


def fake_dns(host: str, port: int) -> list[str]:
    if host.endswith("example.com"):
        return [PUBLIC_IP]
    if host == "intranet.example.org":
        return ["10.0.0.5"]
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def fetcher_for(handler: Callable[[httpx.Request], httpx.Response]) -> Fetcher:
    return Fetcher(
        timeout=5.0,
        max_bytes=MAX,
        max_redirects=3,
        user_agent="factdesk-test",
        transport=httpx.MockTransport(handler),
        resolver=fake_dns,
    )


# --- plain files ----------------------------------------------------------------------------------


def test_text_file_with_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bridge.txt"
    path.write_text(
        "---\ntitle: Harbour bridge reopens\noutlet: Coastal Gazette\nurl: https://gazette.example.com/bridge\n"
        "published_at: 2024-03-05 09:30:00\nauthor: Jane Doe\ncategory: local\n---\n" + STORY + "\n",
        encoding="utf-8",
    )
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle)
    assert raw.title == "Harbour bridge reopens"
    assert raw.outlet == "Coastal Gazette"
    assert raw.url == "https://gazette.example.com/bridge"
    assert raw.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert (raw.author, raw.category) == ("Jane Doe", "local")
    assert raw.body.strip() == STORY
    assert raw.source == str(path)
    assert not raw.is_html


def test_text_file_without_front_matter_gets_title_from_cleaning(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("Harbour bridge reopens\n\n" + STORY, encoding="utf-8")
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle) and raw.title is None
    assert clean_article(raw).title == "Harbour bridge reopens"


def test_markdown_heading_becomes_title(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# Harbour bridge reopens\n\n" + STORY, encoding="utf-8")
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle)
    assert raw.title == "Harbour bridge reopens"
    assert "# Harbour" not in raw.body


def test_invalid_front_matter_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\n" + STORY, encoding="utf-8")
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and "invalid front matter" in err.reason


def test_html_file(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_PAGE.format(title="Harbour bridge reopens"), encoding="utf-8")
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle) and raw.is_html
    assert clean_article(raw).outlet == "Example News"


def test_empty_whitespace_missing_and_unsupported_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\n ", encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    items = run([str(tmp_path / n) for n in ("empty.txt", "blank.md", "missing.txt", "report.pdf")])
    assert [e.reason for e in errors(items)] == [
        "empty file",
        "empty file",
        "file not found",
        "unsupported file type '.pdf'",
    ]


def test_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("word " * 300, encoding="utf-8")
    (err,) = run([str(path)], max_bytes=1000)
    assert isinstance(err, SourceError)
    assert err.reason == "file too large (1500 bytes > 1000)"


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and "binary" in err.reason


def test_windows_1252_text_is_accepted_when_clean(tmp_path: Path) -> None:
    path = tmp_path / "cp.txt"
    path.write_bytes("Caf\u00e9 owners \u201cwelcomed\u201d the plan \u2013 cautiously.".encode("cp1252"))
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle)
    assert raw.body == "Café owners “welcomed” the plan – cautiously."


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + STORY.encode("utf-8"))
    (raw,) = run([str(path)])
    assert isinstance(raw, RawArticle) and raw.body == STORY


def test_undecodable_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(b"abc \x81\x8d\x8f\x90\x9d def")  # undefined in Windows-1252, invalid UTF-8
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and err.reason == "not UTF-8 text, and no other encoding reads it as text"
    path.write_bytes(b"abc \xe9\x01\x02 def")  # decodes as 1252 but with control characters
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and err.reason == "not UTF-8 text, and no other encoding reads it as text"


def test_permission_errors_become_source_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores file modes, so simulate the OS refusing instead."""
    secret = tmp_path / "secret.txt"
    secret.write_text(STORY, encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text(STORY, encoding="utf-8")
    real_open, real_scandir = Path.open, os.scandir

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def guarded_scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(Path, "open", guarded_open)
    monkeypatch.setattr("index.loaders.os.scandir", guarded_scandir)
    items = run([str(secret), str(tmp_path)])
    assert [(e.source, e.reason) for e in errors(items)] == [
        (str(secret), "permission denied"),
        (str(locked), "permission denied"),
        (str(secret), "permission denied"),
    ]


def test_one_bad_source_does_not_stop_the_batch(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(STORY, encoding="utf-8")
    items = run([str(tmp_path / "nope.txt"), "", str(good)])
    assert isinstance(items[0], SourceError) and isinstance(items[1], SourceError)
    assert isinstance(items[2], RawArticle) and items[2].source == str(good)


# --- folders --------------------------------------------------------------------------------------


def test_folder_recursion_sorted_hidden_and_unsupported_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "z.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n\n" + STORY, encoding="utf-8")
    (tmp_path / "b" / "c.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "b" / "deep" / "d.html").write_text(ARTICLE_PAGE.format(title="D"), encoding="utf-8")
    (tmp_path / "b" / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / ".git" / "config.txt").write_text(STORY, encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "notes.docx").write_bytes(b"PK")

    items = run([str(tmp_path)])
    names = [Path(str(getattr(item, "source", ""))).relative_to(tmp_path).as_posix() for item in items]
    assert names == ["a.md", "b/c.txt", "b/deep/d.html", "b/empty.txt", "z.txt"]
    assert isinstance(items[3], SourceError) and items[3].reason == "empty file"
    assert len(articles(items)) == 4


# --- JSON and JSONL -------------------------------------------------------------------------------


def test_json_records_list_and_articles_object(tmp_path: Path) -> None:
    records = [
        {
            "title": "One",
            "body": STORY,
            "source": "Wire A",
            "url": "https://a.example.com/1",
            "date": "2024-03-05",
        },
        {
            "title": "Two",
            "content": STORY,
            "outlet": "Wire B",
            "published": "Tue, 05 Mar 2024 09:30:00 +0100",
        },
        {"title": "No body", "url": "https://a.example.com/3"},
        {"title": "Three", "text": STORY, "author": ["Ann", "Bo"], "published_at": "not a date"},
        "not an object",
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps({"articles": records}), encoding="utf-8")
    items = run([str(path)])
    assert [type(i).__name__ for i in items] == [
        "RawArticle",
        "RawArticle",
        "SourceError",
        "RawArticle",
        "SourceError",
    ]
    one, two, _, three, _ = items
    assert isinstance(one, RawArticle) and isinstance(two, RawArticle) and isinstance(three, RawArticle)
    assert (one.outlet, one.url, one.source) == ("Wire A", "https://a.example.com/1", f"{path}#0")
    assert one.published_at == datetime(2024, 3, 5, tzinfo=UTC)
    assert two.outlet == "Wire B" and two.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert three.author == "Ann, Bo" and three.published_at is None
    err = items[2]
    assert isinstance(err, SourceError) and err.source == f"{path}#2" and "no body" in err.reason


def test_malformed_json_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"title": "a", "body": "b"},\n  {"title": oops}\n]', encoding="utf-8")
    (err,) = run([str(path)])
    assert isinstance(err, SourceError)
    assert err.source == str(path)
    assert err.reason.startswith("invalid JSON at line 3")


def test_json_of_the_wrong_shape(tmp_path: Path) -> None:
    path = tmp_path / "shape.json"
    path.write_text('{"items": []}', encoding="utf-8")
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and "list of records" in err.reason


def test_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "One", "body": STORY, "source": "Wire"}),
        '{"title": "Broken", "body": ',
        "",
        json.dumps({"title": "Two", "body": STORY, "source": "Wire"}),
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = run([str(path)])
    assert [type(i).__name__ for i in items] == ["RawArticle", "SourceError", "RawArticle"]
    bad = items[1]
    assert isinstance(bad, SourceError) and bad.source == f"{path}#1" and "line 2" in bad.reason
    assert [a.title for a in articles(items)] == ["One", "Two"]


@pytest.mark.skipif(not CORPUS.exists(), reason="MultiHop-RAG corpus not available")
def test_multihop_corpus_loads_every_record_with_default_size_limit() -> None:
    items = run([str(CORPUS)], max_bytes=5_000_000)  # the settings default; the file is ~6.8 MB
    assert errors(items) == []
    raws = articles(items)
    assert len(raws) == 609
    for index, raw in enumerate(raws):
        assert raw.source == f"{CORPUS}#{index}"
        assert raw.outlet and raw.title and raw.body
        assert raw.url and raw.url.startswith("http")
        assert raw.published_at is not None and raw.published_at.tzinfo is not None
    assert len({raw.outlet for raw in raws}) > 20


@pytest.mark.skipif(not CORPUS.exists(), reason="MultiHop-RAG corpus not available")
def test_multihop_corpus_cleans_without_losing_text() -> None:
    for raw in articles(run([str(CORPUS)], max_bytes=5_000_000)):
        article = clean_article(raw)
        assert article.title == " ".join((raw.title or "").split())
        assert len(article.body) > 0.9 * len(raw.body.strip()) - 2000
        assert article.published_at == raw.published_at


# --- feeds ----------------------------------------------------------------------------------------


def feed_site(seen: list[str]) -> Callable[[httpx.Request], httpx.Response]:
    return site(
        {
            "news.example.com/rss": (200, "application/rss+xml", RSS),
            "news.example.com/atom": (200, "application/atom+xml; charset=utf-8", ATOM),
            "news.example.com/bridge": (200, "text/html; charset=utf-8", ARTICLE_PAGE.format(title="Bridge")),
            "news.example.com/ferry": (500, "text/plain", "boom"),
            "news.example.com/storm": (404, "text/plain", "gone"),
        },
        seen,
    )


def test_rss_feed_fetches_entry_links_and_falls_back_to_summary() -> None:
    seen: list[str] = []
    with fetcher_for(feed_site(seen)) as fetcher:
        items = run(["https://news.example.com/rss"], fetcher)
    assert seen == [
        "news.example.com/rss",
        "news.example.com/bridge",
        "news.example.com/ferry",
        "news.example.com/storm",
    ]
    # The ferry page fails: its summary stands in, carrying why (one item, not an error plus a copy).
    assert [type(i).__name__ for i in items] == ["RawArticle", "RawArticle", "SourceError"]
    bridge, ferry, storm_error = items
    assert isinstance(bridge, RawArticle) and bridge.is_html
    assert bridge.title == "Harbour bridge reopens"  # the entry's title carries over
    assert bridge.url == bridge.source == "https://news.example.com/bridge"
    assert bridge.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert bridge.author == "Jane Doe"
    assert clean_article(bridge).body.startswith("The harbour bridge reopened")

    assert isinstance(ferry, RawArticle) and not ferry.is_html
    assert ferry.fetch_error is not None and "HTTP 500" in ferry.fetch_error
    assert ferry.source == "https://news.example.com/rss#1:summary"
    assert ferry.body == LONG_SUMMARY
    assert ferry.url == "https://news.example.com/ferry"
    assert ferry.outlet == "Example News - Top stories"
    assert ferry.published_at == datetime(2024, 3, 6, 10, tzinfo=UTC)

    # The storm entry's page is missing and its summary is too short to stand in.
    assert isinstance(storm_error, SourceError) and "HTTP 404" in storm_error.reason


def test_atom_feed_by_url_resolves_relative_links() -> None:
    seen: list[str] = []
    with fetcher_for(feed_site(seen)) as fetcher:
        items = run(["https://news.example.com/atom"], fetcher)
    assert seen == ["news.example.com/atom", "news.example.com/bridge", "news.example.com/ferry"]
    assert [type(i).__name__ for i in items] == ["RawArticle", "RawArticle"]
    bridge, ferry = items
    assert isinstance(bridge, RawArticle) and bridge.url == "https://news.example.com/bridge"
    assert bridge.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert isinstance(ferry, RawArticle) and ferry.body == LONG_SUMMARY


def test_feed_entries_carry_their_guid() -> None:
    with fetcher_for(feed_site([])) as fetcher:
        atom = articles(run(["https://news.example.com/atom"], fetcher))
        rss = articles(run(["https://news.example.com/rss"], fetcher))
    assert [a.guid for a in atom] == ["urn:uuid:1", "urn:uuid:2"]  # Atom <id>, on the page and the summary
    assert clean_article(atom[1]).guid == "urn:uuid:2"
    assert [a.guid for a in rss] == [None, None]  # no <guid>: nothing to match by but the link


def test_rss_guid_without_a_scheme_is_qualified_by_its_feed(tmp_path: Path) -> None:
    items = [
        f"<item><title>Story {n}</title><link>https://news.example.com/{n}</link>{guid}"
        f"<description>{LONG_SUMMARY}</description></item>"
        for n, guid in enumerate(
            ['<guid isPermaLink="false">tag:news.example.com,2024:17</guid>', "<guid>17</guid>", "<guid></guid>"]
        )
    ]
    path = tmp_path / "news.rss"
    path.write_text(f'<rss version="2.0"><channel><title>N</title>{"".join(items)}</channel></rss>', "utf-8")
    tagged, bare, empty = articles(run([str(path)]))
    assert tagged.guid == "tag:news.example.com,2024:17"
    assert bare.guid == f"{path}#guid=17"  # "17" is unique only within this feed
    assert empty.guid is None
    assert feed_guid("x" * 600, "feed") is None


def test_feed_served_as_text_html_is_still_recognised() -> None:
    seen: list[str] = []
    handler = site({"news.example.com/rss": (200, "text/html", RSS)}, seen)
    with fetcher_for(handler) as fetcher:
        items = run(["https://news.example.com/rss"], fetcher)
    assert len(items) == 3  # three entry fetches fail (404), ferry falls back to its summary
    assert [a.title for a in articles(items)] == ["Ferry timetable changes"]


def test_local_feed_file_without_fetcher_uses_summaries(tmp_path: Path) -> None:
    path = tmp_path / "news.rss"
    path.write_text(RSS, encoding="utf-8")
    items = run([str(path)])
    assert [type(i).__name__ for i in items] == ["SourceError", "RawArticle", "SourceError"]
    first = items[0]
    assert isinstance(first, SourceError) and first.source == f"{path}#0"
    assert "summary is too short" in first.reason
    ferry = items[1]
    assert isinstance(ferry, RawArticle) and ferry.source == f"{path}#1:summary"


def test_explicit_feed_prefix_and_local_atom(tmp_path: Path) -> None:
    path = tmp_path / "feed.data"
    path.write_text(ATOM, encoding="utf-8")
    items = run([f"feed:{path}"])
    assert [a.title for a in articles(items)] == ["Ferry timetable changes"]


def test_malformed_feed_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<rss><channel><title>Broken</title><item><title>Oops", encoding="utf-8")
    (err,) = run([str(path)])
    assert isinstance(err, SourceError) and err.reason.startswith("malformed feed")

    handler = site({"news.example.com/rss": (200, "application/rss+xml", "this is not xml at all")})
    with fetcher_for(handler) as fetcher:
        (err,) = run(["https://news.example.com/rss"], fetcher)
    assert isinstance(err, SourceError) and err.source == "https://news.example.com/rss"
    assert err.reason.startswith(("malformed feed", "feed has no entries"))


# --- URLs -----------------------------------------------------------------------------------------


def test_url_to_html_article() -> None:
    page = ARTICLE_PAGE.format(title="Harbour bridge reopens")
    handler = site({"www.example.com/story": (200, "text/html; charset=utf-8", page)})
    with fetcher_for(handler) as fetcher:
        (raw,) = run(["https://www.example.com/story"], fetcher)
    assert isinstance(raw, RawArticle) and raw.is_html
    assert raw.url == raw.source == "https://www.example.com/story"
    article = clean_article(raw)
    assert article.title == "Harbour bridge reopens"
    assert article.outlet == "Example News"


def test_url_with_unsupported_content_type() -> None:
    handler = site({"www.example.com/file.pdf": (200, "application/pdf", "%PDF")})
    with fetcher_for(handler) as fetcher:
        (err,) = run(["https://www.example.com/file.pdf"], fetcher)
    assert isinstance(err, SourceError) and "unsupported content type 'application/pdf'" in err.reason


def test_urls_are_refused_without_a_fetcher_and_blocked_ones_are_yielded() -> None:
    (err,) = run(["https://www.example.com/story"], None)
    assert isinstance(err, SourceError) and "disabled" in err.reason
    (blocked,) = run(["file:///etc/passwd"], None)
    assert isinstance(blocked, BlockedURLError)
    with fetcher_for(site({})) as fetcher:
        items = run(["http://127.0.0.1:8080/admin", "http://intranet.example.org/", "javascript:alert(1)"], fetcher)
    assert [type(i) for i in items] == [BlockedURLError, BlockedURLError, BlockedURLError]
