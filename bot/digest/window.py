"""Digest windows: the half-open time span ``[start, end)`` whose articles a digest covers.

Windows are stored and compared in UTC; a ``--date`` is a calendar day in the
configured timezone, so "today" means the reader's day, not UTC's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import parse_day, parse_since, utc_now, zone
from bot.core.errors import InvalidInputError

MAX_SPAN = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class Window:
    """Articles published at or after ``start`` and before ``end`` (both timezone-aware, UTC)."""

    start: datetime
    end: datetime
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInputError("digest window bounds must be timezone-aware")
        if self.end <= self.start:
            raise InvalidInputError("digest window must end after it starts")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))

    @property
    def key(self) -> str:
        """Identity used by the history: the same span is the same digest, whatever the zone label."""
        return f"{self.start.isoformat()}/{self.end.isoformat()}"

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def local_day(self) -> date | None:
        """The calendar day this window is, if it is exactly one local day."""
        local_start = self.start.astimezone(self.zone)
        if local_start.timetz().replace(tzinfo=None) != time(0):
            return None
        day = local_start.date()
        return day if day_window(day, self.timezone) == self else None

    def label(self) -> str:
        """``12 June 2025`` for a day, else ``2025-06-12 08:00 – 2025-06-13 08:00 UTC`` (local zone)."""
        day = self.local_day()
        if day is not None:
            return f"{day.day} {day.strftime('%B %Y')}"
        start = self.start.astimezone(self.zone)
        end = self.end.astimezone(self.zone)
        return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} {self.timezone}"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Window:
        return cls(
            datetime.fromisoformat(data["start"]),
            datetime.fromisoformat(data["end"]),
            data.get("timezone", "UTC"),
        )


def day_window(day: date, timezone: str = "UTC") -> Window:
    """Local midnight to the next local midnight (23 or 25 hours on DST change days)."""
    tz = zone(timezone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return Window(start, end, timezone)


def since_window(span: timedelta, now: datetime | None = None, timezone: str = "UTC") -> Window:
    """The ``span`` before ``now`` (seconds dropped, so reruns within a second agree)."""
    end = (now or utc_now()).replace(microsecond=0)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return Window(end - span, end, timezone)


def resolve_window(
    since: str | None = None,
    day: str | None = None,
    now: datetime | None = None,
    timezone: str = "UTC",
) -> Window:
    """The window the options ask for: ``--date``, ``--since`` (read by :func:`bot.core.clock.parse_since`:
    ``24h``, ``7d``, ``2025-04-03``, an ISO timestamp), or the last 24 hours; at most 31 days.
    """
    zone(timezone)
    if since and day:
        raise InvalidInputError("give either --since or --date, not both")
    if day:
        return day_window(parse_day(day), timezone)
    end = (now or utc_now()).replace(microsecond=0)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    text = since or "24h"
    start = parse_since(text, end, timezone)
    assert start is not None  # text is never empty here
    if not timedelta(0) < end - start <= MAX_SPAN:
        raise InvalidInputError(f"--since {text!r}: the window must be between 1 minute and 31 days before now")
    return Window(start, end, timezone)
