"""What answers and digests need from lower packages, as structural types.

Both check the passages they are about to show against moderators' flagged claims, and
read the spaCy parses stored at ingest for them; tests pass small fakes with the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.core.models import Passage, Source


class PassageAnnotations(Protocol):
    """Reads the parses stored at ingest for passages about to be analysed (index.annotations.StoredAnnotations)."""

    def prime(self, passages: Sequence[Passage]) -> None: ...


class ClaimLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def verdict(self) -> str: ...

    @property
    def note(self) -> str: ...

    @property
    def flagged_at(self) -> datetime: ...


class ClaimMatchLike(Protocol):
    @property
    def claim(self) -> ClaimLike: ...

    @property
    def passage_index(self) -> int: ...

    @property
    def sentence(self) -> str: ...


class ClaimMatcherLike(Protocol):
    """:class:`bot.claims.matching.ClaimMatcher`: flagged claims repeated in passages."""

    def match(self, passages: Sequence[str]) -> Sequence[ClaimMatchLike]: ...


def claims_in_sources(matcher: ClaimMatcherLike, sources: Sequence[Source]) -> list[tuple[int, ClaimMatchLike]]:
    """Each flagged claim found in the sources' passages once, with the number of its source."""
    owners = [source.number for source in sources for _ in source.passages]
    texts = [passage.text for source in sources for passage in source.passages]
    found: dict[int, tuple[int, ClaimMatchLike]] = {}
    for match in matcher.match(texts) if texts else ():
        if match.claim.id not in found and 0 <= match.passage_index < len(owners):
            found[match.claim.id] = (owners[match.passage_index], match)
    return list(found.values())
