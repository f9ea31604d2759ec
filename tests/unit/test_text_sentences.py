"""Sentences, the one home: as stored and checked (``sentences_of``) and as readers see them quoted."""

from __future__ import annotations

from bot.core.text.nlp import annotation_texts
from bot.core.text.sentences import plain_sentences, sentences_of

CHUNK = "Mill Lane fire\nThe fire started in a storage room [3]. Crews arrived at 2am.\n[1][2]\nNo one was hurt."


def test_plain_sentences_are_the_sentences_without_the_articles_markers() -> None:
    assert sentences_of(CHUNK)[:2] == ["Mill Lane fire", "The fire started in a storage room [3]."]
    assert plain_sentences(CHUNK) == [
        "Mill Lane fire",
        "The fire started in a storage room.",
        "Crews arrived at 2am.",
        "No one was hurt.",
    ]


def test_a_passage_without_markers_stores_each_sentence_once() -> None:
    """Answerability and disagreements read the same strings, so ingest parses each one once."""
    text = "Crews arrived at 2am.\nThe council met on Tuesday. It approved the budget."
    assert plain_sentences(text) == sentences_of(text)
    assert annotation_texts("Budget approved", text) == ["Budget approved", *sentences_of(text)]


def test_a_sentence_with_markers_is_stored_as_written_and_as_quoted() -> None:
    texts = annotation_texts("", CHUNK)
    assert "The fire started in a storage room [3]." in texts
    assert "The fire started in a storage room." in texts
    assert len(texts) == len(set(texts))
