"""Token-aware, sentence-aligned chunking with exact character spans.

Chunks never cut a sentence unless the sentence alone exceeds the budget, and a
chunk's text is always ``body[start:end]`` so a citation can point at the passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from index.models import Chunk
from index.tokens import get_encoding

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
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\[\d+\])*")
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
        yield from _trimmed(text, pos, match.start())
        pos = match.end()
    yield from _trimmed(text, pos, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
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
        yield from _trimmed(text, sentence_start, stop)
        sentence_start = stop
    yield from _trimmed(text, sentence_start, end)


class Chunker:
    """Packs whole sentences into chunks of at most ``max_tokens`` cl100k tokens."""

    def __init__(self, max_tokens: int = 256, overlap_tokens: int = 32) -> None:
        if overlap_tokens >= max_tokens:
            raise ValueError("overlap must be smaller than the chunk size")
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self._encoding = get_encoding()

    def _count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def _pieces(self, body: str) -> list[tuple[Span, int]]:
        """Sentences with token counts; over-long sentences are cut at token boundaries."""
        pieces: list[tuple[Span, int]] = []
        spans = sentence_spans(body)
        counts = self._encoding.encode_ordinary_batch([body[s.start : s.end] for s in spans])
        for span, tokens in zip(spans, counts, strict=True):
            if len(tokens) <= self.max_tokens:
                pieces.append((span, len(tokens)))
                continue
            pos = span.start
            for i in range(0, len(tokens), self.max_tokens):
                part = self._encoding.decode(tokens[i : i + self.max_tokens])
                found = body.find(part.strip()[:20], pos)
                part_end = min(span.end, (found if found >= 0 else pos) + len(part.strip()))
                if i + self.max_tokens >= len(tokens):
                    part_end = span.end
                pieces.extend((s, self._count(body[s.start : s.end])) for s in _trimmed(body, pos, part_end))
                pos = part_end
        return pieces

    def split(self, article_id: str, body: str) -> list[Chunk]:
        """Chunks covering ``body`` in order; ids are ``<article_id>:<n>``."""
        pieces = self._pieces(body)
        chunks: list[Chunk] = []
        i = 0
        while i < len(pieces):
            total = 0
            j = i
            while j < len(pieces) and (j == i or total + pieces[j][1] + 1 <= self.max_tokens):
                total += pieces[j][1] + (1 if j > i else 0)
                j += 1
            start, end = pieces[i][0].start, pieces[j - 1][0].end
            text = body[start:end]
            tokens = self._count(text)
            while tokens > self.max_tokens and j - 1 > i:  # joins can add a token or two
                j -= 1
                end = pieces[j - 1][0].end
                text = body[start:end]
                tokens = self._count(text)
            chunks.append(
                Chunk(
                    id=f"{article_id}:{len(chunks):04d}",
                    article_id=article_id,
                    index=len(chunks),
                    text=text,
                    start=start,
                    end=end,
                    tokens=tokens,
                )
            )
            if j >= len(pieces):
                break
            # Step back whole sentences for overlap, always making progress.
            back = j
            overlap = 0
            while back - 1 > i and overlap + pieces[back - 1][1] <= self.overlap_tokens:
                back -= 1
                overlap += pieces[back][1]
            i = back
        return chunks
