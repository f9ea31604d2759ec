"""The page-furniture lists are a data file with a schema, read by the cleaner and the digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from index.page_furniture import PAGE_FURNITURE_FILE, PageFurniture


def _data() -> dict[str, object]:
    return json.loads(PAGE_FURNITURE_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_matches_its_schema() -> None:
    furniture = PageFurniture.load()
    assert "share this article" in furniture.lines
    assert furniture.tail_markers <= furniture.lines  # a tail heading alone on a line is furniture too


@pytest.mark.parametrize(
    ("field", "bad"),
    [("lines", ["Share This"]), ("lines", []), ("sentence_phrases", ["sign up", "sign up"]), ("lines", ["a  b"])],
)
def test_the_schema_rejects_unnormalised_empty_or_repeated_entries(field: str, bad: list[str], tmp_path: Path) -> None:
    data = _data() | {field: bad}
    path = tmp_path / "furniture.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError):
        PageFurniture.load(path)


def test_the_schema_rejects_unknown_lists(tmp_path: Path) -> None:
    path = tmp_path / "furniture.json"
    path.write_text(json.dumps(_data() | {"banners": ["x"]}), encoding="utf-8")
    with pytest.raises(ValidationError):
        PageFurniture.load(path)


def test_patterns_match_lines_not_sentences_that_mention_the_words() -> None:
    furniture = PageFurniture.load()
    assert furniture.promo.match("Read also: Markets slide as rates rise")
    assert not furniture.promo.match("Read also the statement in full, the minister said.")
    assert furniture.cookie_notice.match("We use cookies to improve your experience.")
    assert furniture.advert.match("Advertisement - scroll to continue")
    assert furniture.sentence_furniture.search("Sign up for our newsletter to get the latest.")
    assert not furniture.sentence_furniture.search("The council signed the contract on Monday.")
