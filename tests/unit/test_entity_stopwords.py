"""Digest clustering's stop words are a checked data file, and capitalised_words reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from bot.digest import entities
from bot.digest.entities import STOPWORDS_FILE, EntityStopwords, capitalised_words, entity_stopwords


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))
    return data


def test_the_shipped_list_loads_with_months_and_weekdays_from_the_dates_module() -> None:
    words = entity_stopwords()
    assert {"president", "reuters", "tuesday", "sept", "december"} <= words.all
    assert "tuesday" not in words.words  # not repeated in the file
    assert words.stop_even_in_capitals <= words.all


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("words", ["Reuters"], "lower case"),
        ("words", ["said", "said"], "unique"),
        ("stop_even_in_capitals", ["nasa"], "not stop words"),
    ],
)
def test_bad_lists_are_rejected(field: str, value: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EntityStopwords.model_validate(_data() | {field: value})


def test_capitalised_words_follow_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Officials in Kell said Reuters saw the US report on Tuesday."
    mid, _ = capitalised_words(text)
    assert "kell" in mid and "us" in mid  # a stop word in capitals is a name
    assert "reuters" not in mid and "tuesday" not in mid
    data = _data()
    data["words"] = [w for w in data["words"] if w != "reuters"]
    monkeypatch.setattr(entities, "entity_stopwords", lambda: EntityStopwords.model_validate(data))
    assert "reuters" in capitalised_words(text)[0]
