"""Reading a question: which outlets and times it names, whether it asks for a story's status,
and how it splits into one clause per outlet for multi-part questions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from bot.answer.extractive import is_status_question
from bot.core.clock import parse_datetime
from bot.core.text.dates import find_dates

_RELATIVE = [
    (re.compile(r"\btoday\b", re.I), 1),
    (re.compile(r"\byesterday\b", re.I), 2),
    (re.compile(r"\b(this|past|last) week\b", re.I), 7),
    (re.compile(r"\b(last|past) (24|twenty-four) hours\b", re.I), 1),
    (re.compile(r"\b(this|past|last) month\b", re.I), 31),
]
_PAST_N_DAYS = re.compile(r"\b(?:last|past) (\d{1,3}) days\b", re.I)


@dataclass(frozen=True, slots=True)
class Clause:
    """An outlet the question names, and the date mentioned next to it (if any).

    ``day`` is a publication day ("the TechCrunch report on October 7"); ``after`` and
    ``before`` bound it instead ("reported by Sporting News after October 4").
    """

    outlet: str | None
    day: date | None = None
    after: date | None = None
    before: date | None = None
    text: str = ""  # the question from this outlet's mention up to the next outlet's


@dataclass(slots=True)
class QueryPlan:
    question: str
    outlets: list[str] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    status: bool = False
    since_from_text: bool = False  # "last week" in the question, not an explicit --since
    widened: bool = False  # the question's time words matched no article, so all dates were searched

    def describe(self) -> str:
        """What was searched, for refusals and --json."""
        parts = []
        if self.widened:
            parts.append("no article in the time the question names, so all dates")
        if self.outlets:
            parts.append("outlets: " + ", ".join(self.outlets))
        if self.since or self.until:
            start = self.since.date().isoformat() if self.since else "…"
            end = self.until.date().isoformat() if self.until else "now"
            parts.append(f"published {start} to {end}")
        return "; ".join(parts) or "all indexed articles"


def outlet_aliases(outlet: str) -> set[str]:
    """Names a question may use for an outlet: "The Roar | Sports Writers Blog" → "the roar", "roar"."""
    name = outlet.strip().lower()
    aliases = {name}
    for sep in (" | ", " - ", " – ", ": "):
        if sep in name:
            aliases.add(name.split(sep)[0].strip())
    for alias in list(aliases):
        if alias.startswith("the ") and len(alias) > 8:
            aliases.add(alias[4:])
        if alias.endswith(".com"):
            aliases.add(alias[:-4])
    return {a for a in aliases if len(a) >= 3}


class OutletMatcher:
    """Finds outlet names in text, longest alias first, with word boundaries and a capital letter."""

    def __init__(self, outlets: Iterable[str]) -> None:
        by_alias: dict[str, str] = {}
        for outlet in sorted(set(outlets)):
            for alias in outlet_aliases(outlet):
                by_alias.setdefault(alias, outlet)
        self._by_alias = by_alias
        ordered = sorted(by_alias, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in ordered) + r")(?![\w])", re.IGNORECASE)
            if ordered
            else None
        )

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, canonical outlet) for each mention, in order."""
        if self._pattern is None:
            return []
        # A name written all in lower case is a phrase, not the outlet: "at the age of 16",
        # "a fortune", "an independent review".
        return [
            (m.start(), m.end(), self._by_alias[m.group(1).lower()])
            for m in self._pattern.finditer(text)
            if m.group(1) != m.group(1).lower()
        ]


def find_days(text: str) -> list[tuple[int, date]]:
    """Explicit calendar dates (day, month and year) in the text with their positions."""
    return [(m.start, day) for m in find_dates(text) if m.year is not None and (day := m.on()) is not None]


def _parse_day_words(text: str) -> date | None:
    value = parse_datetime(text)
    return value.date() if value else None


def plan_query(
    question: str,
    outlets: Iterable[str] | OutletMatcher,
    now: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QueryPlan:
    """Turn a question into a retrieval plan; explicit ``since``/``until`` win over the text."""
    now = now or datetime.now(UTC)
    matcher = outlets if isinstance(outlets, OutletMatcher) else OutletMatcher(outlets)
    plan = QueryPlan(question=question, status=is_status_question(question), since=since, until=until)
    mentions = matcher.find(question)
    # Outlet names are not time words: "Business Today" or "USA Today" must not mean today.
    timeless = question
    for start, end, _ in reversed(mentions):
        timeless = timeless[:start] + " " * (end - start) + timeless[end:]
    if plan.since is None:
        for pattern, days in _RELATIVE:
            if pattern.search(timeless):
                plan.since = now - timedelta(days=days)
                break
        match = _PAST_N_DAYS.search(timeless)
        if plan.since is None and match:
            plan.since = now - timedelta(days=int(match.group(1)))
        since_match = re.search(r"\bsince\s+([^,?.;]+)", timeless, re.I)
        if plan.since is None and since_match:
            # "since April 3" (this year unless it says otherwise); the date must follow "since".
            day = find_days(since_match.group(1) + " " + str(now.year))
            if day and day[0][0] == 0:
                plan.since = datetime.combine(day[0][1], datetime.min.time(), tzinfo=UTC)
        plan.since_from_text = plan.since is not None
    dated = find_days(question)
    plan.days = [d for _, d in dated]
    seen: list[str] = []
    for _, _, outlet in mentions:
        if outlet not in seen:
            seen.append(outlet)
    plan.outlets = seen
    if len(mentions) >= 1:
        # A date belongs to the outlet mentioned before it ("the TechCrunch report published on
        # October 7"), up to the next outlet's mention; failing that, to the outlet it precedes
        # ("On October 7, TechCrunch reported ...").
        starts = [m[0] for m in mentions] + [len(question)]
        for i, (start, _, outlet) in enumerate(mentions):
            after_mention = [(pos, d) for pos, d in dated if start <= pos < starts[i + 1]]
            # Dates between two mentions belong to the earlier one, so only the first outlet
            # can take a date written before it.
            before_mention = [(pos, d) for pos, d in dated if pos < start] if i == 0 else []
            clause = _clause(outlet, question, after_mention or before_mention[-1:])
            plan.clauses.append(replace(clause, text=question[start : starts[i + 1]]))
    return plan


_BOUND_WORD = re.compile(r"\b(after|since|following|before|prior to|until|by)\s+(?:the\s+)?$", re.IGNORECASE)


def _clause(outlet: str, question: str, days: list[tuple[int, date]]) -> Clause:
    """The outlet's clause: an exact day, or after/before bounds when the date is one."""
    day: date | None = None
    after: date | None = None
    before: date | None = None
    for pos, value in days:
        bound = _BOUND_WORD.search(question[max(0, pos - 16) : pos])
        word = bound.group(1).lower() if bound else ""
        if word in ("after", "since", "following"):
            after = after or value
        elif word:
            before = before or value
        elif day is None:
            day = value
    return Clause(outlet=outlet, day=None if (after or before) else day, after=after, before=before)


_PART_BREAK = re.compile(
    r",\s*(?:and|while|but|whereas|which|who)\s+|;\s*|\s+and\s+(?:is|was|has|had|also|the)\s+|\s+while\s+",
    re.IGNORECASE,
)


def split_parts(question: str, min_words: int = 5) -> list[str]:
    """The separately checkable parts of a multi-part question ("X, and Y, while Z")."""
    parts = [p.strip(" ,?") for p in _PART_BREAK.split(question)]
    parts = [p for p in parts if len(p.split()) >= min_words]
    return parts if len(parts) > 1 else []
