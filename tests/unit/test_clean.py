"""clean_article: the seed article, boilerplate, headlines, references, dates and HTML extraction."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.core.errors import SourceError
from index.clean import clean_article, normalize_text, parse_datetime, parse_references
from index.models import RawArticle, article_id
from tests.conftest import SEED_ARTICLE

SEED = SEED_ARTICLE
SEED_TITLE = (
    "U.S. President Trump rules out deployment of American troops in Ukraine as a component of security guarantees"
)
REPEATED_HEADLINE = "United States military involvement in Ukraine is rejected by Trump as part of security agreements"

PARAGRAPHS = [
    "The city council approved the new budget on Monday after a debate that lasted more than six hours.",
    "Opposition members said the plan cut too deeply into library funding, while the mayor defended it.",
    "The budget takes effect in January and will be reviewed again at the end of the first quarter.",
]


def body(*lines: str) -> str:
    return "\n\n".join(lines)


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


# --- the seed article -----------------------------------------------------------------


def test_seed_title_body_and_references(seed_text: str) -> None:
    article = clean_article(RawArticle(body=seed_text, source="seed/article.txt"))

    assert article.title == SEED_TITLE
    assert article.body.startswith("Trump has pledged to safeguard post-conflict Ukraine")
    lines = article.body.split("\n")
    for boilerplate in ("Skip to content", "Read also", "Read also:", "Latest"):
        assert boilerplate not in lines
    assert SEED_TITLE not in article.body
    assert REPEATED_HEADLINE not in article.body
    assert "Soho House is going private in a $2.7 billion deal." in article.body
    assert "relocate Gazans while intensifying its military push" in article.body
    assert "no official arrangement or location set [1][3]." in article.body  # inline markers stay
    assert "[5] The Washington Post" not in article.body
    assert "\n\n\n" not in article.body

    refs = article.references
    assert [r.number for r in refs] == [1, 2, 3, 4, 5]
    assert [r.outlet for r in refs] == [
        "BBC News",
        "Reuters",
        "The Guardian",
        "Pew Research Center",
        "The Washington Post",
    ]
    assert refs[0].title == "Putin-Zelenskyy meeting: What we know so far"
    assert refs[0].published == date(2025, 4, 1)
    assert refs[4].published == date(2025, 4, 5)
    assert refs[4].raw.startswith("[5] The Washington Post,")

    # Skip to content, title, 2x repeated headline, title again, reference line, Read also:, Latest
    assert article.removed_lines == 8
    assert article.outlet == "unknown"
    assert article.published_at is None
    assert article.id == article_id(None, None, outlet="unknown", title=SEED_TITLE, body=article.body)


def test_seed_with_known_title_and_outlet(seed_text: str) -> None:
    raw = RawArticle(
        body=seed_text,
        source="s",
        title="Trump rules out US troops in Ukraine",
        outlet="Example Wire",
        url="https://www.example.com/ukraine",
    )
    article = clean_article(raw)
    assert article.title == "Trump rules out US troops in Ukraine"
    # With a title known, the first headline line is not the title, but it still is not body text.
    assert REPEATED_HEADLINE not in article.body
    assert article.outlet == "Example Wire"
    assert article.id == article_id("https://www.example.com/ukraine", None, outlet="x", title="y", body="z")


# --- boilerplate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Skip to content",
        "SKIP TO MAIN CONTENT",
        "Read also:",
        "Read also: Council unveils plan for new harbour bridge",
        "Latest",
        "Advertisement",
        "ADVERTISEMENT Article continues below this ad",
        "Share this article",
        "Sign up for our newsletter",
        "Subscribe",
        "Related",
        "Most read",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "© 2024 Coastal Gazette. All rights reserved.",
    ],
)
def test_standalone_boilerplate_lines_are_removed(line: str) -> None:
    article = clean_article(
        RawArticle(body=body(PARAGRAPHS[0], line, PARAGRAPHS[1]), source="t", title="Budget passes")
    )
    assert line not in article.body
    assert article.body == body(PARAGRAPHS[0], PARAGRAPHS[1])
    assert article.removed_lines == 1


def test_boilerplate_words_inside_sentences_are_kept() -> None:
    sentences = [
        "Readers were told to skip to content they trust and to read also the fine print of the deal.",
        "The latest figures show that advertisement spending rose, and many chose to subscribe.",
        "Related talks will continue in Geneva, officials said on Tuesday.",
        "Latest polls put the two candidates level.",
    ]
    article = clean_article(RawArticle(body=body(*sentences), source="t", title="Budget passes"))
    assert article.body == body(*sentences)
    assert article.removed_lines == 0


def test_trailing_related_list_is_dropped() -> None:
    text = body(
        *PARAGRAPHS,
        "Related",
        "Mayor announces new cycling lanes",
        "Library opening hours to change in spring",
    )
    article = clean_article(RawArticle(body=text, source="t", title="Budget passes"))
    assert article.body == body(*PARAGRAPHS)
    assert article.removed_lines == 3


def test_empty_after_cleaning_is_an_error() -> None:
    with pytest.raises(SourceError, match="empty article"):
        clean_article(RawArticle(body="Skip to content\n\nAdvertisement\n\nSubscribe\n", source="x.txt"))


# --- headlines ------------------------------------------------------------------------------


def test_lines_equal_or_close_to_the_title_are_removed() -> None:
    text = body(
        "Council passes budget after six-hour debate",
        "Council passes budget after six-hour debate | City Times",
        PARAGRAPHS[0],
        "Council passes budget after a six-hour debate",
        PARAGRAPHS[1],
    )
    raw = RawArticle(body=text, source="t", title="Council passes budget after six-hour debate")
    article = clean_article(raw)
    assert article.body == body(PARAGRAPHS[0], PARAGRAPHS[1])
    assert article.removed_lines == 3


def test_first_headline_line_becomes_title_when_none_known() -> None:
    text = body("Council passes budget", *PARAGRAPHS)
    article = clean_article(RawArticle(body=text, source="t"))
    assert article.title == "Council passes budget"
    assert article.body == body(*PARAGRAPHS)


def test_without_any_headline_title_falls_back_to_first_sentence() -> None:
    article = clean_article(RawArticle(body=body(*PARAGRAPHS), source="t"))
    assert article.title == PARAGRAPHS[0]
    assert article.body == body(*PARAGRAPHS)


def test_repeated_short_lines_deep_in_the_body_are_kept() -> None:
    entries = []
    for film in ("The Long Night", "Harbour Lights", "Winter Garden"):
        entries += [
            f"{film} is a drama about a family that runs a small hotel on the coast.",
            "Available on: Netflix",
        ]
    text = body(*PARAGRAPHS, *PARAGRAPHS, *entries)
    article = clean_article(RawArticle(body=text, source="t", title="Best dramas this month"))
    assert article.body.count("Available on: Netflix") == 3


# --- references --------------------------------------------------------------------------------


def test_reference_list_one_per_line_with_heading_curly_quotes_and_missing_dates() -> None:
    text = body(
        *PARAGRAPHS,
        "Sources",
        "[1] BBC News, “Budget approved after long debate,” 2024-11-02.\n"
        '[2] Reuters, "Council split on library cuts", 3 November 2024.\n'
        "[3] City Times, “What the budget means for you.”",
    )
    article = clean_article(RawArticle(body=text, source="t", title="Budget passes"))
    assert article.body == body(*PARAGRAPHS)
    refs = article.references
    assert [(r.number, r.outlet, r.title, r.published) for r in refs] == [
        (1, "BBC News", "Budget approved after long debate", date(2024, 11, 2)),
        (2, "Reuters", "Council split on library cuts", date(2024, 11, 3)),
        (3, "City Times", "What the budget means for you", None),
    ]
    assert article.removed_lines == 4


def test_reference_entries_in_separate_paragraphs() -> None:
    text = body(*PARAGRAPHS, '[1] BBC News, "One," April 1, 2025.', '[2] Reuters, "Two," 2025-04-02.')
    refs = clean_article(RawArticle(body=text, source="t", title="x")).references
    assert [(r.outlet, r.title, r.published) for r in refs] == [
        ("BBC News", "One", date(2025, 4, 1)),
        ("Reuters", "Two", date(2025, 4, 2)),
    ]


def test_parse_references_without_quotes() -> None:
    refs = parse_references("[1] Reuters, Council approves budget, 2024-11-02. [2] Local notes")
    assert [(r.number, r.outlet, r.title, r.published) for r in refs] == [
        (1, "Reuters", "Council approves budget", date(2024, 11, 2)),
        (2, "", "Local notes", None),
    ]


def test_reference_like_paragraph_followed_by_text_is_not_cut() -> None:
    text = body(PARAGRAPHS[0], '[1] BBC News, "One," 2025-04-01.', PARAGRAPHS[1])
    article = clean_article(RawArticle(body=text, source="t", title="x"))
    assert article.references == []
    assert '[1] BBC News, "One," 2025-04-01.' in article.body


def test_invalid_reference_date_is_none() -> None:
    (ref,) = parse_references('[1] BBC News, "One," 2025-13-45.')
    assert ref.published is None


# --- dates -------------------------------------------------------------------------------------------


def test_naive_published_at_is_taken_as_utc() -> None:
    raw = RawArticle(body=body(*PARAGRAPHS), source="t", title="x", published_at=datetime(2024, 1, 2, 3, 4))
    assert clean_article(raw).published_at == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)


def test_aware_published_at_keeps_its_offset_and_unknown_stays_none() -> None:
    cet = timezone(timedelta(hours=1))
    raw = RawArticle(body=body(*PARAGRAPHS), source="t", title="x", published_at=datetime(2024, 1, 2, tzinfo=cet))
    published = clean_article(raw).published_at
    assert published is not None and published.utcoffset() == timedelta(hours=1)
    assert clean_article(RawArticle(body=body(*PARAGRAPHS), source="t", title="x")).published_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-11-27T10:00:00+00:00", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("2023-11-27T10:00:00Z", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("2023-11-27", datetime(2023, 11, 27, tzinfo=UTC)),
        ("2023-11-27 10:00:00", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("Mon, 27 Nov 2023 10:00:00 +0000", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("Mon, 27 Nov 2023 11:00:00 +0100", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("Mon, 27 Nov 2023 10:00:00 GMT", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("November 27, 2023", datetime(2023, 11, 27, tzinfo=UTC)),
        (1701079200, datetime(2023, 11, 27, 10, tzinfo=UTC)),
        (1701079200.0, datetime(2023, 11, 27, 10, tzinfo=UTC)),
        (1701079200000, datetime(2023, 11, 27, 10, tzinfo=UTC)),
        ("1701079200", datetime(2023, 11, 27, 10, tzinfo=UTC)),
        (time.gmtime(1701079200), datetime(2023, 11, 27, 10, tzinfo=UTC)),
        (date(2023, 11, 27), datetime(2023, 11, 27, tzinfo=UTC)),
        (datetime(2023, 11, 27, 10), datetime(2023, 11, 27, 10, tzinfo=UTC)),
    ],
)
def test_parse_datetime_accepts_common_forms(value: object, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is not None


@pytest.mark.parametrize("value", [None, "", "   ", "yesterday-ish", "2023-02-30", True, float("nan"), [], {}])
def test_parse_datetime_returns_none_for_garbage(value: object) -> None:
    assert parse_datetime(value) is None


# --- HTML -----------------------------------------------------------------------------------------------

ARTICLE_PARAGRAPHS = [
    "The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs that cost "
    "the city council more than twelve million euros, officials said.",
    "Engineers replaced corroded steel cables and resurfaced the deck, which had been closed since a "
    "routine inspection found cracks in two of the main supports last summer.",
    "Local businesses on both sides of the water welcomed the reopening, saying the long detour had cut "
    "the number of customers visiting the old town by almost a third.",
    "The council said a new monitoring system with sensors along the span would warn engineers of any "
    "further damage long before it became dangerous for drivers.",
]


def news_page(*, with_date: bool = True) -> str:
    date_meta = '<meta property="article:published_time" content="2024-03-05T09:30:00+01:00">' if with_date else ""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour bridge reopens after repairs | The Coastal Gazette</title>
<meta property="og:site_name" content="The Coastal Gazette">
<meta name="author" content="Jane Doe">
{date_meta}
</head><body>
<header><a href="#main">Skip to content</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav></header>
<main id="main"><article>
<h1>Harbour bridge reopens after repairs</h1>
<p class="byline">By Jane Doe</p>
{paragraphs}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Storm warning for the weekend</a></li>
<li><a href="/b">New ferry timetable published</a></li></ul></aside></main>
<footer><p>Sign up for our newsletter</p><a href="/privacy">Privacy policy</a>
<p>© 2024 The Coastal Gazette. All rights reserved.</p></footer>
</body></html>"""


def test_html_article_extraction() -> None:
    raw = RawArticle(body=news_page(), source="bridge.html", is_html=True)
    article = clean_article(raw)
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.outlet == "The Coastal Gazette"
    assert article.author == "Jane Doe"
    assert article.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert article.published_at is not None and article.published_at.tzinfo is not None
    for paragraph in ARTICLE_PARAGRAPHS:
        assert paragraph in article.body
    assert article.body.startswith("The harbour bridge reopened")
    assert "\n\n" in article.body  # paragraphs kept apart
    for chrome in (
        "Weather",
        "Sign up for our newsletter",
        "All rights reserved",
        "Privacy policy",
        "Storm warning",
    ):
        assert chrome not in article.body


def test_html_without_date_metadata_gets_no_invented_date() -> None:
    article = clean_article(RawArticle(body=news_page(with_date=False), source="p.html", is_html=True))
    assert article.published_at is None  # the "© 2024" footer must not become 2024-01-01


def test_html_source_metadata_wins_over_page_metadata() -> None:
    raw = RawArticle(
        body=news_page(),
        source="https://news.example.org/bridge",
        title="Bridge open again",
        outlet="Example Feed",
        url="https://news.example.org/bridge",
        is_html=True,
    )
    article = clean_article(raw)
    assert (article.title, article.outlet, article.url) == (
        "Bridge open again",
        "Example Feed",
        "https://news.example.org/bridge",
    )
    assert not article.body.startswith("Harbour bridge reopens after repairs")


def test_html_page_without_article_text_is_an_error() -> None:
    page = """<!DOCTYPE html><html><head><title>Loading</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div id="app">Please enable JavaScript to continue.</div>
<footer>© 2024 Example</footer></body></html>"""
    with pytest.raises(SourceError, match="no article text found") as info:
        clean_article(RawArticle(body=page, source="https://example.com/app", is_html=True))
    assert info.value.source == "https://example.com/app"


def test_outlet_falls_back_to_url_host_then_unknown() -> None:
    raw = RawArticle(body=body(*PARAGRAPHS), source="t", title="x", url="https://www.Example.org/story")
    assert clean_article(raw).outlet == "example.org"
    assert clean_article(RawArticle(body=body(*PARAGRAPHS), source="t", title="x")).outlet == "unknown"


def test_normalize_text_unicode_and_whitespace() -> None:
    text = "Cafe\u0301\u00a0 au\tlait\u200b\r\n\r\n\r\n  second  line  \r\n"
    assert normalize_text(text) == "Café au lait\n\nsecond line"


def test_an_untitled_article_is_named_by_its_first_sentence_abbreviations_included() -> None:
    body = "Dr. Ines Moll met the U.S. envoy in Kell on Monday. She left on Tuesday.\n\nMore text follows here."
    article = clean_article(RawArticle(body=body, source="notes"))
    assert article.title == "Dr. Ines Moll met the U.S. envoy in Kell on Monday."
