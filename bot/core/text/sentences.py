"""Sentence boundaries: exact character spans, so a citation or a chunk can point at the text.

A rule-based splitter that knows news abbreviations ("U.S. President", "Mr. Lavrov"),
decimals and domains ("3.5", "example.com") and citation markers after the stop
("stalled [1][3]."). Paragraph breaks always end a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.core.text.markers import CANONICAL_RUN, strip_source_markers

# Words whose trailing period does not end a sentence ("U.S. President", "Mr. Lavrov").
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "jr",
        "sr",
        "gen",
        "col",
        "lt",
        "sgt",
        "rep",
        "sen",
        "gov",
        "pres",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "corp",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "a.m",
        "p.m",
        "i.e",
        "e.g",
    ]
)
_SENTENCE_END = re.compile(rf"[.!?…]+[\"'”’)\]]*(?:{CANONICAL_RUN})?")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot_index: int) -> bool:
    word_start = dot_index
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot_index].lower().strip("(\"'“‘")
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith"
        return True
    return word in _ABBREVIATIONS


def sentence_spans(text: str) -> list[Span]:
    """Sentence spans of ``text`` (stripped of surrounding whitespace), paragraph breaks always split."""
    spans: list[Span] = []
    for para in _paragraph_spans(text):
        spans.extend(_sentences_in(text, para.start, para.end))
    return spans


def _paragraph_spans(text: str) -> Iterator[Span]:
    pos = 0
    for match in _PARAGRAPH.finditer(text):
        yield from trimmed(text, pos, match.start())
        pos = match.end()
    yield from trimmed(text, pos, len(text))


def trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(start, end)


def _sentences_in(text: str, start: int, end: int) -> Iterator[Span]:
    sentence_start = start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if stop < end and not text[stop].isspace():
            continue  # "3.5", "example.com"
        if text[match.start()] == "." and match.end() - match.start() == 1 and _is_abbreviation(text, match.start()):
            continue
        nxt = stop
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt < end and text[nxt].islower():
            continue  # "... the U.S. president said" style false break
        yield from trimmed(text, sentence_start, stop)
        sentence_start = stop
    yield from trimmed(text, sentence_start, end)


def sentences_of(text: str) -> list[str]:
    """Sentences of a passage; every line is split on its own so headlines stay separate."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(line[span.start : span.end] for span in sentence_spans(line))
    return out


def plain_sentences(text: str) -> list[str]:
    """:func:`sentences_of` ``text`` as readers may see them quoted: the article's own "[n]" markers removed."""
    return [plain for plain in (strip_source_markers(s) for s in sentences_of(text)) if plain]
