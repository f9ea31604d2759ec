"""The BM25 sidecar: chunk and best-sentence scores, persistence, and rebuilding old layouts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.bm25 import BM25Index

# Chunk 1 repeats the question's words across unrelated sentences; chunk 0 says it in one sentence.
PASSAGES = [
    "The port reopened after the storm. Regulators fined the airline over cancelled flights. "
    "Tourists returned to the old town.",
    "Regulators met on Tuesday. The airline posted results, and regulators praised the airline. "
    "Flights resumed. Plans were cancelled for the fined crew. Flights were full.",
    "A new bakery opened near the river.",
]
QUESTION = "Did regulators fine the airline for cancelled flights?"


def build() -> BM25Index:
    texts = [f"Travel news\nHarbour Post\n{p}" for p in PASSAGES]
    return BM25Index.build(["a", "b", "c"], texts, "stamp-1", passages=PASSAGES)


def test_best_sentence_scores_tell_neighbouring_chunks_apart() -> None:
    index = build()
    chunks, sentences = index.scores_with_sentences(QUESTION)
    assert chunks[1] > chunks[0], "whole-chunk BM25 prefers the chunk that repeats the words"
    assert sentences[0] > sentences[1], "the sentence that says it wins at sentence level"
    assert chunks[2] == 0 and sentences[2] == 0
    empty_chunks, empty_sentences = index.scores_with_sentences("the of and")
    assert not empty_chunks.any() and not empty_sentences.any()


def test_sidecar_round_trip_keeps_sentence_scores(tmp_path: Path) -> None:
    index = build()
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert loaded is not None and loaded.ids == ["a", "b", "c"] and loaded.stamp == "stamp-1"
    for mine, theirs in zip(index.scores_with_sentences(QUESTION), loaded.scores_with_sentences(QUESTION), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_sidecar_of_an_older_layout_is_not_used(tmp_path: Path) -> None:
    build().save(tmp_path / "bm25")
    stamp = tmp_path / "bm25" / "stamp.json"
    stamp.write_text(json.dumps({"stamp": "stamp-1"}))  # what the first layout wrote
    assert BM25Index.load(tmp_path / "bm25") is None, "an old sidecar must be rebuilt, not half-read"


def test_empty_index_scores_nothing(tmp_path: Path) -> None:
    index = BM25Index.build([], [], "empty")
    chunks, sentences = index.scores_with_sentences(QUESTION)
    assert chunks.shape == (0,) and sentences.shape == (0,)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert loaded is not None and loaded.ids == []
