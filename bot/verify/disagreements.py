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
from bot.verify.facts import TextAnalyzer, slot_conflict

log = logging.getLogger(__name__)


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _line(a: Statement, b: Statement, outlets: dict[int, str], why: str = "") -> str:
    """ "Outlet A: … [1] vs Outlet B: … [2]", or for one article "Outlet [1] is inconsistent: <why>"."""
    if a.source_number == b.source_number:
        outlet = outlets.get(a.source_number, "one source")
        detail = why or f"{_short(a.text)} vs {_short(b.text)}"
        return f"{outlet} [{a.source_number}] is inconsistent: {detail}"
    return (
        f"{outlets.get(a.source_number, 'one source')}: {_short(a.text)} [{a.source_number}] vs "
        f"{outlets.get(b.source_number, 'another')}: {_short(b.text)} [{b.source_number}]"
    )


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
        analyzer: TextAnalyzer | None = None,
        max_slot_pairs: int = 12,
    ) -> None:
        self.finder = finder
        self.max_statements = max_statements
        self.max_reported = max_reported
        self.negation_overlap = negation_overlap
        self._analyzer = Analyzer.english()
        self.spacy = analyzer
        self.max_slot_pairs = max_slot_pairs

    def slot_conflicts(
        self, sources: Sequence[Source], cited: set[int] | None = None
    ) -> list[tuple[Statement, Statement]]:
        """Cross-source sentence pairs that align but fill a slot differently (entity, number, date).

        With ``cited``, one side of each pair must be a cited source: an uncited source
        that contradicts what the answer says is exactly what readers must be told.
        Cheap word overlap picks the candidate pairs; only those are parsed by spaCy.
        """
        if self.spacy is None:
            return []
        statements: list[Statement] = []
        for source in sources:
            published = source.published_at.date() if source.published_at else None
            for passage in source.passages:
                statements.extend(statements_from_text(passage.text, source.number, published))
        words = [self._analyzer.content_words(s.text) for s in statements]
        candidates: list[tuple[float, int, int]] = []
        for i, a in enumerate(statements):
            for j in range(i + 1, len(statements)):
                if statements[j].source_number == a.source_number or not words[i] or not words[j]:
                    continue
                if cited is not None and not {a.source_number, statements[j].source_number} & cited:
                    continue
                overlap = len(words[i] & words[j]) / min(len(words[i]), len(words[j]))
                if overlap >= 0.5 and words[i] != words[j]:
                    candidates.append((overlap, i, j))
        candidates.sort(reverse=True)
        pairs = [(statements[i], statements[j]) for _, i, j in candidates[: self.max_slot_pairs]]
        texts = [s.text for pair in pairs for s in pair]
        docs = dict(zip(texts, self.spacy.parse_many(texts), strict=True))
        return [(a, b) for a, b in pairs if slot_conflict(docs[a.text], docs[b.text]) is not None]

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
        if b is None:
            return False
        if a.source_number == b.source_number:
            # One article calling the same person by two titles ("U.S. President Trump" and "Former US
            # President Donald Trump") is worth a reader's notice; other same-article pairs are its story's turns.
            return found.kind == ContradictionKind.ROLE
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

    def __call__(self, sources: Sequence[Source], others: Sequence[Source] = ()) -> list[str]:
        """Disagreements among ``sources`` (the cited ones) and between them and ``others`` (retrieved, uncited)."""
        lines: list[str] = []
        pairs: set[frozenset[int]] = set()
        cited = {s.number for s in sources}
        pool = [*sources, *(s for s in others if s.number not in cited)]
        outlets = {s.number: s.outlet for s in pool}
        found = [(f.a, f.b, f.explanation) for f in self.find(sources) if self.relevant(f) and f.b is not None]
        slots = [(a, b, "") for a, b in self.slot_conflicts(pool, cited)]
        for a, b, why in [*slots, *found]:
            if b is None:
                continue
            pair = frozenset((a.source_number, b.source_number))
            if pair in pairs:  # one line per pair of sources is enough to send readers to both
                continue
            pairs.add(pair)
            lines.append(_line(a, b, outlets, why))
            if len(lines) >= self.max_reported:
                break
        return lines
