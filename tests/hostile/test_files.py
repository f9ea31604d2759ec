"""Campaign area "files": malformed, hostile and oddly encoded input files, and what the ingest makes of them.

Each case feeds one file (or a small batch) to the loaders, the cleaner or the
real ingest (MiniLM + Chroma in a temp dir) and asserts the outcome: the right
text, or a one-line error for exactly that item while the rest of the batch lands.
"""

from __future__ import annotations

import codecs
import gzip
import json
import logging
import os
import random
from collections.abc import Iterable
from pathlib import Path

import pytest

from bot.core.errors import SourceError
from bot.core.settings import Settings
from index import clean as clean_module
from index import loaders as loaders_module
from index.clean import clean_article
from index.embeddings import LocalMiniLMEmbeddings
from index.loaders import load_sources
from index.models import Article, RawArticle, article_id
from index.pipeline import IngestReport
from tests.conftest import app_for
from tests.hostile.conftest import assert_one_line_error

STORY = (
    "The harbour bridge reopened on Tuesday after eight months of repairs, officials said. "
    "Traffic returned to normal within hours, and the ferry service will keep its extra crossings until May. "
    "Engineers replaced 40 steel cables and repainted the towers, at a cost of 12 million pounds."
)
OTHER = (
    "The city council approved the new tram line on Thursday by a vote of 31 to 12. "
    "Construction is due to start in the autumn and the first trams should run in 2027. "
    "Opponents said the budget of 210 million pounds leaves no room for delays."
)
# Distinct stories, so that the near-duplicate check never merges two of them.
STORIES = [
    STORY,
    OTHER,
    "Firefighters contained a blaze at the old paper mill late on Sunday. No one was hurt, but smoke "
    "closed the ring road for three hours. Investigators are looking at a faulty transformer.",
    "The university announced a new scholarship fund for students from rural schools. Each award covers "
    "tuition and housing for four years, and the first 60 winners will be named in June.",
    "Heavy rain flooded the lower town market for the second time this spring. Traders asked for sandbags "
    "and a new drain, and the mayor promised an emergency meeting on Wednesday morning.",
    "The national orchestra will tour six coastal towns this summer with free open-air concerts. The "
    "programme mixes film music with Dvorak, and tickets are not needed for the lawn seats.",
]
RANDOM = random.Random(13)
RANDOM_HIGH = bytes(RANDOM.randrange(128, 256) for _ in range(4000))
RANDOM_ANY = bytes(RANDOM.randrange(0, 256) for _ in range(4000))
PAGE = (
    "<html><head><meta charset='utf-8'><title>Harbour bridge reopens</title></head>"
    f"<body><article><h1>Harbour bridge reopens</h1><p>{STORY}</p><p>{OTHER}</p></article></body></html>"
)
Result = RawArticle | SourceError


def load(*paths: Path | str, max_bytes: int = 1_000_000) -> list[Result]:
    return list(load_sources([str(p) for p in paths], None, max_bytes))


def write(folder: Path, name: str | bytes, data: bytes | str) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def only_error(results: list[Result], *fragments: str) -> SourceError:
    assert len(results) == 1, results
    return assert_one_line_error(results[0], *fragments)


def only_article(results: list[Result]) -> Article:
    assert len(results) == 1, results
    (raw,) = results
    assert isinstance(raw, RawArticle), raw
    return clean_article(raw)


def articles_and_errors(results: Iterable[Result]) -> tuple[list[Article], list[SourceError]]:
    articles: list[Article] = []
    errors: list[SourceError] = []
    for result in results:
        if isinstance(result, RawArticle):
            try:
                result = clean_article(result)
            except SourceError as exc:
                result = exc
        if isinstance(result, SourceError):
            errors.append(assert_one_line_error(result))
        else:
            articles.append(result)
    return articles, errors


# --- JSON files that are refused as a whole -------------------------------------------------------

WHOLE_FILE_REFUSED = {
    "open-brackets-100k": ("[" * 100_000, "nested too deeply"),
    "open-objects-100k": ('{"a":' * 100_000, "nested too deeply"),
    "deep-articles-wrapper": ('{"articles": ' + "[" * 100_000, "nested too deeply"),
    "huge-integer": ("1" * 5000, "invalid JSON"),
    "string": ('"just a string"', "expected a list"),
    "number": ("42", "expected a list"),
    "null": ("null", "expected a list"),
    "true": ("true", "expected a list"),
    "nan": ("NaN", "expected a list"),
    "empty-list": ("[]", "no records"),
    "articles-not-list": ('{"articles": "x"}', "expected a list"),
    "other-key": ('{"items": []}', "expected a list"),
    "truncated": ('[{"title": "a", "body": "b"', "invalid JSON"),
    "trailing-garbage": ("[] xyz", "invalid JSON"),
    "comments": ("// note\n[]", "invalid JSON"),
    "single-quotes": ("[{'body': 'x'}]", "invalid JSON"),
    "empty": ("", "empty file"),
    "whitespace": ("  \n\t ", "empty file"),
}


@pytest.mark.parametrize(("text", "fragment"), WHOLE_FILE_REFUSED.values(), ids=WHOLE_FILE_REFUSED.keys())
def test_json_file_refused_as_a_whole(tmp_path: Path, text: str, fragment: str) -> None:
    only_error(load(write(tmp_path, "bad.json", text)), "bad.json", fragment)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(RANDOM_HIGH, "not UTF-8 text"), (RANDOM_ANY, "binary"), (gzip.compress(b'[{"body": "x"}]'), "binary")],
    ids=["random-high-bytes", "random-bytes", "gzip-bytes"],
)
def test_json_file_of_garbage_bytes_is_refused(tmp_path: Path, data: bytes, fragment: str) -> None:
    only_error(load(write(tmp_path, "bad.json", data)), fragment)


# --- JSON records: each bad record is its own error, the good one still loads ----------------------

BAD_RECORDS = {
    "number": (42, "not a JSON object"),
    "string": ("text", "not a JSON object"),
    "null": (None, "not a JSON object"),
    "list": ([1, 2], "not a JSON object"),
    "bool": (True, "not a JSON object"),
    "no-body": ({"title": "t"}, "has no body"),
    "empty-body": ({"body": ""}, "has no body"),
    "blank-body": ({"body": " \n\t "}, "has no body"),
    "number-body": ({"body": 42}, "has no body"),
    "list-body": ({"body": ["a", "b"]}, "has no body"),
    "object-body": ({"body": {"text": "x"}}, "has no body"),
    "deep-record": ({"body": STORY, "extra": json.loads("[" * 40 + "]" * 40)}, "nested too deeply"),
    "huge-body": ({"body": "word " * 300_000}, "record body too large"),
    "only-boilerplate": ({"body": "Skip to content\n\nAdvertisement\n\nSubscribe"}, "empty article"),
}


@pytest.mark.parametrize(("record", "fragment"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_json_bad_record_is_its_own_error(tmp_path: Path, record: object, fragment: str) -> None:
    path = write(tmp_path, "mixed.json", json.dumps([{"title": "Good", "body": STORY}, record]))
    articles, errors = articles_and_errors(load(path))
    assert [a.title for a in articles] == ["Good"]
    (error,) = errors
    assert_one_line_error(error, "mixed.json#1", fragment)


ODD_RECORDS = {
    "title-object": ({"title": {"x": 1}}, lambda a: a.title.startswith("The harbour bridge reopened")),
    "title-list": ({"title": ["Harbour", "bridge"]}, lambda a: a.title == "Harbour, bridge"),
    "title-number": ({"title": 2025}, lambda a: a.title == "2025"),
    "title-100k": ({"title": "word " * 20_000}, lambda a: len(a.title) <= 501 and a.title.endswith("…")),
    "title-lone-surrogate": ({"title": "Bridge \ud800 reopens"}, lambda a: a.title == "Bridge \ufffd reopens"),
    "body-lone-surrogate": ({"body": STORY + " \udfff"}, lambda a: a.body.endswith("\ufffd")),
    "outlet-lone-surrogate": ({"outlet": "\udc80News"}, lambda a: a.outlet == "\ufffdNews"),
    "url-javascript": ({"url": "javascript:alert(1)"}, lambda a: a.url is None),
    "url-number": ({"url": 42}, lambda a: a.url is None),
    "url-unclosed-ipv6": ({"url": "http://[::1/x"}, lambda a: a.url is None and a.outlet == "unknown"),
    "url-overlong": ({"url": "https://example.com/" + "a" * 10_000}, lambda a: a.url is None),
    "url-no-host": ({"url": "https:///path"}, lambda a: a.url is None),
    "date-garbage": ({"published_at": "next Tuesday-ish"}, lambda a: a.published_at is None),
    "date-huge": ({"published_at": 1e300}, lambda a: a.published_at is None),
    "date-negative": ({"published_at": -1e20}, lambda a: a.published_at is None),
    "date-bool": ({"published_at": True}, lambda a: a.published_at is None),
    "date-list": ({"published_at": [2025, 4, 1]}, lambda a: a.published_at is None),
    "date-object": ({"published_at": {"$date": 1}}, lambda a: a.published_at is None),
    "author-nested": ({"authors": [["a", ["b"]], {"c": 1}, "Dana"]}, lambda a: a.author == "Dana"),
    "author-many": ({"authors": [f"A{i}" for i in range(10_000)]}, lambda a: a.author and len(a.author) <= 501),
    "duplicate-keys": ('{"body": "x", "body": ' + json.dumps(STORY) + "}", lambda a: a.body == STORY),
    "keys-upper-case": ({"BODY": STORY, "Title": "Upper"}, lambda a: a.title == "Upper"),
    "nul-escape-in-body": ({"body": STORY + " \u0000 end"}, lambda a: "end" in a.body),
}


@pytest.mark.parametrize(("record", "check"), ODD_RECORDS.values(), ids=ODD_RECORDS.keys())
def test_json_odd_record_loads_with_sane_metadata(tmp_path: Path, record: object, check: object) -> None:
    if isinstance(record, dict):
        record = json.dumps({"body": STORY, **record})
    path = write(tmp_path, "odd.json", f"[{record}]")
    article = only_article(load(path))
    assert check(article), article  # type: ignore[operator]
    for text in (article.title, article.body, article.outlet, article.source, article.url or ""):
        text.encode("utf-8")  # storable: no lone surrogates left


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.encode(),
        lambda text: text.encode("utf-16"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        lambda text: text.encode("utf-32"),
        lambda text: text.encode("cp1252"),
    ],
    ids=["utf8-bom", "utf16-bom", "utf16be-bom", "utf32", "cp1252"],
)
def test_json_in_other_encodings_loads(tmp_path: Path, encode: object) -> None:
    text = json.dumps([{"title": "Café crème", "body": STORY + " Café “crème”."}], ensure_ascii=False)
    article = only_article(load(write(tmp_path, "enc.json", encode(text))))  # type: ignore[operator]
    assert article.title == "Café crème" and article.body.endswith("Café “crème”.")


# --- JSONL ---------------------------------------------------------------------------------------

JSONL_LINES = {
    "open-brackets-100k": ("[" * 100_000, "nested too deeply"),
    "deep-valid-line": ("[" * 40 + "]" * 40, "nested too deeply"),
    "invalid": ("{oops}", "invalid JSON"),
    "huge-integer": ("9" * 5000, "invalid JSON"),
    "null": ("null", "not a JSON object"),
    "number": ("42", "not a JSON object"),
    "list": ("[]", "not a JSON object"),
    "no-body": ('{"title": "x"}', "has no body"),
    "truncated": ('{"body": "unfinished', "invalid JSON"),
}


@pytest.mark.parametrize(("line", "fragment"), JSONL_LINES.values(), ids=JSONL_LINES.keys())
def test_jsonl_bad_line_is_its_own_error(tmp_path: Path, line: str, fragment: str) -> None:
    good = json.dumps({"title": "Good", "body": STORY})
    path = write(tmp_path, "feed.jsonl", "\n".join([good, line, good.replace("Good", "Also good")]) + "\n")
    articles, errors = articles_and_errors(load(path))
    assert [a.title for a in articles] == ["Good", "Also good"]
    (error,) = errors
    assert_one_line_error(error, "feed.jsonl#1", fragment)


def test_jsonl_with_crlf_bom_blank_lines_and_no_final_newline(tmp_path: Path) -> None:
    lines = [json.dumps({"title": f"T{i}", "body": STORY}) for i in range(3)]
    data = codecs.BOM_UTF8 + ("\r\n\r\n".join(lines)).encode()
    articles, errors = articles_and_errors(load(write(tmp_path, "crlf.jsonl", data)))
    assert [a.title for a in articles] == ["T0", "T1", "T2"] and not errors


def test_jsonl_many_lines_half_bad(tmp_path: Path) -> None:
    lines = [json.dumps({"title": f"T{i}", "body": STORY}) if i % 2 else "[" * 5000 for i in range(400)]
    articles, errors = articles_and_errors(load(write(tmp_path, "half.jsonl", "\n".join(lines))))
    assert len(articles) == 200 and len(errors) == 200


# --- text, Markdown and HTML files in every encoding ----------------------------------------------

ENCODED_TEXT = {
    "utf16le-bom-txt": (".txt", codecs.BOM_UTF16_LE + STORY.encode("utf-16-le"), STORY),
    "utf16be-bom-txt": (".txt", codecs.BOM_UTF16_BE + STORY.encode("utf-16-be"), STORY),
    "utf16le-nobom-txt": (".txt", STORY.encode("utf-16-le"), STORY),
    "utf16be-nobom-txt": (".txt", STORY.encode("utf-16-be"), STORY),
    "utf16-bom-md": (".md", ("# Bridge\n\n" + STORY).encode("utf-16"), STORY),
    "utf32-bom-txt": (".txt", STORY.encode("utf-32"), STORY),
    "utf8-bom-txt": (".txt", codecs.BOM_UTF8 + STORY.encode(), STORY),
    "cp1252-txt": (".txt", (STORY + " Café “crème” – déjà.").encode("cp1252"), "Café “crème” – déjà."),
    "latin1-txt": (
        ".txt",
        "Le pont a rouvert mardi après huit mois de travaux, a-t-on appris.".encode("latin-1"),
        "après",
    ),
    "cp1251-txt": (".txt", ("Мост открылся во вторник после восьми месяцев ремонта. " * 3).encode("cp1251"), "Мост"),
    "shift-jis-txt": (".txt", ("橋は八か月の修理を経て火曜日に再開した。" * 4).encode("shift_jis"), "橋は八か月"),
    "gb18030-txt": (".txt", ("大桥经过八个月的维修后于周二重新开放。" * 4).encode("gb18030"), "大桥经过"),
    "utf8-chinese-txt": (".txt", ("大桥经过八个月的维修后于周二重新开放。" * 4).encode(), "大桥经过"),
    "utf8-symbols-txt": (".txt", (STORY + " Prices: $1,299 — €1.099 — £999 🎉 ✓ → ★").encode(), "🎉"),
    "ansi-escapes-txt": (".txt", ("\x1b[31mAlert\x1b[0m " + STORY).encode(), "Alert"),
    "bidi-and-zero-width-txt": (".txt", ("\u202eBridge\u202c \u200b" + STORY).encode(), "harbour bridge"),
    "cr-only-lines-txt": (".txt", (STORY.replace(". ", ".\r")).encode(), "Traffic returned"),
    "one-megabyte-line-txt": (".txt", ("word" * 250_000).encode(), "wordword"),
    "utf16le-bom-html": (".html", codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"), "harbour bridge reopened"),
    "utf16be-bom-html": (".html", codecs.BOM_UTF16_BE + PAGE.encode("utf-16-be"), "harbour bridge reopened"),
    "meta-cp1251-html": (
        ".html",
        f"<html><head><meta charset='windows-1251'></head><body><p>{'Мост открылся во вторник. ' * 20}</p>"
        f"<p>{STORY}</p></body></html>".encode("cp1251"),
        "Мост открылся",
    ),
    "meta-lies-html": (
        ".html",
        f"<html><head><meta charset='utf-8'></head><body><p>{STORY} Café crème.</p><p>{OTHER}</p></body></html>".encode(
            "cp1252"
        ),
        "Café crème",
    ),
}


@pytest.mark.parametrize(("suffix", "data", "expected"), ENCODED_TEXT.values(), ids=ENCODED_TEXT.keys())
def test_text_files_in_any_honest_encoding_load(tmp_path: Path, suffix: str, data: bytes, expected: str) -> None:
    article = only_article(load(write(tmp_path, "article" + suffix, data), max_bytes=5_000_000))
    assert expected in article.body


GARBAGE_FILES = {
    "random-high-bytes-txt": (".txt", RANDOM_HIGH, "not UTF-8 text"),
    "random-high-bytes-md": (".md", RANDOM_HIGH, "not UTF-8 text"),
    "random-high-bytes-html": (".html", RANDOM_HIGH, "not UTF-8 text"),
    "random-bytes-txt": (".txt", RANDOM_ANY, "binary"),
    "png-txt": (".txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + RANDOM_ANY, "binary"),
    "gzip-txt": (".txt", gzip.compress(STORY.encode() * 20), "binary"),
    "pdf-txt": (".txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + RANDOM_ANY, "binary"),
    "utf16-bom-odd-length": (".txt", STORY.encode("utf-16") + b"\x00", "despite its byte-order mark"),
    "utf8-bom-invalid": (".txt", codecs.BOM_UTF8 + b"ok \xff\xfe\xfd", "despite its byte-order mark"),
    "declared-latin1-garbage-html": (
        ".html",
        b"<meta charset='iso-8859-1'>" + bytes((i * 131) % 32 + 128 for i in range(3000)),
        "declared charset",
    ),
    "empty-txt": (".txt", b"", "empty file"),
    "whitespace-md": (".md", b" \n\n\t", "empty file"),
    "front-matter-only-md": (".md", b"---\ntitle: x\n---\n", "no article text"),
    "heading-only-md": (".md", b"# Just a heading\n", "no article text"),
    "script-only-html": (".html", b"<html><body><script>var x = 1;</script></body></html>", "no article text found"),
}


@pytest.mark.parametrize(("suffix", "data", "fragment"), GARBAGE_FILES.values(), ids=GARBAGE_FILES.keys())
def test_garbage_files_are_one_line_errors(tmp_path: Path, suffix: str, data: bytes, fragment: str) -> None:
    results = load(write(tmp_path, "bad" + suffix, data))
    if len(results) == 1 and isinstance(results[0], RawArticle):
        with pytest.raises(SourceError) as info:  # refused when cleaned (HTML without text)
            clean_article(results[0])
        results = [info.value]
    only_error(results, fragment)


FRONT_MATTER = {
    "nested-100k": ("---\ntitle: " + "[" * 100_000 + "\n---\n" + STORY, "nested too deeply"),
    "mapping-nested-50k": ("---\n" + "{a: " * 50_000 + "\n---\n" + STORY, "nested too deeply"),
    "not-a-mapping": ("---\n- a\n- b\n---\n" + STORY, "must be a mapping"),
    "python-object-tag": (
        "---\ntitle: !!python/object/apply:os.system ['true']\n---\n" + STORY,
        "invalid front matter",
    ),
    "huge-integer": ("---\ntitle: " + "1" * 5000 + "\n---\n" + STORY, "invalid front matter"),
    "unhashable-key": ("---\n? [a, b]\n: c\n---\n" + STORY, "invalid front matter"),
}


@pytest.mark.parametrize(("text", "fragment"), FRONT_MATTER.values(), ids=FRONT_MATTER.keys())
def test_hostile_front_matter_is_one_line_error(tmp_path: Path, text: str, fragment: str) -> None:
    only_error(load(write(tmp_path, "fm.md", text)), fragment)


def test_front_matter_alias_bomb_is_cheap_and_ignored(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    text = "---\n" + "\n".join(levels) + "\ntitle: *i\nauthor: *i\npublished_at: *i\n---\n" + STORY
    article = only_article(load(write(tmp_path, "laughs.md", text)))
    assert article.author is None and article.published_at is None and article.body == STORY


def test_unclosed_front_matter_is_body_text(tmp_path: Path) -> None:
    article = only_article(load(write(tmp_path, "open.md", "---\ntitle: x\n" + STORY)))
    assert STORY in article.body


def test_deeply_nested_html_is_one_result_not_a_crash(tmp_path: Path) -> None:
    page = "<html><body>" + "<div>" * 100_000 + f"<p>{STORY}</p>" + "</div>" * 100_000 + "</body></html>"
    (result,) = load(write(tmp_path, "deep.html", page), max_bytes=5_000_000)
    try:
        clean_article(result) if isinstance(result, RawArticle) else assert_one_line_error(result)
    except SourceError as exc:
        assert_one_line_error(exc)


# --- feeds ------------------------------------------------------------------------------------------


def rss(items: str, encoding: str = "utf-8", prolog: str = "") -> str:
    channel = f"<channel><title>F</title>{items}</channel>"
    return f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0">{channel}</rss>'


def item(title: str, body: str = STORY + " " + OTHER) -> str:
    return f"<item><title>{title}</title><description>{body}</description></item>"


def test_feed_entity_expansion_bomb_is_cut_short(tmp_path: Path) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    text = rss(item("&i;"), prolog=f"<!DOCTYPE rss [{entities}]>")
    results = load(write(tmp_path, "laughs.xml", text))
    for result in results:
        title = clean_article(result).title if isinstance(result, RawArticle) else assert_one_line_error(result)
        assert len(str(title)) < 10_000


def test_feed_external_entity_is_not_resolved(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOPSECRET-VALUE")
    text = rss(
        item("&xxe;", STORY + " &xxe; " + OTHER), prolog=f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    )
    for result in load(write(tmp_path, "xxe.xml", text)):
        if isinstance(result, RawArticle):
            assert "TOPSECRET" not in result.body + (result.title or "")
        else:
            assert_one_line_error(result)


def test_feed_in_utf16_and_latin1_reads_its_entries(tmp_path: Path) -> None:
    utf16 = write(tmp_path, "u16.xml", rss(item("Pont rouvert à Zürich"), "utf-16").encode("utf-16"))
    latin = write(tmp_path, "l1.rss", rss(item("Pont rouvert à Zürich"), "iso-8859-1").encode("latin-1"))
    for path in (utf16, latin):
        article = only_article(load(path))
        assert article.title == "Pont rouvert à Zürich"


def test_feed_entries_without_links_each_fail_on_their_own(tmp_path: Path) -> None:
    text = rss(item("Long one") + "".join(item(f"Short {i}", "too short") for i in range(20)))
    articles, errors = articles_and_errors(load(write(tmp_path, "f.xml", text)))
    assert [a.title for a in articles] == ["Long one"] and len(errors) == 20


@pytest.mark.parametrize(
    ("data", "fragment"),
    [(RANDOM_HIGH, "not UTF-8 text"), (b"<rss><channel><item>" * 50_000, "feed"), (b"not a feed at all", "feed")],
    ids=["random-bytes", "deep-unclosed", "plain-text"],
)
def test_broken_feed_file_is_one_line_error(tmp_path: Path, data: bytes, fragment: str) -> None:
    only_error(load(write(tmp_path, "broken.xml", data)), fragment)


# --- file names and odd paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"caf\xe9.txt", "caf\\xe9.txt"),
        (b"\xff\xfe.txt", "\\xff\\xfe.txt"),
        (b"line\nbreak.txt", "line\\nbreak.txt"),
        (b"\x1b[31mred.txt", "\\x1b[31mred.txt"),
        (b"-rf.txt", "-rf.txt"),
    ],
    ids=["latin1-byte", "bom-bytes", "newline", "escape", "dash"],
)
def test_odd_file_name_beside_a_good_file_both_load(tmp_path: Path, name: bytes, shown: str) -> None:
    write(tmp_path, name, STORY)
    write(tmp_path, "good.txt", OTHER)
    articles, errors = articles_and_errors(load(tmp_path))
    assert not errors and len(articles) == 2
    sources = sorted(a.source for a in articles)
    assert any(s.endswith(shown) for s in sources), sources
    for source in sources:
        source.encode("utf-8")
        assert "\n" not in source and "\x1b" not in source


def test_special_files_are_skipped_or_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "dir.txt").mkdir()
    write(tmp_path / "dir.txt", "inner.txt", STORY)
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    articles, errors = articles_and_errors(load(tmp_path))
    assert [Path(a.source).name for a in articles] == ["inner.txt"]
    assert [Path(e.source).name for e in errors] == ["loop.txt"] and "symbolic links" in errors[0].reason
    only_error(load(tmp_path / "pipe.txt"), "not a regular file")
    only_error(load(tmp_path / "zero.txt"), "not a regular file")
    only_error(load(tmp_path / "loop.txt"), "file not found")


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("a\x00b.txt", "invalid path"),
        ("x" * 300 + ".txt", "File name too long"),
        ("/no/such/dir/file.txt", "file not found"),
        ("   ", "empty source"),
        ("notes.docx", "unsupported file type"),
    ],
    ids=["nul-in-path", "name-too-long", "missing", "blank", "docx"],
)
def test_odd_source_strings_are_one_line_errors(tmp_path: Path, source: str, fragment: str) -> None:
    if source.endswith(".docx"):
        source = str(write(tmp_path, source, b"PK\x03\x04"))
    only_error(load(source), fragment)


# --- article ids (issue 13, item 4) -------------------------------------------------------------------


def test_ids_differ_for_different_texts_without_url() -> None:
    same = {"outlet": "Harbour Post", "title": "Bridge reopens"}
    assert article_id(None, None, **same, body=STORY) != article_id(None, None, **same, body=OTHER)
    assert article_id(None, None, **same, body=STORY) == article_id(None, None, **same, body=STORY)
    assert article_id(None, "file:/a.txt", **same, body=STORY) == article_id(None, "file:/a.txt", **same, body=OTHER)
    assert article_id("https://x.example/a", None, **same, body=STORY) == article_id(
        "https://X.example/a/", "file:/b.txt", outlet="o", title="t", body=OTHER
    )


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """Input folder for the ingest cases, apart from the data dir the settings fixture puts in tmp_path."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def ingest(settings: Settings, embeddings: LocalMiniLMEmbeddings, *sources: Path) -> IngestReport:
    with app_for(settings, embeddings) as app:
        return app.ingest([str(s) for s in sources])


def statuses(report: IngestReport) -> dict[str, int]:
    return {s: report.count(s) for s in ("added", "updated", "unchanged", "duplicate", "error") if report.count(s)}


def front_matter(title: str, body: str, outlet: str = "Harbour Post") -> str:
    return f'---\ntitle: "{title}"\noutlet: "{outlet}"\n---\n{body}\n'


def stored_bodies(settings: Settings, embeddings: LocalMiniLMEmbeddings) -> list[str]:
    with app_for(settings, embeddings) as app:
        return sorted(app.store.article_body(i) or "" for i in app.store.get_records())


def test_same_outlet_and_title_without_url_are_four_articles(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, inbox: Path
) -> None:
    bodies = STORIES[:4]
    records = [{"title": "Council update", "outlet": "Harbour Post", "body": b} for b in bodies[:2]]
    write(inbox, "records.json", json.dumps(records))
    write(inbox, "a.md", front_matter("Council update", bodies[2]))
    write(inbox, "b.md", front_matter("Council update", bodies[3]))
    report = ingest(settings, embeddings, inbox)
    assert statuses(report) == {"added": 4}, [(i.source, i.status, i.detail) for i in report.items]
    assert stored_bodies(settings, embeddings) == sorted(bodies)
    assert statuses(ingest(settings, embeddings, inbox)) == {"unchanged": 4}


def test_records_with_the_same_fallback_title_are_two_articles(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, inbox: Path
) -> None:
    first = "Officials confirmed the news on Tuesday."
    records = [{"body": f"{first} {STORY}"}, {"body": f"{first} {OTHER}"}]
    write(inbox, "untitled.json", json.dumps(records))
    report = ingest(settings, embeddings, inbox)
    assert statuses(report) == {"added": 2}
    assert {i.title for i in report.items} == {first}


def test_a_repeated_item_is_reported_not_silently_dropped(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, inbox: Path
) -> None:
    url = "https://harbourpost.example/bridge"
    records = [
        {"title": "Bridge", "body": STORY},
        {"title": "Bridge", "body": STORY},
        {"title": "Bridge v1", "url": url, "body": STORY},
        {"title": "Bridge v2", "url": url, "body": OTHER},
    ]
    write(inbox, "repeats.json", json.dumps(records))
    report = ingest(settings, embeddings, inbox)
    by_source = {Path(i.source).name: (i.status, i.detail) for i in report.items}
    assert by_source["repeats.json#0"][0] == "duplicate" and "repeats.json#1" in by_source["repeats.json#0"][1]
    assert by_source["repeats.json#2"][0] == "duplicate" and "repeats.json#3" in by_source["repeats.json#2"][1]
    assert by_source["repeats.json#1"][0] == by_source["repeats.json#3"][0] == "added"
    assert len(report.items) == len(records), "every input has its line"


def test_an_edited_file_without_url_is_an_update(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, inbox: Path
) -> None:
    path = write(inbox, "note.txt", STORY)
    assert statuses(ingest(settings, embeddings, path)) == {"added": 1}
    write(inbox, "note.txt", OTHER)
    assert statuses(ingest(settings, embeddings, path)) == {"updated": 1}
    assert stored_bodies(settings, embeddings) == [OTHER]


# --- per-item isolation end to end (issue 13, item 5) --------------------------------------------------


def test_one_bad_item_never_loses_the_batch(settings: Settings, embeddings: LocalMiniLMEmbeddings, inbox: Path) -> None:
    write(inbox, "a-good.txt", STORIES[0])
    write(inbox, "b-deep.json", "[" * 100_000)
    write(inbox, "c-mixed.jsonl", "[" * 100_000 + "\n" + json.dumps({"title": "Line", "body": STORIES[1]}) + "\n")
    write(inbox, b"d-caf\xe9.txt", STORIES[2])
    write(inbox, "e-utf16.txt", STORIES[3].encode("utf-16"))
    write(inbox, "f-garbage.txt", RANDOM_HIGH)
    write(inbox, "g-surrogate.json", json.dumps([{"title": "S\ud800", "body": STORIES[4]}]))
    report = ingest(settings, embeddings, inbox)
    lines = {Path(i.source).name: i for i in report.items}
    assert statuses(report) == {"added": 5, "error": 3}, [(n, i.status, i.detail) for n, i in lines.items()]
    assert lines["b-deep.json"].status == lines["c-mixed.jsonl#0"].status == lines["f-garbage.txt"].status == "error"
    for result in report.items:
        assert "\n" not in result.source + result.detail
    with app_for(settings, embeddings) as app:
        records = app.store.get_records()
    assert len(records) == 5
    assert any(r.source.endswith("d-caf\\xe9.txt") for r in records.values())


def test_an_unexpected_exception_in_one_item_is_its_error_line(
    settings: Settings,
    embeddings: LocalMiniLMEmbeddings,
    inbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write(inbox, "a.txt", STORIES[0])
    write(inbox, "b.txt", STORIES[1])
    write(inbox, "c.md", front_matter("Third", STORIES[2]))
    real_clean = clean_article
    real_text_article = loaders_module._text_article

    def flaky_clean(raw: RawArticle) -> Article:
        if raw.source.endswith("a.txt"):
            raise RuntimeError("boom\nsecond line")
        return real_clean(raw)

    def flaky_loader(text: str, source: str, *, markdown: bool) -> RawArticle:
        if source.endswith("c.md"):
            raise KeyError("title")
        return real_text_article(text, source, markdown=markdown)

    monkeypatch.setattr("index.pipeline.clean_article", flaky_clean)
    monkeypatch.setattr(loaders_module, "_text_article", flaky_loader)
    caplog.set_level(logging.DEBUG, logger="index")
    report = ingest(settings, embeddings, inbox)
    lines = {Path(i.source).name: i for i in report.items}
    assert lines["b.txt"].status == "added"
    assert lines["a.txt"].status == lines["c.md"].status == "error"
    assert lines["a.txt"].detail == "could not be read (RuntimeError: boom second line)"
    assert "KeyError" in lines["c.md"].detail
    assert sum(1 for r in caplog.records if r.exc_info) == 2, "unexpected errors are logged with their traceback"


def test_clean_module_scrubs_what_storage_cannot_take() -> None:
    raw = RawArticle(body=STORY + " \ud83d", source="x\udcff.txt", title="T\udc00", author="\ud800A")
    article = clean_module.clean_article(raw)
    for text in (article.body, article.source, article.title, article.author or ""):
        text.encode("utf-8")
