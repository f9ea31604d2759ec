"""Cheap named-entity tokens: capitalised words, the signal that tells two stories apart.

Embeddings say two texts are about "a ceasefire" or "a bridge"; the names they
share (Gaza, Hamas, Kell, Brackwater) say whether it is the same ceasefire or
bridge. A capitalised word that only ever starts a sentence ("Despite", "Analysts")
is not a name, so sentence-initial words count only when the same word also
appears capitalised mid-sentence somewhere in the texts being compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9’'\-]*|[.!?:;\"“”\n,()]")
_RUN_BREAK = frozenset(",()")
_SENTENCE_END = frozenset('.!?:;"“”\n')
_ACRONYM_DOTS = re.compile(r"\b(?:[A-Z]\.){2,}")
_POSSESSIVE = re.compile(r"(’s|'s|’|')$")

# Capitalised words that are not names, or are names too common to tell stories apart.
STOP_ENTITIES = frozenset(
    """
    a an the this that these those there here it its i we you he she they his her their our your my me us them
    and or but if so as at by for from in into of on onto to with without about after before over under
    up down is are was were be been being has have had do does did will would can could should
    may might must shall
    not no yes all any some each every more most many much few other another such only also just than then
    who what when where which why how while although though because since until unless despite however
    meanwhile elsewhere moreover still yet even already again now today tonight yesterday tomorrow
    mr mrs ms dr sir madam president vice minister prime foreign secretary chief chairman chairwoman chair
    spokesman spokeswoman spokesperson officials official government ministry department council committee
    ceo cfo coo cto executive director head deputy general senator sen rep gov governor mayor
    king queen prince
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    am pm gmt utc bst est edt pst cet cest
    read also latest update updated advertisement photo video image getty reuters ap afp
    new first last next one two three said says say according news report reports
    """.split()  # noqa: SIM905
)

_STOP_ACRONYMS = frozenset(
    {"am", "pm", "gmt", "utc", "bst", "est", "edt", "pst", "cet", "cest", "ceo", "cfo", "coo", "cto"}
)


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
            if len(word) >= 2 and (word not in STOP_ENTITIES or (acronym and word not in _STOP_ACRONYMS)):
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
