"""The page-furniture word lists (navigation, sharing, sign-up, cookie lines) as one data file.

The lists are data, not engine code: `page_furniture.json` beside this module, checked by the
schema below when it is loaded, so a new entry is a reviewed data change with a test, and the
cleaner (whole lines) and the digest (sentences) read the same file.
"""

from __future__ import annotations

import json
import re
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

PAGE_FURNITURE_FILE = Path(__file__).with_name("page_furniture.json")


class PageFurniture(BaseModel):
    """Lists of furniture; every entry lower case, single-spaced and unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    lines: frozenset[str]  # a whole line that is only this ("Share this article")
    tail_markers: frozenset[str]  # a heading after which the page lists other stories
    promo_prefixes: tuple[str, ...]  # "Read also: <headline>"
    cookie_notice_openings: tuple[str, ...]  # "We use cookies to …"
    advert_openings: tuple[str, ...]  # "Advertisement - scroll to continue"
    reference_headings: frozenset[str]  # the heading of a trailing "[1] …" reference list
    sentence_phrases: tuple[str, ...]  # a sentence holding one is not a summary sentence

    @field_validator(
        "lines",
        "tail_markers",
        "promo_prefixes",
        "cookie_notice_openings",
        "advert_openings",
        "reference_headings",
        "sentence_phrases",
    )
    @classmethod
    def _normalised(cls, entries: frozenset[str] | tuple[str, ...]) -> frozenset[str] | tuple[str, ...]:
        if not entries:
            raise ValueError("a list must not be empty")
        for entry in entries:
            if entry != " ".join(entry.lower().split()) or not entry:
                raise ValueError(f"entry {entry!r}: lower case, single spaces, not empty")
        if isinstance(entries, tuple) and len(set(entries)) != len(entries):
            raise ValueError("entries must be unique")
        return entries

    @cached_property
    def promo(self) -> re.Pattern[str]:
        """ "Read also: …", "Watch | …": a prefix, then a separator, then a headline."""
        return re.compile(rf"^{_any(self.promo_prefixes)}\s*[:|»›>\-–—]\s*\S", re.IGNORECASE)

    @cached_property
    def cookie_notice(self) -> re.Pattern[str]:
        return re.compile(rf"^{_any(self.cookie_notice_openings)}\b", re.IGNORECASE)

    @cached_property
    def advert(self) -> re.Pattern[str]:
        return re.compile(rf"^{_any(self.advert_openings)}\b", re.IGNORECASE)

    @cached_property
    def sentence_furniture(self) -> re.Pattern[str]:
        return re.compile(rf"\b{_any(self.sentence_phrases)}\b", re.IGNORECASE)

    def in_sentence(self, text: str) -> bool:
        """Does the sentence carry page furniture ("Sign up for our newsletter")?"""
        return self.sentence_furniture.search(text) is not None

    @classmethod
    def load(cls, path: Path = PAGE_FURNITURE_FILE) -> PageFurniture:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _any(phrases: tuple[str, ...]) -> str:
    """One alternation of the phrases, longest first, spaces matching any run of whitespace."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered) + ")"


@lru_cache(maxsize=1)
def page_furniture() -> PageFurniture:
    """The shipped lists, read once on first use (not at import)."""
    return PageFurniture.load()
