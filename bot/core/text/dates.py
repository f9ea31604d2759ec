"""Dates written in text, found in one place: "3 April", "April 3, 2025", "2025-04-03", "in March".

Every module that needs a date from prose (question plans, reference lists, fact checks, conflict
rules) asks :func:`find_dates`, so "3rd of April" is read the same way everywhere, and
:func:`human_date` writes one the same way everywhere.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.core.text.words import content_words

_MONTHS = (
    "January February March April May June July August September October November December".split()  # noqa: SIM905
)
MONTH_NUMBERS: dict[str, int] = {
    name: number
    for number, month in enumerate(_MONTHS, start=1)
    for name in {month.lower(), month[:3].lower(), "sept" if number == 9 else month[:3].lower()}
}
WEEKDAYS = frozenset(day.lower() for day in calendar.day_name)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
# One alternation, most specific first, so a mention is never read twice.
_DATE = re.compile(
    rf"\b(?P<iy>\d{{4}})[-/](?P<im>\d{{2}})[-/](?P<id>\d{{2}})\b"
    rf"|\b(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}}){_ORDINAL}\b(?:,?\s+(?P<y1>\d{{4}})\b)?"
    rf"|\b(?P<d2>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?(?P<m2>{_MONTH})\b\.?(?:,?\s+(?P<y2>\d{{4}})\b)?"
    rf"|\b(?P<m3>{_MONTH})\.?\s+(?P<y3>\d{{4}})\b"
    # A bare month only after a preposition, so the modal "may" is never a date.
    rf"|\b(?:in|by|since|until|before|after|early|late|mid-)\s+(?P<m4>{_MONTH})\b(?!\.?\s+\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date as written, with where it stands; the month is always known, year and day may not be."""

    start: int
    end: int
    text: str
    year: int | None
    month: int
    day: int | None

    def on(self, default_year: int | None = None) -> date | None:
        """The calendar day, taking ``default_year`` when the text gives none; None without a day."""
        year = self.year if self.year is not None else default_year
        if year is None or self.day is None:
            return None
        try:
            return date(year, self.month, self.day)
        except ValueError:
            return None


def find_dates(text: str) -> list[DateMention]:
    """Every date written in ``text``, in order; impossible ones ("31 February" aside) are skipped."""
    found = []
    for match in _DATE.finditer(text):
        mention = _mention(match)
        if mention is not None:
            found.append(mention)
    return found


def _mention(match: re.Match[str]) -> DateMention | None:
    groups = {k: v for k, v in match.groupdict().items() if v}
    day: int | None
    year: int | None
    if "im" in groups:
        month, day, year = int(groups["im"]), int(groups["id"]), int(groups["iy"])
    else:
        name = next(groups[k] for k in ("m1", "m2", "m3", "m4") if k in groups)
        month = MONTH_NUMBERS[name.lower()]
        day_text = groups.get("d1") or groups.get("d2")
        year_text = groups.get("y1") or groups.get("y2") or groups.get("y3")
        day = int(day_text) if day_text else None
        year = int(year_text) if year_text else None
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    return DateMention(match.start(), match.end(), match.group(), year, month, day)


def parse_date(text: str) -> date | None:
    """The first full calendar date (day, month and year) written in ``text``, or None."""
    return next((day for m in find_dates(text) if m.year is not None and (day := m.on()) is not None), None)


def date_mentions(text: str, years: Iterable[int]) -> list[tuple[date, frozenset[str]]]:
    """Calendar days written in ``text``, each with its content words; a day without a year is
    read in each of ``years`` (the sources' publication years)."""
    out: list[tuple[date, frozenset[str]]] = []
    for mention in find_dates(text):
        if mention.day is None:
            continue
        for year in [mention.year] if mention.year is not None else sorted(set(years)):
            day = mention.on(year)
            if day is not None:
                out.append((day, frozenset(content_words(mention.text))))
    return out


def states_date(text: str, day: date) -> bool:
    """Does ``text`` name ``day`` ("5 April", "April 5th", "Apr. 5", "2025-04-05")?"""
    return any(m.on(day.year) == day for m in find_dates(text))


def human_date(day: date) -> str:
    """A date as "5 April 2025", whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
