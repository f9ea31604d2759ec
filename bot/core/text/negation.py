"""Negation and stance: does a sentence negate, and does it affirm or deny that something happened."""

from __future__ import annotations

import re
from typing import Literal

from bot.core.text.normalize import tokens

Stance = Literal["affirm", "deny", "uncertain", "neutral"]

# Words that negate a statement (tokens, lower-cased), for the matching and contradiction rules.
NEGATORS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot"}
    | {"deny", "denies", "denied", "denying", "fail", "fails", "failed", "failing"}
    | {"refuse", "refuses", "refused", "refusing"}
)


def is_negated(text: str) -> bool:
    """True when the sentence contains a negator (not, no, never, n't, denied, failed, ...).

    "without" is not one: "the iPad ships without a jack" asserts, it does not negate.
    """
    return any(t in NEGATORS or t.endswith("n't") for t in tokens(text))


# ---------------------------------------------------------------- stance (answers, disagreements)
_NEGATOR = re.compile(r"\b(?:no|not|never|none|nothing|neither|nor|without|den(?:y|ied|ies))\b|n't\b")
_DENY_STRONG = re.compile(
    r"\b(?:den(?:y|ied|ies|ying)|reject(?:ed|s|ing)?|dismiss(?:ed|es|ing)?|false(?:ly)?|fake|"
    r"called off|cancell?ed|scrapped)\b|\bnot true\b|do(?:es)? not correspond to reality|\bno evidence\b"
)
_DENY = re.compile(
    r"\bno (?:date|venue|meeting|agreement|decision|deal|request|invitation|plans?|proposal|such)\b"
    r"|\bnot (?:been |yet )?(?:set|scheduled|agreed|confirmed|fixed|decided|planned|prepared|happened|"
    r"arranged|announced|finali[sz]ed)\b"
    r"|\bno\b[^.;]{0,40}\b(?:has|have|had) been\b"
    r"|\bnone\b[^.;]{0,60}\b(?:has|have|had)\b"
    r"|\bnothing (?:is|was|has been) (?:prepared|planned|agreed|set|decided)\b|\bnothing to announce\b"
    r"|\bnever\b|\bpremature\b|\bhas(?:n't| not) (?:taken place|happened)\b"
    r"|\b(?:remains?|still) (?:uncertain|unclear|undecided|open)\b|\byet to be (?:set|agreed|decided)\b"
)
_HEDGE = re.compile(
    r"\b(?:may|might|could|possible|possibly|perhaps|being discussed|exploratory|floated|in principle|"
    r"unconfirmed|if it goes ahead|expected to|likely|unclear|uncertain)\b"
)
_AFFIRM = re.compile(
    r"\b(?:is|are|was|were|has been|have been|had been|has now been|been) (?:scheduled|confirmed|set|agreed|"
    r"fixed|planned|arranged|finali[sz]ed|announced|held)\b"
    r"|\bscheduled (?:for|to)\b|\bwill (?:meet|take place|be held|go ahead|host)\b|\bwould meet\b"
    r"|\b(?:took|has taken|have taken) place\b|\bconfirmed\b|\bagreed to\b|\bmet\b|\bhappened\b|"
    r"\bwent ahead\b|\bis going ahead\b"
)
# Affirmations attributed to a report are a description of that report, not the source's claim.
_REPORTED = re.compile(r"\breported\b|\ba report\b|\breport (?:by|in|that)\b|\bclaim(?:ed|ing|s)? that\b")
_NEGATION_WINDOW = 40


def stance(sentence: str) -> Stance:
    """Whether a sentence affirms, denies or hedges that something is set/happened; "neutral" if none."""
    text = " ".join(sentence.lower().replace("’", "'").split())
    deny = 2 * len(_DENY_STRONG.findall(text)) + len(_DENY.findall(text))
    affirm = 0
    reported = bool(_REPORTED.search(text))
    for match in _AFFIRM.finditer(text):
        before = text[max(0, match.start() - _NEGATION_WINDOW) : match.start()]
        if _NEGATOR.search(before):
            deny += 1
        elif not reported:
            affirm += 1
    hedge = len(_HEDGE.findall(text))
    if deny and affirm:
        if deny >= 2 * affirm:
            return "deny"
        if affirm >= 2 * deny:
            return "affirm"
        return "uncertain"
    if deny:
        return "deny"
    if affirm:
        return "uncertain" if hedge else "affirm"
    return "uncertain" if hedge else "neutral"
