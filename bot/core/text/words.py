"""Words: content words for support scores, tokens and stems for matching and contradiction rules.

Two analyses live here, each with its callers' behaviour: :func:`content_words` (a light
suffix stripper with news-specific irregular verbs, used to score how well a source
supports a sentence) and :class:`Analyzer` (Snowball stems over :func:`tokens`, used by
claim matching and the contradiction rules). Both are deterministic and offline: bm25s
ships the English stopword list, PyStemmer does the Snowball stemming.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import Stemmer
from pydantic import BaseModel, ConfigDict, field_validator

from bot.core.text.negation import negators
from bot.core.text.normalize import is_number, tokens

# ---------------------------------------------------------------- content words (support scores)
_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me
    more most my myself of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up upon very was we were what when where which while who whom why will with would you
    your yours yourself yourselves s t ll d re ve m said say says told according would've one""".split()  # noqa: SIM905
)
_CONTENT_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
_VOWELS = frozenset("aeiouy")
# Irregular past forms news text uses most, with their base form (stemmed like any other word).
_IRREGULAR = {
    "met": "meet",
    "took": "take",
    "taken": "take",
    "held": "hold",
    "won": "win",
    "lost": "lose",
    "began": "begin",
    "begun": "begin",
    "left": "leave",
    "made": "make",
    "went": "go",
    "gone": "go",
    "came": "come",
    "rose": "rise",
    "risen": "rise",
    "fell": "fall",
    "fallen": "fall",
    "grew": "grow",
    "grown": "grow",
    "gave": "give",
    "given": "give",
    "sent": "send",
    "spent": "spend",
    "sold": "sell",
    "bought": "buy",
    "paid": "pay",
    "chose": "choose",
    "chosen": "choose",
    "knew": "know",
    "known": "know",
    "brought": "bring",
    "thought": "think",
    "led": "lead",
    "struck": "strike",
    "shot": "shoot",
    "fought": "fight",
    "wrote": "write",
    "written": "write",
    "spoke": "speak",
    "spoken": "speak",
}


@functools.lru_cache(maxsize=1 << 16)  # a word recurs in every passage: stripping it once is a third of content_words
def _stem(word: str) -> str:
    """A tiny suffix stripper: enough to match "scheduled"/"schedule", "denied"/"deny", "venues"/"venue"."""
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "i"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5 and _VOWELS & set(word[:-3]):
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4 and _VOWELS & set(word[:-2]):
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]  # planning → plann → plan
    while len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # "agree" and "agreed" both end as "agr"
    if len(word) > 2 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


def content_words(text: str) -> list[str]:
    """Stemmed content words of ``text`` in order (numbers kept as written, without separators)."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES).lower()
    out: list[str] = []
    for match in _CONTENT_TOKEN.finditer(text):
        token = match.group()
        if token[0].isdigit():
            out.append(token.replace(",", ""))
            continue
        if token.endswith("n't"):
            out.append("not")
            continue
        if token.endswith("'s"):
            token = token[:-2]
        if len(token) < 2 or token in _STOPWORDS:
            continue
        out.append(_stem(_IRREGULAR.get(token, token)))
    return out


def _weight(token: str) -> float:
    return 2.0 if token[0].isdigit() else 1.0


def lexical_recall(words: Iterable[str], unit: frozenset[str] | set[str]) -> float:
    """Share of ``words`` (numbers count twice) found in ``unit``."""
    total = found = 0.0
    for word in set(words):
        w = _weight(word)
        total += w
        if word in unit:
            found += w
    return found / total if total else 0.0


# ---------------------------------------------------------------- stems (matching, contradiction rules)
OPPOSITES_FILE = Path(__file__).with_name("opposites.json")


class OppositeWords(BaseModel):
    """Pairs of opposite news predicates (a data file with a schema: lower-case single words, no repeats)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    pairs: tuple[tuple[str, str], ...]

    @field_validator("pairs")
    @classmethod
    def _well_formed(cls, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        seen: set[frozenset[str]] = set()
        for a, b in pairs:
            if a == b or any(not w.isalpha() or w != w.lower() for w in (a, b)):
                raise ValueError(f"pair {(a, b)!r}: two different lower-case words")
            if frozenset((a, b)) in seen:
                raise ValueError(f"pair {(a, b)!r} is listed twice")
            seen.add(frozenset((a, b)))
        return pairs

    @classmethod
    def load(cls, path: Path = OPPOSITES_FILE) -> OppositeWords:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def english_stopwords() -> frozenset[str]:
    """NLTK's English list as shipped by bm25s, minus words that carry a claim's meaning here.

    Negators decide polarity; "won", "up", "off", "out", "against" ... are predicates
    in news ("Spain won", "rates went up", "laid off", "rules out").
    """
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    meaningful = {"won", "up", "down", "off", "out", "against", "more", "few", "before", "after"}
    return frozenset(STOPWORDS_EN_PLUS) - negators() - meaningful


@functools.cache
def opposite_words() -> OppositeWords:
    """The shipped pairs, read once on first use."""
    return OppositeWords.load()


@dataclass
class Analyzer:
    """Stems content words; one per matcher or detector run because Snowball stemmers are not thread-safe."""

    stemmer: Stemmer.Stemmer

    @classmethod
    def english(cls) -> Analyzer:
        return cls(Stemmer.Stemmer("english"))

    @functools.cached_property
    def opposites(self) -> frozenset[tuple[str, str]]:
        """Stemmed opposite pairs (``opposites.json``), both directions."""
        pairs = set()
        for a, b in opposite_words().pairs:
            sa, sb = self.stemmer.stemWords([a, b])
            pairs |= {(sa, sb), (sb, sa)}
        return frozenset(pairs)

    def opposite_in(self, words: set[str], other: set[str]) -> tuple[str, str] | None:
        """A stem of ``words`` whose opposite appears only in ``other``, as (stem, opposite)."""
        for a, b in self.opposites:
            if a in words and b in other and b not in words and a not in other:
                return a, b
        return None

    def content_words(self, text: str) -> set[str]:
        """Stems of the non-stopword tokens; numbers are kept as they are."""
        stop, negating = english_stopwords(), negators()
        words = [t for t in tokens(text) if t not in stop and not t.endswith("n't") and t not in negating]
        numbers = {t for t in words if is_number(t)}
        stems = self.stemmer.stemWords([t for t in words if not is_number(t) and len(t) > 1])
        return numbers | set(stems)
