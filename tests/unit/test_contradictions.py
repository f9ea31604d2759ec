"""Rule-based contradiction detector: one crafted case per rule, controls, and the seed article."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.core.text.sentences import sentences_of
from bot.verify.contradictions import (
    ContradictionKind,
    Statement,
    detect_contradictions,
    statements_from_text,
)
from tests.conftest import SEED_ARTICLE

SEED = SEED_ARTICLE


def kinds(statements: list[Statement]) -> list[ContradictionKind]:
    return [c.kind for c in detect_contradictions(statements)]


# --- negation -----------------------------------------------------------------------------


def test_scheduled_vs_no_arrangement_set() -> None:
    a = Statement("The Putin-Zelenskyy meeting is scheduled for next week in Geneva [1].", 1)
    b = Statement(
        "The potential meeting between Russian President Vladimir Putin and Ukrainian President "
        "Volodymyr Zelenskyy remains uncertain, with no official arrangement or location set [2].",
        2,
    )
    (c,) = detect_contradictions([a, b])
    assert c.kind is ContradictionKind.NEGATION
    assert (c.a, c.b) == (a, b)  # a asserts, b negates
    assert "[1]" in c.explanation and "[2]" in c.explanation


@pytest.mark.parametrize(
    ("positive", "negative"),
    [
        (
            "Officials confirmed the ceasefire deal was signed in Cairo.",
            "Officials denied the ceasefire deal was signed in Cairo.",
        ),
        (
            "The Geneva summit between Putin and Zelenskyy is scheduled.",
            "The Geneva summit between Putin and Zelenskyy is not scheduled.",
        ),
        ("Israel agreed to the 60-day truce with Hamas.", "Israel has not agreed to the truce with Hamas."),
    ],
)
def test_assertion_and_its_negation(positive: str, negative: str) -> None:
    assert kinds([Statement(positive, 1), Statement(negative, 2)]) == [ContradictionKind.NEGATION]


def test_negations_on_different_subjects_are_not_contradictions() -> None:
    statements = [
        Statement("Putin has not recognized Zelenskyy as a legitimate leader.", 1),
        Statement("Zelenskyy addressed the European Parliament in Brussels on security guarantees.", 2),
        Statement("No meaningful breakthrough towards peace has occurred.", 3),
        Statement("Russia recently intensified military actions in Ukraine.", 4),
    ]
    assert detect_contradictions(statements) == []


# --- numbers ---------------------------------------------------------------------------------


def test_different_counts_of_the_same_thing() -> None:
    a = Statement("Israel demands that Hamas release all 50 hostages.", 1)
    b = Statement("Hamas is still holding 48 hostages, Israel says.", 2)
    (c,) = detect_contradictions([a, b])
    assert c.kind is ContradictionKind.NUMBER
    assert "50 hostages" in c.explanation and "48 hostages" in c.explanation


def test_different_amounts_of_money() -> None:
    a = Statement("Soho House is going private in a $2.7 billion deal.", 1)
    b = Statement("Soho House agreed to a $3 billion take-private deal.", 2)
    (c,) = detect_contradictions([a, b])
    assert c.kind is ContradictionKind.NUMBER
    assert "$2.7 billion" in c.explanation and "$3 billion" in c.explanation


def test_approximate_and_equal_numbers_agree() -> None:
    base = Statement("Soho House is going private in a $2.7 billion deal.", 1)
    assert (
        detect_contradictions([base, Statement("Soho House is going private in a deal worth about $3 billion.", 2)])
        == []
    )
    assert (
        detect_contradictions([base, Statement("Soho House agreed to a $2,700 million deal to go private.", 2)]) == []
    )
    # Different units, or different subjects, are not compared.
    assert detect_contradictions([base, Statement("Soho House shares rose 12% after the deal.", 2)]) == []
    assert detect_contradictions([base, Statement("Nike is going private in a $3 billion deal.", 2)]) == []


# --- dates -----------------------------------------------------------------------------------


def test_same_event_on_different_dates() -> None:
    a = Statement("Putin and Zelenskyy will meet in Geneva on May 5, 2025.", 1)
    b = Statement("Putin and Zelenskyy will meet in Geneva on 12 May 2025.", 2)
    (c,) = detect_contradictions([a, b])
    assert c.kind is ContradictionKind.DATE
    assert "May 5, 2025" in c.explanation and "12 May 2025" in c.explanation


def test_compatible_dates_do_not_conflict() -> None:
    a = Statement("Putin and Zelenskyy will meet in Geneva on May 5.", 1, published=date(2025, 4, 1))
    b = Statement("Putin and Zelenskyy will meet in Geneva in May.", 2)
    c = Statement("Putin and Zelenskyy will meet in Geneva on 2025-05-05.", 3)
    assert detect_contradictions([a, b, c]) == []


# --- roles -----------------------------------------------------------------------------------


def test_president_vs_former_president() -> None:
    a = Statement("U.S. President Trump rules out deployment of American troops in Ukraine.", 1)
    b = Statement("Former US President Donald Trump has expressed interest in a joint meeting.", 2)
    (c,) = detect_contradictions([a, b])
    assert c.kind is ContradictionKind.ROLE
    assert "current vs former" in c.explanation and "Donald Trump" in c.explanation


def test_consistent_roles_do_not_conflict() -> None:
    statements = [
        Statement("U.S. President Trump rules out troops.", 1),
        Statement("US President Donald Trump threatened tariffs.", 2),
        Statement("President Donald Trump met Ukrainian President Volodymyr Zelenskyy.", 3),
        Statement("Russian President Vladimir Putin did not comment.", 4),
        Statement("Former President Barack Obama spoke in Chicago.", 5),
        Statement("Melania Trump visited a school.", 6),
    ]
    assert detect_contradictions(statements) == []


def test_other_role_conflicts() -> None:
    a = Statement("Russian Foreign Minister Sergei Lavrov arrived in Ankara.", 1)
    b = Statement("Russian Defence Minister Sergei Lavrov inspected troops.", 2)
    c = Statement("Ukrainian President Vladimir Putin spoke.", 3)
    d = Statement("Russian President Putin spoke.", 4)
    found = detect_contradictions([a, b, c, d])
    assert [x.kind for x in found] == [ContradictionKind.ROLE, ContradictionKind.ROLE]
    assert "different titles" in found[0].explanation
    assert "different countries" in found[1].explanation


# --- citation dates ----------------------------------------------------------------------------


def test_citation_older_than_the_event_it_reports() -> None:
    s = Statement("Putin and Zelenskyy met in Geneva on April 10, 2025 [1].", 1, cited_dates=[date(2025, 4, 1)])
    (c,) = detect_contradictions([s])
    assert c.kind is ContradictionKind.CITATION_DATE
    assert c.b is None and "2025-04-01" in c.explanation


def test_article_published_before_the_date_it_reports_as_past() -> None:
    s = Statement("The ceasefire took effect on 12 May 2025.", 1, published=date(2025, 4, 3))
    (c,) = detect_contradictions([s])
    assert c.kind is ContradictionKind.CITATION_DATE and "published 2025-04-03" in c.explanation


def test_future_events_and_recent_citations_are_fine() -> None:
    statements = [
        Statement(
            "Putin and Zelenskyy will meet in Geneva on April 10, 2025 [1].",
            1,
            cited_dates=[date(2025, 4, 1)],
        ),
        Statement("The summit is scheduled for May 12.", 2, published=date(2025, 4, 3)),
        Statement("Putin and Zelenskyy met on April 10 [3].", 3, cited_dates=[date(2025, 4, 11)]),
    ]
    assert detect_contradictions(statements) == []


# --- helpers and the seed article -----------------------------------------------------------------


def test_sentences_of_keeps_abbreviations_and_headlines() -> None:
    text = "U.S. President Trump spoke.\nHeadline without a full stop\nDr. Smith agreed. Then he left [1]."
    assert sentences_of(text) == [
        "U.S. President Trump spoke.",
        "Headline without a full stop",
        "Dr. Smith agreed.",
        "Then he left [1].",
    ]


def test_statements_from_text_maps_citations_to_dates() -> None:
    refs = {1: date(2025, 4, 1), 3: date(2025, 4, 3)}
    (s1, s2) = statements_from_text("No date is set [1][3]. Talks go on [2].", 7, date(2025, 4, 5), refs)
    assert s1.cited_dates == (date(2025, 4, 1), date(2025, 4, 3)) and s1.source_number == 7
    assert s2.cited_dates == () and s2.published == date(2025, 4, 5)


def seed_statements() -> list[Statement]:
    text = SEED.read_text(encoding="utf-8")
    body, marker, references = text.partition("[1] BBC News")
    ref_dates = {
        int(n): date.fromisoformat(d)
        for n, d in re.findall(r"\[(\d+)\][^\[]*?(\d{4}-\d{2}-\d{2})", marker + references)
    }
    assert len(ref_dates) == 5
    return statements_from_text(body, 1, None, ref_dates)


@pytest.mark.skipif(not SEED.exists(), reason="shared/seed/article.txt is not beside the repo")
def test_seed_article_trump_role_conflict() -> None:
    found = detect_contradictions(seed_statements())
    roles = [c for c in found if c.kind is ContradictionKind.ROLE]
    assert len(roles) == 1
    (role,) = roles
    assert role.a.text.startswith("U.S. President Trump rules out")
    assert role.b is not None and role.b.text.startswith("Former US President Donald Trump")
    assert "current vs former" in role.explanation
    # Nothing else in the article trips a rule.
    assert found == roles
