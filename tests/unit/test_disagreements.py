"""'Sources disagree' lines: cross-source conflicts, one line per pair of sources, and one article's own titles."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.models import Passage, Source
from bot.verify.disagreements import SourceDisagreements


def source(number: int, text: str, day: int) -> Source:
    published = datetime(2025, 4, day, tzinfo=UTC)
    passage = Passage(f"a{number}:0000", f"a{number}", text, f"Title {number}", "Outlet", None, published, 0, len(text))
    return Source(number, f"a{number}", f"Title {number}", "Outlet", None, published, (passage,))


def test_report_and_denial_disagree_once_per_pair() -> None:
    sources = [
        source(
            1,
            "A meeting between Putin and Zelenskyy is scheduled for mid-April in Geneva. "
            "The meeting between Putin and Zelenskyy has been scheduled in Geneva, a diplomat said.",
            2,
        ),
        source(2, "Moscow and Kyiv denied that a meeting between Putin and Zelenskyy had been scheduled in Geneva.", 3),
    ]
    lines = SourceDisagreements()(sources)
    assert len(lines) == 1
    assert "[1]" in lines[0] and "[2]" in lines[0] and " vs " in lines[0]


def test_agreeing_or_single_sources_say_nothing() -> None:
    same = [
        source(1, "No date has been set for a meeting between Putin and Zelenskyy, the Kremlin said.", 2),
        source(2, "No date has been set for a meeting between Putin and Zelenskyy, Kyiv said.", 3),
    ]
    assert SourceDisagreements()(same) == []
    one = [source(1, "The summit is scheduled for Geneva. The summit was not scheduled, officials said.", 2)]
    assert SourceDisagreements()(one) == []


def test_one_article_giving_a_person_two_titles_is_shown() -> None:
    article = source(
        1,
        "Former Brazilian President Luiz Lula has asked for talks with the union. "
        "Later, President Luiz Lula met the union's leaders in Brasilia.",
        2,
    )
    lines = SourceDisagreements()([article])
    assert len(lines) == 1
    assert lines[0].startswith("Outlet [1] is inconsistent:") and "Former" in lines[0]
