"""Text normalisation: the form the matching and contradiction helpers start from.

NFKC plus the quotes, apostrophes and dashes that NFKC leaves alone but readers consider
equal; ``U.S.``/``US`` spelled one way; lower-cased word and number tokens.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.text.markers import strip_citations

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
_COUNTRY_ABBREVIATIONS = (
    (re.compile(r"\bU\.\s?S\.(?:\s?A\.)?(?=\W|$)"), "USA"),
    (re.compile(r"\bUS\b"), "USA"),
    (re.compile(r"\bU\.\s?K\.(?=\W|$)"), "UK"),
    (re.compile(r"\bU\.\s?N\.(?=\W|$)"), "UN"),
    (re.compile(r"\bE\.\s?U\.(?=\W|$)"), "EU"),
)
# A number (with optional currency, thousands separators, decimals, percent) or a word.
_TOKEN = re.compile(r"[$€£]?\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:'[^\W\d_]+)*")


def clean_text(text: str) -> str:
    """NFKC, straight quotes and dashes, single spaces: the form every other helper starts from."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return " ".join(text.split())


def canonical_abbreviations(text: str) -> str:
    for pattern, replacement in _COUNTRY_ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return text


def tokens(text: str) -> list[str]:
    """Lower-cased word and number tokens; ``U.S.``/``US`` become ``usa``, possessives are dropped."""
    text = canonical_abbreviations(strip_citations(clean_text(text)))
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
