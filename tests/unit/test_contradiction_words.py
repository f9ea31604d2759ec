"""The contradiction rules' vocabulary is a checked data file, and the rules read it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from bot.verify import contradictions
from bot.verify.contradictions import (
    CONTRADICTION_WORDS_FILE,
    ContradictionWords,
    Statement,
    contradiction_words,
    detect_contradictions,
)


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CONTRADICTION_WORDS_FILE.read_text(encoding="utf-8"))
    return data


def test_the_shipped_file_loads() -> None:
    words = contradiction_words()
    assert "president" in words.titles and words.weak_titles <= words.titles
    assert words.countries["american"] == words.countries["usa"] == "usa"
    assert words.future.search("The talks will resume") and not words.future.search("The talks resumed")
    assert words.approximate.search("an estimated ") and not words.approximate.search("exactly ")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("titles", ["President"], "lower case"),
        ("weak_titles", ["deputy"], "weak titles that are not titles"),
        ("concepts", {"meeting": []}, "at least one stem"),
        ("countries", {"american": "  usa"}, "single-spaced"),
        ("surprise", [], "Extra inputs"),
    ],
)
def test_bad_entries_are_rejected(field: str, value: object, message: str) -> None:
    data = _data() | {field: value}
    with pytest.raises(ValidationError, match=message):
        ContradictionWords.model_validate(data)


def test_the_rules_follow_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A title the file lists gives a role conflict; without it in the file, none."""
    a = Statement("Chancellor Olaf Scholz spoke on Monday.", 1)
    b = Statement("Former Chancellor Olaf Scholz spoke on Monday.", 2)
    assert any(c.kind == "role" for c in detect_contradictions([a, b]))
    data = _data()
    data["titles"] = [t for t in data["titles"] if t != "chancellor"]
    without = ContradictionWords.model_validate(data)
    monkeypatch.setattr(contradictions, "contradiction_words", lambda: without)
    assert not any(c.kind == "role" for c in detect_contradictions([a, b]))
