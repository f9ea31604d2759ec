"""Where the sources behind an answer disagree, phrased for readers: "… [2] vs … [4]"."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.core.models import Source
from bot.core.text.negation import stance
from bot.core.text.words import Analyzer
from bot.verify.contradictions import (
    Contradiction,
    ContradictionKind,
    Statement,
    detect_contradictions,
    statements_from_text,
)

log = logging.getLogger(__name__)


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class ContradictionFinder(Protocol):
    def find(self, statements: Sequence[Statement]) -> list[Contradiction]: ...


class SourceDisagreements:
    """Runs the rule-based contradiction detector over the cited sources' passages (bounded work)."""

    def __init__(
        self,
        max_statements: int = 40,
        max_reported: int = 2,
        negation_overlap: float = 0.5,
        finder: ContradictionFinder | None = None,
    ) -> None:
        self.finder = finder
        self.max_statements = max_statements
        self.max_reported = max_reported
        self.negation_overlap = negation_overlap
        self._analyzer = Analyzer.english()

    def find(self, sources: Sequence[Source]) -> list[Contradiction]:
        statements = []
        for source in sources:
            published = source.published_at.date() if source.published_at else None
            for passage in source.passages:
                statements.extend(statements_from_text(passage.text, source.number, published))
        if self.finder is not None:
            return self.finder.find(statements[: self.max_statements])
        return detect_contradictions(statements[: self.max_statements])

    def relevant(self, found: Contradiction) -> bool:
        """Cross-source conflicts only; a negation must concern nearly the same statement.

        The negation rule fires on shared entities, which in an answer's sources is most
        sentences ("have not met since 2019" vs "a meeting is being discussed"), so readers
        only see negations where one sentence affirms and the other denies, and the two
        share most of their content words.
        """
        a, b = found.a, found.b
        if b is None or a.source_number == b.source_number:
            return False
        if self.finder is not None:
            return True
        if found.kind == ContradictionKind.DATE:
            # Fires on any two dates near shared names ("as of 5 April" vs "not met since
            # December 2019"); too noisy to show readers or moderators.
            return False
        if found.kind != ContradictionKind.NEGATION:
            return True
        if {stance(a.text), stance(b.text)} != {"affirm", "deny"}:
            return False
        wa, wb = self._analyzer.content_words(a.text), self._analyzer.content_words(b.text)
        overlap = len(wa & wb) / min(len(wa), len(wb)) if wa and wb else 0.0
        return overlap >= self.negation_overlap

    def __call__(self, sources: Sequence[Source]) -> list[str]:
        lines: list[str] = []
        pairs: set[frozenset[int]] = set()
        for found in self.find(sources):
            if not self.relevant(found) or found.b is None:
                continue
            a, b = found.a, found.b
            pair = frozenset((a.source_number, b.source_number))
            if pair in pairs:  # one line per pair of sources is enough to send readers to both
                continue
            pairs.add(pair)
            lines.append(f"{_short(a.text)} [{a.source_number}] vs {_short(b.text)} [{b.source_number}]")
            if len(lines) >= self.max_reported:
                break
        return lines
