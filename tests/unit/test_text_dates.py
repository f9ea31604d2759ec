"""One reading of written dates for every module (question plans, references, fact and conflict checks)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.text.dates import date_mentions, find_dates, human_date, parse_date, states_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Signed on 2025-04-03 in Paris.", date(2025, 4, 3)),
        ("Published 2025/04/03.", date(2025, 4, 3)),
        ("On April 3, 2025 the talks began.", date(2025, 4, 3)),
        ("On 3 April 2025 the talks began.", date(2025, 4, 3)),
        ("On the 3rd of April, 2025 the talks began.", date(2025, 4, 3)),
        ("By Sept. 9th 2024 it was over.", date(2024, 9, 9)),
    ],
)
def test_full_dates_are_read_in_every_written_form(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_positions_cover_exactly_the_written_date() -> None:
    text = "The vote, due on 7 February 2021, was moved."
    (mention,) = find_dates(text)
    assert text[mention.start : mention.end] == "7 February 2021"
    assert (mention.year, mention.month, mention.day) == (2021, 2, 7)


def test_a_month_and_year_has_no_day_and_no_calendar_date() -> None:
    (mention,) = find_dates("Sales fell in March 2024.")
    assert (mention.year, mention.month, mention.day) == (2024, 3, None)
    assert mention.on() is None
    assert parse_date("Sales fell in March 2024.") is None


def test_a_bare_month_counts_only_after_a_preposition() -> None:
    assert [m.month for m in find_dates("The deal closes in May.")] == [5]
    assert find_dates("They may sign it soon.") == []
    assert find_dates("The march drew thousands.") == []


def test_impossible_and_yearless_dates() -> None:
    assert parse_date("Due 2025-13-40.") is None
    assert find_dates("Due 31 February.")[0].on(2025) is None  # written, but no such day
    assert find_dates("On 5 April the board met.")[0].on(2025) == date(2025, 4, 5)


def test_date_mentions_read_a_yearless_day_in_each_source_year() -> None:
    days = [day for day, _words in date_mentions("Talks resume on 5 April.", [2024, 2025])]
    assert days == [date(2024, 4, 5), date(2025, 4, 5)]


def test_states_date_and_human_date() -> None:
    day = date(2025, 4, 5)
    assert states_date("It opens April 5th.", day)
    assert states_date("It opened 2025-04-05.", day)
    assert not states_date("It opens April 15.", day)
    assert human_date(day) == "5 April 2025"
