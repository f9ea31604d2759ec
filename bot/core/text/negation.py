"""Negation and stance: does a sentence negate, and does it affirm or deny that something happened.

The words are data (``negation.json`` beside this module, schema below), read once on first use;
claim matching, the contradiction rules, citation checks and the stance of status answers all
take their negators from it, so "without" or "denied" means the same everywhere.
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from bot.core.text.normalize import tokens

Stance = Literal["affirm", "deny", "uncertain", "neutral"]
NEGATION_FILE = Path(__file__).with_name("negation.json")
_NEGATION_WINDOW = 40  # characters before an affirmation in which a negator turns it into a denial


class NegationWords(BaseModel):
    """The negation and stance vocabulary; every entry lower case, single-spaced and unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    negators: tuple[str, ...]  # negate the statement they are in ("not", "never")
    denial_verbs: tuple[str, ...]  # deny what follows ("denied that …")
    falsity: tuple[str, ...]  # call a claim false ("untrue", "baseless")
    cancellation: tuple[str, ...]  # the event will not happen ("called off")
    unsettled: tuple[str, ...]  # after "remains"/"still": not decided ("unclear")
    arranged: tuple[str, ...]  # participles saying an event is arranged ("scheduled", "agreed")
    event_phrases: tuple[str, ...]  # saying it is happening or happened ("took place", "met")
    hedges: tuple[str, ...]  # make an affirmation uncertain ("may", "expected to")
    report_markers: tuple[str, ...]  # an affirmation describing a report, not the source's own claim
    report_nouns: tuple[str, ...]  # "reports that …", "claims that …" (denied when the sentence negates them)

    @field_validator(
        "negators",
        "denial_verbs",
        "falsity",
        "cancellation",
        "unsettled",
        "arranged",
        "event_phrases",
        "hedges",
        "report_markers",
        "report_nouns",
    )
    @classmethod
    def _normalised(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        if not entries or len(set(entries)) != len(entries):
            raise ValueError("a list must be non-empty, without repeats")
        for entry in entries:
            if not entry or entry != " ".join(entry.lower().split()):
                raise ValueError(f"entry {entry!r}: lower case, single spaces, not empty")
        return entries

    @cached_property
    def negator_set(self) -> frozenset[str]:
        """Tokens that make a statement negative: negators and denial verbs ("denied")."""
        return frozenset((*self.negators, *self.denial_verbs))

    @cached_property
    def negation_cue(self) -> re.Pattern[str]:
        """Anything that negates or withdraws a statement: negators, denials, cancellations, unsettled."""
        cues = (*self.negators, *self.denial_verbs, *self.cancellation, *self.unsettled, "yet to")
        return re.compile(rf"n't\b|\b{_any(cues)}\b", re.IGNORECASE)

    @cached_property
    def _negator(self) -> re.Pattern[str]:
        return re.compile(rf"\b{_any((*self.negators, *self.denial_verbs))}\b|n't\b")

    @cached_property
    def _deny_strong(self) -> re.Pattern[str]:
        strong = _any((*self.denial_verbs, *self.falsity, *self.cancellation))
        denied_report = (
            rf"\b{_any(self.report_nouns)} that\b[^.;]{{0,200}}?(?:\b{_any((*self.negators, *self.falsity))}\b|n't\b)"
        )
        return re.compile(rf"\b{strong}\b|{denied_report}")

    @cached_property
    def _deny(self) -> re.Pattern[str]:
        arranged = _any(self.arranged)
        return re.compile(
            rf"\bnot (?:been |yet )?{arranged}\b"
            rf"|\bno\b[^.;]{{0,40}}\b(?:has|have|had|is|are|was|were) (?:been |yet )?{arranged}\b"
            r"|\bno\b[^.;]{0,40}\b(?:has|have|had) been\b|\bnone\b[^.;]{0,60}\b(?:has|have|had)\b"
            rf"|\bnothing (?:is|was|has been) {arranged}\b|\bthere (?:is|are|was|were) no\b"
            r"|\bnever\b|\bhas(?:n't| not) (?:taken place|happened)\b"
            rf"|\b(?:remains?|still) {_any(self.unsettled)}\b|\byet to be {arranged}\b"
        )

    @cached_property
    def _hedge(self) -> re.Pattern[str]:
        return re.compile(rf"\b{_any(self.hedges)}\b")

    @cached_property
    def _affirm(self) -> re.Pattern[str]:
        auxiliaries = r"(?:is|are|was|were|has been|have been|had been|has now been|been)"
        return re.compile(rf"\b{auxiliaries} {_any(self.arranged)}\b|\b{_any(self.event_phrases)}\b")

    @cached_property
    def _reported(self) -> re.Pattern[str]:
        return re.compile(rf"\b{_any(self.report_markers)}\b")

    def stance(self, sentence: str) -> Stance:
        """Whether a sentence affirms, denies or hedges that something is set/happened; "neutral" if none."""
        text = " ".join(sentence.lower().replace("’", "'").split())
        deny = 2 * len(self._deny_strong.findall(text)) + len(self._deny.findall(text))
        affirm = 0
        reported = bool(self._reported.search(text))
        for match in self._affirm.finditer(text):
            if self._negator.search(text[max(0, match.start() - _NEGATION_WINDOW) : match.start()]):
                deny += 1
            elif not reported:
                affirm += 1
        return _verdict(deny, affirm, hedged=bool(self._hedge.search(text)))

    @classmethod
    def load(cls, path: Path = NEGATION_FILE) -> NegationWords:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _any(phrases: tuple[str, ...]) -> str:
    """One alternation, longest first, spaces matching any run of whitespace."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered) + ")"


def _verdict(deny: int, affirm: int, *, hedged: bool) -> Stance:
    if deny and affirm:
        if deny >= 2 * affirm:
            return "deny"
        return "affirm" if affirm >= 2 * deny else "uncertain"
    if deny:
        return "deny"
    if affirm:
        return "uncertain" if hedged else "affirm"
    return "uncertain" if hedged else "neutral"


@lru_cache(maxsize=1)
def negation_words() -> NegationWords:
    """The shipped vocabulary, read once on first use (not at import)."""
    return NegationWords.load()


def negators() -> frozenset[str]:
    """Tokens that negate a statement (lower-cased), for matching, support and conflict rules."""
    return negation_words().negator_set


def is_negated(text: str) -> bool:
    """True when the sentence contains a negator (not, no, never, n't, denied, failed, ...).

    "without" is not one: "the iPad ships without a jack" asserts, it does not negate.
    """
    words = negators()
    return any(t in words or t.endswith("n't") for t in tokens(text))


def stance(sentence: str) -> Stance:
    """Whether a sentence affirms, denies or hedges that something is set/happened (see NegationWords)."""
    return negation_words().stance(sentence)
