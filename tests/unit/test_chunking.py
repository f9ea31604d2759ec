from __future__ import annotations

import itertools
import json

import pytest

from index.chunking import Chunker, sentence_spans
from index.tokens import count_tokens
from tests.conftest import MULTIHOP_CORPUS, SEED_ARTICLE, needs_multihop


def test_sentences_respect_abbreviations_and_citations() -> None:
    text = "U.S. President Trump spoke on Monday. Talks stalled [1][3]. Mr. Lavrov said 3.5 percent. Done!"
    got = [text[s.start : s.end] for s in sentence_spans(text)]
    assert got == [
        "U.S. President Trump spoke on Monday.",
        "Talks stalled [1][3].",
        "Mr. Lavrov said 3.5 percent.",
        "Done!",
    ]


def test_paragraph_break_always_splits() -> None:
    text = "A headline without a period\n\nThe first sentence. The second."
    got = [text[s.start : s.end] for s in sentence_spans(text)]
    assert got == ["A headline without a period", "The first sentence.", "The second."]


@pytest.mark.parametrize("max_tokens,overlap", [(256, 32), (64, 16), (40, 0)])
def test_chunks_fit_budget_and_spans_are_exact(max_tokens: int, overlap: int) -> None:
    body = SEED_ARTICLE.read_text()
    chunks = Chunker(max_tokens, overlap).split("abc", body)
    assert chunks, "no chunks"
    for i, chunk in enumerate(chunks):
        assert chunk.id == f"abc:{i:04d}"
        assert chunk.text == body[chunk.start : chunk.end]
        assert chunk.tokens == count_tokens(chunk.text) <= max_tokens
    # Every non-space character of the body is in some chunk.
    covered = [False] * len(body)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    missing = [i for i, ch in enumerate(body) if not ch.isspace() and not covered[i]]
    assert not missing, body[missing[0] : missing[0] + 40]
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_chunks_are_sentence_aligned() -> None:
    body = SEED_ARTICLE.read_text()
    starts = {s.start for s in sentence_spans(body)}
    ends = {s.end for s in sentence_spans(body)}
    for chunk in Chunker(64, 16).split("x", body):
        assert chunk.start in starts and chunk.end in ends


def test_overlap_repeats_trailing_sentences() -> None:
    body = " ".join(f"Sentence number {i} talks about the summit." for i in range(60))
    chunks = Chunker(64, 24).split("x", body)
    assert len(chunks) > 3
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))


def test_overlong_sentence_is_cut_within_budget() -> None:
    body = "word " * 2000 + "end."
    chunks = Chunker(100, 10).split("x", body)
    assert len(chunks) >= 20
    assert all(c.tokens <= 100 for c in chunks)
    assert chunks[-1].text.endswith("end.")


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ValueError):
        Chunker(32, 32)


@needs_multihop
def test_real_news_chunks_stay_within_256_tokens() -> None:
    records = json.loads(MULTIHOP_CORPUS.read_text())[:40]
    chunker = Chunker(256, 32)
    for record in records:
        for chunk in chunker.split("r", record["body"]):
            assert chunk.tokens <= 256
            assert chunk.text == record["body"][chunk.start : chunk.end]
