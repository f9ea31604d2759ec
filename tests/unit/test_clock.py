"""The clock module: one ``--since`` parser for every command, dates from sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.clock import parse_datetime, parse_since, parse_span
from bot.core.errors import InvalidInputError

NOW = datetime(2025, 4, 10, 12, tzinfo=UTC)


def test_since_option() -> None:
    assert parse_since("24h", NOW, "UTC") == datetime(2025, 4, 9, 12, tzinfo=UTC)
    assert parse_since("2025-04-05", NOW, "Europe/London") == datetime(2025, 4, 4, 23, tzinfo=UTC)
    assert parse_since(" ", NOW, "UTC") is None
    assert parse_since(None, NOW, "UTC") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("2w", NOW - timedelta(weeks=2)),
        ("90m", NOW - timedelta(minutes=90)),
        ("2025-04-03", datetime(2025, 4, 3, tzinfo=UTC)),
        ("2025-04-03T08:30:00+02:00", datetime(2025, 4, 3, 6, 30, tzinfo=UTC)),
        ("2025-04-03T08:30:00", datetime(2025, 4, 3, 8, 30, tzinfo=UTC)),
    ],
)
def test_every_form_every_command_accepts(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_naive_timestamps_and_days_are_local_time() -> None:
    assert parse_since("2025-04-03T08:30:00", NOW, "Europe/Kyiv") == datetime(2025, 4, 3, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["last tuesday", "7", "d7", "2025-13-01"])
def test_nonsense_is_one_clear_user_error(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"use a date such as 2025-04-05 or a span such as 24h, 7d or 2w"):
        parse_since(text, NOW)


def test_the_option_is_named_in_the_message() -> None:
    with pytest.raises(InvalidInputError, match=r"^since 'last tuesday': "):
        parse_since("last tuesday", NOW, option="since")
    with pytest.raises(InvalidInputError, match=r"^--until "):
        parse_since("soon", NOW, option="--until")
    with pytest.raises(InvalidInputError, match="at least one minute"):
        parse_span("0h")


def test_parse_datetime_reads_what_sources_give() -> None:
    assert parse_datetime("2025-04-03") == datetime(2025, 4, 3, tzinfo=UTC)
    assert parse_datetime("Thu, 03 Apr 2025 09:10:00 +0000") == datetime(2025, 4, 3, 9, 10, tzinfo=UTC)
    assert parse_datetime("April 3, 2025") == datetime(2025, 4, 3, tzinfo=UTC)
    assert parse_datetime(1743671400) == datetime(2025, 4, 3, 9, 10, tzinfo=UTC)
    assert parse_datetime("next week") is None and parse_datetime(None) is None
