"""Digest windows: the half-open time span ``[start, end)`` whose articles a digest covers.

Windows are stored and compared in UTC; a ``--date`` is a calendar day in the
configured timezone, so "today" means the reader's day, not UTC's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from index.errors import ConfigError, InvalidInputError

_SINCE = re.compile(r"^\s*(\d{1,5})\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
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


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}; use an IANA name such as Europe/London") from exc


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_since(text: str) -> timedelta:
    """``24h``, ``90m``, ``2d`` or ``1w`` as a span; anything else is the user's mistake."""
    match = _SINCE.match(text or "")
    if not match:
        raise InvalidInputError(f"--since {text!r}: use a number and a unit, e.g. 24h, 90m, 2d or 1w")
    span = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    if span <= timedelta(0) or span > MAX_SPAN:
        raise InvalidInputError(f"--since {text!r}: the span must be between 1 minute and 31 days")
    return span


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInputError(f"--date {text!r}: use YYYY-MM-DD, e.g. 2025-06-11") from None


def parse_now(text: str | None) -> datetime | None:
    """An ISO timestamp for ``--now``; a naive one is read as UTC."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"--now {text!r}: use an ISO 8601 timestamp, e.g. 2025-06-12T08:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
    """The window the CLI options ask for: ``--date``, ``--since``, or the last 24 hours."""
    zone(timezone)
    if since and day:
        raise InvalidInputError("give either --since or --date, not both")
    if day:
        return day_window(parse_day(day), timezone)
    return since_window(parse_since(since or "24h"), now, timezone)
