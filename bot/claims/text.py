"""Light text analysis shared by duplicate detection, matching and contradiction rules.

Everything here is deterministic and offline: the chunker's splitter cuts sentences, bm25s ships
the English stopword list, PyStemmer (Snowball) does the stemming. What is left
to hand-written code is news-specific normalisation (``U.S.`` = ``US``,
possessives, citation markers) that no library knows about.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import Stemmer

from index.chunking import sentence_spans

# Quotes, apostrophes and dashes that NFKC leaves alone but readers consider equal.
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_CITATION = re.compile(r"\s*(?:\[\d+\])+")
_COUNTRY_ABBREVIATIONS = (
    (re.compile(r"\bU\.\s?S\.(?:\s?A\.)?(?=\W|$)"), "USA"),
    (re.compile(r"\bUS\b"), "USA"),
    (re.compile(r"\bU\.\s?K\.(?=\W|$)"), "UK"),
    (re.compile(r"\bU\.\s?N\.(?=\W|$)"), "UN"),
    (re.compile(r"\bE\.\s?U\.(?=\W|$)"), "EU"),
)
# A number (with optional currency, thousands separators, decimals, percent) or a word.
_TOKEN = re.compile(r"[$€£]?\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:'[^\W\d_]+)*")
_NEGATORS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot"}
    | {"deny", "denies", "denied", "denying", "fail", "fails", "failed", "failing"}
    | {"refuse", "refuses", "refused", "refusing"}
)


def clean_text(text: str) -> str:
    """NFKC, straight quotes and dashes, single spaces: the form every other helper starts from."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return " ".join(text.split())


def strip_citations(text: str) -> str:
    """Remove ``[1][3]`` style reference markers, which are not part of what is claimed."""
    return _CITATION.sub("", text).strip()


def _canonical_abbreviations(text: str) -> str:
    for pattern, replacement in _COUNTRY_ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return text


def tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens; ``U.S.``/``US`` become ``usa``, possessives are dropped."""
    text = _canonical_abbreviations(strip_citations(clean_text(text)))
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group().casefold().lstrip("$€£")
        if token[:1].isdigit():
            token = token.rstrip("%").replace(",", "")
        elif token.endswith("'s"):
            token = token[:-2]
        out.append(token)
    return out


def normalize_claim_text(text: str) -> str:
    """The key two flags of the same claim share: tokens joined by single spaces.

    Case, punctuation, quote style, citation markers and ``U.S.``/``US`` spelling
    do not make a claim different; words and numbers do.
    """
    return " ".join(tokens(text))


def is_number(token: str) -> bool:
    return token[:1].isdigit()


def is_negated(text: str) -> bool:
    """True when the sentence contains a negator (not, no, never, n't, denied, failed, ...).

    "without" is not one: "the iPad ships without a jack" asserts, it does not negate.
    """
    return any(t in _NEGATORS or t.endswith("n't") for t in tokens(text))


# Opposite predicates that sentence embeddings place close together ("rates rose" vs
# "rates fell"). No offline antonym source exists here (WordNet needs a data download),
# so this is a short, news-oriented list; words are stemmed before use.
OPPOSITE_WORDS: tuple[tuple[str, str], ...] = (
    ("rise", "fall"),
    ("rise", "drop"),
    ("rise", "decline"),
    ("rose", "fell"),
    ("increase", "decrease"),
    ("increase", "reduce"),
    ("increase", "cut"),
    ("raise", "cut"),
    ("raise", "lower"),
    ("raise", "reduce"),
    ("raise", "unchanged"),
    ("grow", "shrink"),
    ("grew", "shrank"),
    ("grow", "shrank"),
    ("grew", "shrink"),
    ("expand", "shrink"),
    ("expand", "scale"),
    ("expand", "reduce"),
    ("higher", "lower"),
    ("gain", "lose"),
    ("win", "lose"),
    ("won", "lost"),
    ("buy", "sell"),
    ("bought", "sold"),
    ("ban", "allow"),
    ("ban", "permit"),
    ("ban", "lift"),
    ("impose", "lift"),
    ("impose", "remove"),
    ("add", "remove"),
    ("add", "drop"),
    ("open", "close"),
    ("close", "reopen"),
    ("sign", "veto"),
    ("cancel", "resume"),
    ("shut", "reopen"),
    ("shut", "restart"),
    ("start", "stop"),
    ("hire", "fire"),
    ("hire", "laid"),
    ("hire", "lay"),
    ("approve", "reject"),
    ("accept", "reject"),
    ("demand", "reject"),
    ("support", "oppose"),
    ("confirm", "deny"),
    ("offer", "refuse"),
    ("agree", "refuse"),
    ("agree", "fail"),
    ("optimistic", "pessimistic"),
    ("primary", "secondary"),
    ("guilty", "innocent"),
    ("convict", "acquit"),
    ("strengthen", "weaken"),
    ("upgrade", "downgrade"),
    ("legal", "illegal"),
    ("true", "false"),
    ("success", "failure"),
    ("arrest", "release"),
)


@functools.cache
def english_stopwords() -> frozenset[str]:
    """NLTK's English list as shipped by bm25s, minus words that carry a claim's meaning here.

    Negators decide polarity; "won", "up", "off", "out", "against" ... are predicates
    in news ("Spain won", "rates went up", "laid off", "rules out").
    """
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    meaningful = {"won", "up", "down", "off", "out", "against", "more", "few", "before", "after"}
    return frozenset(STOPWORDS_EN_PLUS) - _NEGATORS - meaningful


@dataclass
class Analyzer:
    """Stems content words; one per matcher or detector run because Snowball stemmers are not thread-safe."""

    stemmer: Stemmer.Stemmer

    @classmethod
    def english(cls) -> Analyzer:
        return cls(Stemmer.Stemmer("english"))

    @functools.cached_property
    def opposites(self) -> frozenset[tuple[str, str]]:
        """Stemmed :data:`OPPOSITE_WORDS`, both directions."""
        pairs = set()
        for a, b in OPPOSITE_WORDS:
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
        stop = english_stopwords()
        words = [t for t in tokens(text) if t not in stop and not t.endswith("n't") and t not in _NEGATORS]
        numbers = {t for t in words if is_number(t)}
        stems = self.stemmer.stemWords([t for t in words if not is_number(t) and len(t) > 1])
        return numbers | set(stems)


def sentences_of(text: str) -> list[str]:
    """Sentences of a passage; every line is split on its own so headlines stay separate."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(line[span.start : span.end] for span in sentence_spans(line))
    return out
