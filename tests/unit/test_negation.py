"""Negation and stance words are one data file with a schema, shared by every rule that needs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.core.text.negation import NEGATION_FILE, NegationWords, is_negated, negators, stance


def _data() -> dict[str, object]:
    return json.loads(NEGATION_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_matches_its_schema() -> None:
    words = NegationWords.load()
    assert "not" in words.negators and "denied" in words.denial_verbs


@pytest.mark.parametrize(
    "change", [{"negators": ["Not"]}, {"hedges": []}, {"falsity": ["false", "false"]}, {"moods": ["x"]}]
)
def test_the_schema_rejects_bad_lists(change: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "negation.json"
    path.write_text(json.dumps(_data() | change), encoding="utf-8")
    with pytest.raises(ValidationError):
        NegationWords.load(path)


def test_without_asserts_and_denial_negates() -> None:
    assert "without" not in negators()
    assert not is_negated("The phone ships without a headphone jack.")
    assert is_negated("The club denied the transfer.")
    assert is_negated("The pitch isn't ready.")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Rumours that the two clubs had agreed a fee are false, the chairman said.", "deny"),
        ("Claims that the vote was held in secret are baseless.", "deny"),
        ("The council has not yet decided when the bridge reopens.", "deny"),
        ("The concert went ahead despite the rain.", "affirm"),
        ("The festival is expected to take place in June.", "uncertain"),
        ("The river rose two metres overnight.", "neutral"),
    ],
)
def test_stance_on_sentences_outside_the_samples(sentence: str, expected: str) -> None:
    assert stance(sentence) == expected


def test_opposite_pairs_are_a_checked_data_file(tmp_path: Path) -> None:
    from bot.core.text.words import OPPOSITES_FILE, Analyzer, OppositeWords

    assert ("rise", "fall") in OppositeWords.load().pairs
    assert Analyzer.english().opposite_in({"rose"}, {"fell"}) is not None
    data = json.loads(OPPOSITES_FILE.read_text(encoding="utf-8"))
    for bad in ([["rise", "rise"]], [["rise", "fall"], ["fall", "rise"]], [["Rise", "fall"]]):
        path = tmp_path / "opposites.json"
        path.write_text(json.dumps(data | {"pairs": bad}), encoding="utf-8")
        with pytest.raises(ValidationError):
            OppositeWords.load(path)
