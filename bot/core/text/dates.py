"""Dates written in text: "3 April", "April 3, 2025", and writing one the same way everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from bot.core.text.words import content_words

_MONTHS = (
    "January February March April May June July August September October November December".split()  # noqa: SIM905
)
_MONTH_NAMES = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
DATE_MENTION = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH_NAMES})\.?(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<m2>{_MONTH_NAMES})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?)\b",
    re.IGNORECASE,
)
MONTH_NUMBERS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}  # noqa: SIM905


def date_mentions(text: str, years: Iterable[int]) -> list[tuple[date, frozenset[str]]]:
    """Calendar dates written in ``text`` ("3 April", "April 3, 2025") with their content words."""
    out: list[tuple[date, frozenset[str]]] = []
    for match in DATE_MENTION.finditer(text):
        day = int(match.group("d1") or match.group("d2"))
        month = MONTH_NUMBERS[(match.group("m1") or match.group("m2")).lower()[:3]]
        year_text = match.group("y1") or match.group("y2")
        for year in [int(year_text)] if year_text else sorted(set(years)):
            try:
                out.append((date(year, month, day), frozenset(content_words(match.group()))))
            except ValueError:
                continue
    return out


def states_date(text: str, day: date) -> bool:
    """Does ``text`` name ``day`` ("5 April", "April 5th", "Apr. 5", "2025-04-05")?"""
    month = day.strftime("%B")
    name = rf"(?:{month}|{month[:3]}\.?)"
    number = rf"0?{day.day}(?:st|nd|rd|th)?"
    pattern = rf"\b(?:{number}\s+{name}|{name}\s+{number}\b|{day.isoformat()})"
    return re.search(pattern, text, re.IGNORECASE) is not None


def human_date(day: date) -> str:
    """A date as "5 April 2025", whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
