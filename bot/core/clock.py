"""Time: now in UTC, time zones, reading dates sources give, and the one ``--since`` parser.

Every command and option that takes a "since" (``factdesk ask --since``, ``digest --since``,
``claims suggest --since``, Discord's ``/ask since:``) reads it with :func:`parse_since`:
a span before now (``90m``, ``24h``, ``7d``, ``2w``), a calendar day (``2025-04-03``, local
midnight in the configured timezone) or an ISO 8601 timestamp.
"""

from __future__ import annotations

import calendar
import math
import re
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import ConfigError, InvalidInputError

_SPAN = re.compile(r"^\s*(\d{1,5})\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DATETIME_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S")
SINCE_HELP = "a date such as 2025-04-05 or a span such as 24h, 7d or 2w"


def utc_now() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; an unknown one is a configuration error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown timezone {name!r}; use an IANA name such as Europe/London") from exc


# --------------------------------------------------------------------------- dates from sources


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware datetime from whatever a source gives, or None; never guesses a date.

    Accepts datetime/date objects, ISO 8601 and RFC 2822 strings, a few written
    forms ("April 1, 2025"), epoch seconds (or milliseconds) and ``time.struct_time``
    (feedparser's, which is UTC). Naive values are taken as UTC.
    """
    try:
        result = _parse_datetime(value)
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    if result is None:
        return None
    return result if result.tzinfo is not None else result.replace(tzinfo=UTC)


def _parse_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, time.struct_time):
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return _from_epoch(float(text))
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _from_epoch(seconds: float) -> datetime | None:
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    if abs(seconds) > 1e11:  # milliseconds (seconds would be past the year 5000)
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


# --------------------------------------------------------------------------- options people type


def parse_span(text: str, option: str = "--since") -> timedelta:
    """``90m``, ``24h``, ``2d`` or ``1w`` as a positive span; anything else is the user's mistake."""
    match = _SPAN.match(text or "")
    if not match:
        raise InvalidInputError(f"{option} {text!r}: use a number and a unit, e.g. 24h, 90m, 2d or 1w")
    span = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    if span <= timedelta(0):
        raise InvalidInputError(f"{option} {text!r}: the span must be at least one minute")
    return span


def parse_since(text: str | None, now: datetime, timezone: str = "UTC", option: str = "--since") -> datetime | None:
    """The moment ``text`` names, in UTC; None when it is empty.

    ``24h``/``7d``/``2w``/``90m``: that long before ``now``. ``2025-04-05``: local midnight of that
    day in ``timezone``. An ISO 8601 timestamp: itself (without an offset, local time in ``timezone``).
    """
    value = (text or "").strip()
    if not value:
        return None
    if _SPAN.match(value):
        return (now - parse_span(value, option)).astimezone(UTC)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=zone(timezone)).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{option} {value[:40]!r}: use {SINCE_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment.astimezone(UTC)


def parse_day(text: str, option: str = "--date") -> date:
    """A calendar day ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInputError(f"{option} {text!r}: use YYYY-MM-DD, e.g. 2025-06-11") from None


def parse_now(text: str | None) -> datetime | None:
    """An ISO timestamp for ``--now``; a naive one is read as UTC."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"--now {text!r}: use an ISO 8601 timestamp, e.g. 2025-06-12T08:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
