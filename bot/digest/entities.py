"""Cheap named-entity tokens: capitalised words, the signal that tells two stories apart.

Embeddings say two texts are about "a ceasefire" or "a bridge"; the names they
share (Gaza, Hamas, Kell, Brackwater) say whether it is the same ceasefire or
bridge. A capitalised word that only ever starts a sentence ("Despite", "Analysts")
is not a name, so sentence-initial words count only when the same word also
appears capitalised mid-sentence somewhere in the texts being compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from bot.core.text.dates import MONTH_NUMBERS, WEEKDAYS

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9’'\-]*|[.!?:;\"“”\n,()]")
_RUN_BREAK = frozenset(",()")
_SENTENCE_END = frozenset('.!?:;"“”\n')
_ACRONYM_DOTS = re.compile(r"\b(?:[A-Z]\.){2,}")
_POSSESSIVE = re.compile(r"(’s|'s|’|')$")

STOPWORDS_FILE = Path(__file__).with_name("entity_stopwords.json")


class EntityStopwords(BaseModel):
    """Capitalised words that are not story names (``entity_stopwords.json``); lower case and unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    words: frozenset[str]
    stop_even_in_capitals: frozenset[str]  # "AM", "CEO": not names even in capitals ("US" is)

    @field_validator("words", "stop_even_in_capitals", mode="before")
    @classmethod
    def _lower_and_unique(cls, entries: list[str]) -> list[str]:
        if len(set(entries)) != len(entries) or any(e != e.lower().strip() or not e for e in entries):
            raise ValueError("entries must be lower case, non-empty and unique")
        return entries

    @model_validator(mode="after")
    def _capitals_are_stopwords(self) -> EntityStopwords:
        if not self.stop_even_in_capitals <= self.all:
            raise ValueError(f"not stop words: {sorted(self.stop_even_in_capitals - self.all)}")
        return self

    @cached_property
    def all(self) -> frozenset[str]:
        """The file's words plus month and weekday names (their one home is the dates module)."""
        return self.words | MONTH_NUMBERS.keys() | WEEKDAYS


@lru_cache(maxsize=1)
def entity_stopwords() -> EntityStopwords:
    """The shipped list, read and checked on first use."""
    return EntityStopwords.model_validate(json.loads(STOPWORDS_FILE.read_text(encoding="utf-8")))


def _normalise(word: str) -> str:
    return _POSSESSIVE.sub("", word).strip("-’'").lower()


def capitalised_words(text: str) -> tuple[list[str], list[str]]:
    """(mid-sentence, sentence-initial) names, lower-cased, possessives dropped.

    Single capitalised words, plus each run of two or more ("soho house", "kell
    bridge"): a shared full name says more than a shared common first word.
    """
    mid: list[str] = []
    initial: list[str] = []
    run: list[str] = []
    run_initial = False

    def close() -> None:
        nonlocal run
        if len(run) >= 2:
            (initial if run_initial else mid).append(" ".join(run))
        run = []

    stopwords = entity_stopwords()
    stop, stop_in_capitals = stopwords.all, stopwords.stop_even_in_capitals
    at_start = True
    for token in _TOKEN.findall(_ACRONYM_DOTS.sub(lambda m: m.group(0).replace(".", ""), text)):
        if token in _RUN_BREAK:
            close()
            continue
        if token in _SENTENCE_END:
            close()
            at_start = True
            continue
        for part in token.split("-"):
            if not part or not part[0].isupper():
                close()
                continue
            word = _normalise(part)
            acronym = part.isupper() and len(part) > 1
            if len(word) >= 2 and (word not in stop or (acronym and word not in stop_in_capitals)):
                (initial if at_start else mid).append(word)
                if not run:
                    run_initial = at_start
                run.append(word)
            else:
                close()
        at_start = False
    close()
    return mid, initial


Parsed = tuple[list[str], list[str]]


class EntityVocabulary:
    """Which capitalised words are names in a set of texts (see the module docstring)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.names: set[str] = set()
        for text in texts:
            self.names.update(capitalised_words(text)[0])

    @classmethod
    def from_parsed(cls, parsed: Iterable[Parsed]) -> EntityVocabulary:
        """From :func:`capitalised_words` results, so callers parse each text only once."""
        vocabulary = cls()
        for mid, _ in parsed:
            vocabulary.names.update(mid)
        return vocabulary

    def entities(self, text: str) -> set[str]:
        return self.entities_of(capitalised_words(text))

    def entities_of(self, parsed: Parsed) -> set[str]:
        mid, initial = parsed
        return set(mid) | {w for w in initial if w in self.names}
