"""Offline, rule-based contradiction finder for statements from one or several sources.

The rules are deliberately simple and explainable, because their output is only a
*suggestion* that a moderator accepts or dismisses:

* negation — two statements on the same subject, one asserting and one negating
  ("scheduled" vs "no arrangement set", "not scheduled", "denied", "remains uncertain");
* number — the same subject with different amounts of the same unit
  ("50 hostages" vs "48 hostages", "$2.7 billion" vs "$3 billion");
* date — the same event placed on different dates;
* role — one person given conflicting titles ("President Trump" vs "Former President
  Donald Trump"; ``U.S.``/``US``/``American`` are one country);
* citation_date — a statement citing only sources dated before the event it reports,
  or an article published before a date it reports as past (``b`` is ``None``).

"Same subject" means: at least one shared named entity (capitalised word) and a high
overlap of content-word stems, measured as ``|A ∩ B| / min(|A|, |B|)``. Sentence
splitting, stopwords and stemming come from the text layer (:mod:`bot.core.text`).
"""

from __future__ import annotations

import enum
import itertools
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from bot.core.text.dates import MONTH_NUMBERS as MONTHS
from bot.core.text.dates import WEEKDAYS, find_dates
from bot.core.text.markers import cited_numbers, strip_citations
from bot.core.text.negation import negation_words
from bot.core.text.normalize import clean_text, tokens
from bot.core.text.numbers import CURRENCIES, SCALES
from bot.core.text.sentences import sentences_of
from bot.core.text.words import Analyzer, english_stopwords

log = logging.getLogger(__name__)

SUBJECT_OVERLAP = 0.5  # content-stem overlap for "same subject" (negation, date rules)
NUMBER_SUBJECT_OVERLAP = 0.4  # numbers differ, so the rest of the sentence shares a bit less
APPROXIMATE_TOLERANCE = 0.15  # "about $3 billion" agrees with "$2.7 billion"

CONTRADICTION_WORDS_FILE = Path(__file__).with_name("contradiction_words.json")
_NUMBER_RE = re.compile(
    r"(?:(?P<cur>[$€£])\s?)?(?<![\w.,])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\b"
    r"(?:\s*(?P<scale>thousand|million|billion|trillion|bn|m|k)\b)?"
    r"(?:\s*(?P<pct>%|percent|per\s+cent)|(?:-|\s+)(?:(?:more|additional|other|new|of\s+the)\s+)?"
    r"(?P<unit>[A-Za-z][A-Za-z'-]*))?",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_][\w.'-]*")


def _alternation(phrases: Iterable[str]) -> str:
    """Phrases as one regex alternation, longest first, their spaces matching any whitespace."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)


class ContradictionWords(BaseModel):
    """The rules' vocabulary (``contradiction_words.json``); every entry lower case and single-spaced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    titles: frozenset[str]  # "president", "minister": a role is "<modifiers> <country> <titles> <Name>"
    weak_titles: frozenset[str]  # may start a title run but are no title alone ("State Department")
    role_modifiers: dict[str, str]  # "ex" → "former": the standing a title is held in
    countries: dict[str, str]  # "american" → "usa": words naming one country
    future_markers: tuple[str, ...]  # a statement about what will happen cannot report it as past
    approximate_markers: tuple[str, ...]  # "about $3 billion" agrees with "$2.7 billion"
    concepts: dict[str, frozenset[str]]  # stems that different words share for one idea ("schedul", "arrang")

    @model_validator(mode="after")
    def _consistent(self) -> ContradictionWords:
        words = [
            *self.titles,
            *self.weak_titles,
            *self.role_modifiers,
            *self.role_modifiers.values(),
            *self.countries,
            *self.countries.values(),
            *self.future_markers,
            *self.approximate_markers,
            *(stem for stems in self.concepts.values() for stem in stems),
        ]
        for word in words:
            if not word or word != " ".join(word.lower().split()):
                raise ValueError(f"{word!r}: entries are lower case and single-spaced")
        if not self.weak_titles <= self.titles:
            raise ValueError(f"weak titles that are not titles: {sorted(self.weak_titles - self.titles)}")
        if any(not stems for stems in self.concepts.values()):
            raise ValueError("a concept needs at least one stem")
        return self

    @classmethod
    def load(cls, path: Path = CONTRADICTION_WORDS_FILE) -> ContradictionWords:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    @cached_property
    def future(self) -> re.Pattern[str]:
        return re.compile(rf"\b(?:{_alternation(self.future_markers)})\b", re.IGNORECASE)

    @cached_property
    def approximate(self) -> re.Pattern[str]:
        return re.compile(rf"\b(?:{_alternation(self.approximate_markers)})\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def contradiction_words() -> ContradictionWords:
    """The shipped vocabulary, read and checked on first use."""
    return ContradictionWords.load()


class ContradictionKind(enum.StrEnum):
    NEGATION = "negation"
    NUMBER = "number"
    DATE = "date"
    ROLE = "role"
    CITATION_DATE = "citation_date"


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence and where it came from: source number, publication date, dates of sources it cites."""

    text: str
    source_number: int = 0
    published: date | None = None
    cited_dates: Sequence[date] = ()  # stored as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "cited_dates", tuple(self.cited_dates))


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two statements that cannot both be right; ``b`` is None for a statement at odds with its own dates."""

    kind: ContradictionKind
    a: Statement
    b: Statement | None
    explanation: str


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date as written: the month is always known, year and day may be missing."""

    year: int | None
    month: int
    day: int | None
    raw: str

    def compatible(self, other: PartialDate) -> bool:
        return (
            self.month == other.month
            and (self.year is None or other.year is None or self.year == other.year)
            and (self.day is None or other.day is None or self.day == other.day)
        )

    def as_date(self) -> date | None:
        if self.year is None or self.day is None:
            return None
        try:
            return date(self.year, self.month, self.day)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str
    approximate: bool
    raw: str


@dataclass(frozen=True, slots=True)
class Role:
    """``<modifiers> <country> <titles> <Name>`` as found in a sentence."""

    name: tuple[str, ...]
    titles: tuple[str, ...]
    modifiers: frozenset[str]
    country: str | None
    raw: str

    def describe(self) -> str:
        return self.raw

    def conflict(self, other: Role) -> str | None:
        """Why the two roles cannot both hold now, or None if they can."""
        if ("former" in self.modifiers) != ("former" in other.modifiers):
            return "current vs former"
        if self.titles != other.titles:
            return "different titles"
        if self.country and other.country and self.country != other.country:
            return "different countries"
        if self.modifiers != other.modifiers:
            return "different standing (" + ", ".join(sorted(self.modifiers ^ other.modifiers)) + ")"
        return None

    def key(self) -> tuple[tuple[str, ...], frozenset[str]]:
        return self.titles, self.modifiers


def same_person(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """``Trump`` = ``Donald Trump``; ``Donald Trump`` ≠ ``Melania Trump``."""
    if a[-1] != b[-1]:
        return False
    return len(a) == 1 or len(b) == 1 or a[0] == b[0]


@dataclass(slots=True)
class _Facts:
    """What the rules need from one statement, computed once."""

    statement: Statement
    clean: str
    key: str
    entities: set[str]
    subject: set[str]
    negation: str | None
    future: bool
    dates: list[PartialDate]
    quantities: list[Quantity]
    roles: list[Role] = field(default_factory=list)


def _dates_in(text: str, default_year: int | None) -> tuple[list[PartialDate], str]:
    """Dates written in ``text`` and the text with them blanked out."""
    mentions = find_dates(text)
    blanked = text
    for mention in reversed(mentions):
        blanked = blanked[: mention.start] + " " + blanked[mention.end :]
    dates = [
        PartialDate(m.year if m.year is not None else default_year, m.month, m.day, m.text.strip()) for m in mentions
    ]
    return dates, blanked


def _quantities_in(text: str, analyzer: Analyzer) -> list[Quantity]:
    out: list[Quantity] = []
    for m in _NUMBER_RE.finditer(text):
        number = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").lower()
        value = number * SCALES.get(scale, 1.0)
        unit_word = (m.group("unit") or "").lower().strip("'-")
        currency = CURRENCIES.get(m.group("cur") or "") or CURRENCIES.get(unit_word)
        if currency:
            unit = currency
        elif m.group("pct"):
            unit = "%"
        elif unit_word and unit_word not in MONTHS and unit_word not in WEEKDAYS:
            stems = analyzer.content_words(unit_word)
            if not stems:
                continue  # "50 of", "3 and" ...: no noun to tie the number to
            unit = min(stems)
        else:
            continue
        if not currency and number.is_integer() and 1900 <= number <= 2100 and not scale:
            continue  # a year
        approximate = bool(contradiction_words().approximate.search(text[: m.start()]))
        raw_end = m.end("scale") if m.group("scale") else m.end("num")
        raw = text[m.start() : raw_end] if currency else m.group()
        out.append(Quantity(value, unit, approximate, raw.strip()))
    return out


def _roles_in(text: str) -> list[Role]:
    words = [(m.group(), m.start()) for m in _WORD_RE.finditer(text)]
    roles: list[Role] = []
    i = 0
    while i < len(words):
        parts = _title_parts(words[i][0])
        if parts is None:
            i += 1
            continue
        start = i
        titles: list[str] = []
        modifiers: set[str] = set()
        while i < len(words) and (parts := _title_parts(words[i][0])) is not None:
            titles.extend(p for p in parts if p in contradiction_words().titles)
            standing = contradiction_words().role_modifiers
            modifiers.update(standing[p] for p in parts if p in standing)
            i += 1
        name: list[str] = []
        while i < len(words) and len(name) < 3 and _is_name_word(words[i][0]):
            name.append(_name_key(words[i][0]))
            if words[i][0].endswith(("'s", "’s")):
                i += 1
                break
            i += 1
        if not name or all(t in contradiction_words().weak_titles for t in titles):
            continue
        country = None
        j = start - 1
        while j >= 0 and start - j <= 3:
            word = words[j][0].rstrip(".,").lower()
            standing = contradiction_words().role_modifiers
            if word in standing or word.rstrip("-") in standing:
                modifiers.add(standing[word.rstrip("-")])
            elif _canonical_country(words[j][0]) and country is None:
                country = _canonical_country(words[j][0])
            else:
                break
            j -= 1
        raw_start = words[j + 1][1]
        raw_end = words[i - 1][1] + len(words[i - 1][0])
        raw = text[raw_start:raw_end].strip(" .,;:")
        roles.append(Role(tuple(name), tuple(titles), frozenset(modifiers), country, raw))
    return roles


def _title_parts(word: str) -> list[str] | None:
    """The lower-case parts of a title word ("Ex-President" → ["ex", "president"]), else None."""
    parts = [p for p in word.lower().rstrip(",").split("-") if p]
    words = contradiction_words()
    if not parts or any(p not in words.titles and p not in words.role_modifiers for p in parts):
        return None
    if not any(p in words.titles for p in parts):
        return None
    return parts


def _is_name_word(word: str) -> bool:
    core = word.rstrip(".,'’s") or word
    return (
        word[:1].isupper()
        and core.lower() not in contradiction_words().titles
        and core.lower() not in MONTHS
        and core.lower() not in WEEKDAYS
        and _canonical_country(core) is None
    )


def _name_key(word: str) -> str:
    word = word.rstrip(".,")
    for suffix in ("'s", "’s"):
        word = word.removesuffix(suffix)
    return word.lower()


def _canonical_country(word: str) -> str | None:
    token = tokens(word)
    return contradiction_words().countries.get(token[0]) if len(token) == 1 else None


def _entities(text: str, known_capitalised: set[str]) -> set[str]:
    """Capitalised words that are names, not sentence-initial capitals or titles."""
    stop = english_stopwords()
    out: set[str] = set()
    words = _WORD_RE.findall(text)
    for index, word in enumerate(words):
        if not word[:1].isupper():
            continue
        for part in tokens(word):
            if part in stop or part in contradiction_words().titles or part in MONTHS or part in WEEKDAYS:
                continue
            if index == 0 and part not in known_capitalised:
                continue
            out.add(part)
    return out


def _capitalised_inside(text: str) -> set[str]:
    words = _WORD_RE.findall(text)
    return {t for word in words[1:] if word[:1].isupper() for t in tokens(word)}


def _subject(text: str, analyzer: Analyzer) -> set[str]:
    stems = {s for s in analyzer.content_words(text) if not s[:1].isdigit()}
    words = contradiction_words()
    stems -= set(analyzer.stemmer.stemWords(sorted(words.titles | set(words.role_modifiers))))
    for concept, members in words.concepts.items():
        if stems & members:
            stems.add(f"⟨{concept}⟩")
    return stems


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _facts(statement: Statement, analyzer: Analyzer, known_capitalised: set[str]) -> _Facts:
    clean = strip_citations(clean_text(statement.text))
    default_year = (
        statement.published.year
        if statement.published
        else (max(statement.cited_dates).year if statement.cited_dates else None)
    )
    dates, without_dates = _dates_in(clean, default_year)
    negation = negation_words().negation_cue.search(without_dates)
    return _Facts(
        statement=statement,
        clean=clean,
        key=" ".join(tokens(clean)),
        entities=_entities(without_dates, known_capitalised),
        subject=_subject(without_dates, analyzer),
        negation=negation.group().lower() if negation else None,
        future=bool(contradiction_words().future.search(without_dates)),
        dates=dates,
        quantities=_quantities_in(without_dates, analyzer),
        roles=_roles_in(clean),
    )


def _label(f: _Facts) -> str:
    return f"[{f.statement.source_number}]"


def _negation(a: _Facts, b: _Facts) -> Contradiction | None:
    if (a.negation is None) == (b.negation is None):
        return None
    shared = a.subject & b.subject
    if len(shared) < 2 or _overlap(a.subject, b.subject) < SUBJECT_OVERLAP or not (a.entities & b.entities):
        return None
    positive, negative = (a, b) if b.negation else (b, a)
    topic = ", ".join(sorted(s for s in shared if not s.startswith("⟨")) or sorted(shared))
    return Contradiction(
        ContradictionKind.NEGATION,
        positive.statement,
        negative.statement,
        f"{_label(positive)} asserts what {_label(negative)} negates ({negative.negation!r}) about {topic}",
    )


def _numbers(a: _Facts, b: _Facts) -> list[Contradiction]:
    if not (a.quantities and b.quantities and a.entities & b.entities):
        return []
    if _overlap(a.subject, b.subject) < NUMBER_SUBJECT_OVERLAP:
        return []
    out: list[Contradiction] = []
    units = {q.unit for q in a.quantities} & {q.unit for q in b.quantities}
    for unit in sorted(units):
        qa = [q for q in a.quantities if q.unit == unit]
        qb = [q for q in b.quantities if q.unit == unit]
        if any(_agree(x, y) for x in qa for y in qb):
            continue
        out.append(
            Contradiction(
                ContradictionKind.NUMBER,
                a.statement,
                b.statement,
                f"{_label(a)} says {qa[0].raw!r} where {_label(b)} says {qb[0].raw!r}",
            )
        )
    return out


def _agree(x: Quantity, y: Quantity) -> bool:
    if x.value == y.value:
        return True
    if x.approximate or y.approximate:
        return abs(x.value - y.value) <= APPROXIMATE_TOLERANCE * max(abs(x.value), abs(y.value))
    return False


def _dates(a: _Facts, b: _Facts) -> Contradiction | None:
    if not (a.dates and b.dates and a.entities & b.entities):
        return None
    if _overlap(a.subject, b.subject) < SUBJECT_OVERLAP or len(a.subject & b.subject) < 2:
        return None
    if any(x.compatible(y) for x in a.dates for y in b.dates):
        return None
    return Contradiction(
        ContradictionKind.DATE,
        a.statement,
        b.statement,
        f"{_label(a)} dates it {a.dates[0].raw!r}, {_label(b)} {b.dates[0].raw!r}",
    )


def _citation_dates(f: _Facts) -> Contradiction | None:
    if f.future:
        return None
    for mention in f.dates:
        when = mention.as_date()
        if when is None:
            continue
        s = f.statement
        if s.cited_dates and max(s.cited_dates) < when:
            return Contradiction(
                ContradictionKind.CITATION_DATE,
                s,
                None,
                f"{_label(f)} reports {mention.raw!r} as past but cites only sources dated "
                f"up to {max(s.cited_dates).isoformat()}",
            )
        if s.published and s.published < when:
            return Contradiction(
                ContradictionKind.CITATION_DATE,
                s,
                None,
                f"{_label(f)} was published {s.published.isoformat()} but reports {mention.raw!r} as past",
            )
    return None


def _role_conflicts(facts: Sequence[_Facts]) -> list[Contradiction]:
    """One contradiction per person and pair of conflicting roles, first occurrences."""
    mentions = [(f, role) for f in facts for role in f.roles]
    out: list[Contradiction] = []
    reported: set[tuple[tuple[str, ...], frozenset[tuple[object, ...]]]] = set()
    for (fa, ra), (fb, rb) in itertools.combinations(mentions, 2):
        if not same_person(ra.name, rb.name) or (fa.key == fb.key and ra.key() == rb.key()):
            continue
        why = ra.conflict(rb)
        if why is None:
            continue
        person = ra.name if len(ra.name) >= len(rb.name) else rb.name
        pair_key = (person[-1:], frozenset({ra.key(), rb.key()}))
        if pair_key in reported:
            continue
        reported.add(pair_key)
        out.append(
            Contradiction(
                ContradictionKind.ROLE,
                fa.statement,
                fb.statement,
                f"{' '.join(person).title()}: {_label(fa)} {ra.raw!r} vs {_label(fb)} {rb.raw!r} ({why})",
            )
        )
    return out


def detect_contradictions(statements: Sequence[Statement]) -> list[Contradiction]:
    """All rule-based contradictions among ``statements``, in rule order then input order."""
    analyzer = Analyzer.english()
    known = set().union(*(_capitalised_inside(strip_citations(clean_text(s.text))) for s in statements))
    facts = [_facts(s, analyzer, known) for s in statements]

    by_entity: dict[str, list[int]] = defaultdict(list)
    for index, f in enumerate(facts):
        for entity in f.entities:
            by_entity[entity].append(index)
    pairs = sorted({(i, j) for ids in by_entity.values() for i, j in itertools.combinations(ids, 2)})

    found: dict[ContradictionKind, list[Contradiction]] = defaultdict(list)
    seen: set[tuple[str, str, str]] = set()

    def add(c: Contradiction | None) -> None:
        if c is None:
            return
        signature = (c.kind.value, c.a.text, c.b.text if c.b else "")
        if signature not in seen:
            seen.add(signature)
            found[c.kind].append(c)

    for i, j in pairs:
        a, b = facts[i], facts[j]
        if a.key == b.key:
            continue
        add(_negation(a, b))
        for c in _numbers(a, b):
            add(c)
        add(_dates(a, b))
    for c in _role_conflicts(facts):
        add(c)
    for f in facts:
        add(_citation_dates(f))
    result = [c for kind in ContradictionKind for c in found[kind]]
    log.debug("%d statements, %d candidate pairs, %d contradictions", len(facts), len(pairs), len(result))
    return result


def statements_from_text(
    text: str,
    source_number: int = 0,
    published: date | None = None,
    reference_dates: dict[int, date] | None = None,
) -> list[Statement]:
    """Split an article body into statements; ``[n]`` markers map to ``reference_dates[n]``."""
    reference_dates = reference_dates or {}
    out: list[Statement] = []
    for sentence in sentences_of(text):
        cited = sorted({reference_dates[n] for n in _cited_numbers(sentence) if n in reference_dates})
        out.append(Statement(sentence, source_number, published, tuple(cited)))
    return out


def _cited_numbers(sentence: str) -> Iterable[int]:
    return cited_numbers(sentence)
