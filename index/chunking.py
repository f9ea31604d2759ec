"""Token-aware, sentence-aligned chunking with exact character spans.

Chunks never cut a sentence unless the sentence alone exceeds the budget, and a
chunk's text is always ``body[start:end]`` so a citation can point at the passage.
"""

from __future__ import annotations

from bot.core.text.sentences import Span, sentence_spans, trimmed
from index.models import Chunk
from index.tokens import get_encoding


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
        # One call per sentence: encode_ordinary_batch starts a thread pool per call (10 ms an article).
        counts = [self._encoding.encode_ordinary(body[s.start : s.end]) for s in spans]
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
                pieces.extend((s, self._count(body[s.start : s.end])) for s in trimmed(body, pos, part_end))
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
