""" "Since last digest": the newest sentences of a continuing story that the last digest did not say.

Candidates are the opening sentences of the window's articles, newest article
first (ledes carry the news); one is new when its cosine to every sentence of
the previous summary stays below ``threshold``, or below ``threshold_with_number``
when it states a number the previous summary did not ("all 50 hostages" after
"hostages in stages": same topic to the embedding, new fact to a reader).
The line may repeat a sentence of the story's summary: the lede usually is the
news. Only a few sentences per story are embedded, so this stays cheap.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.models import CitedSentence
from bot.core.text.sanitize import quoted
from bot.core.text.sentences import sentence_spans
from index.embeddings import NamedEmbeddings, embed_array

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# all-MiniLM-L6-v2: the same fact reworded scores ~0.75-0.95 against itself; a new
# development on the same story (repairs → footpath reopening) ~0.45-0.7.
NOVELTY_THRESHOLD = 0.72
NOVELTY_WITH_NUMBER = 0.85
LEDE_SENTENCES = 3
MAX_CANDIDATES = 12
NO_NEWS = "Further coverage, but no new details since the last digest."


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of one of the window's articles, with the digest number of its source."""

    text: str
    source_number: int


def candidates_from(passages: Sequence[tuple[str, int]], per_passage: int = LEDE_SENTENCES) -> list[Candidate]:
    """The first sentences of each (text, source number), in the order given (newest first)."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for text, number in passages:
        taken = 0
        for span in sentence_spans(text):
            sentence = quoted(text[span.start : span.end])
            words = len(sentence.split())
            if words < 8 or words > 70 or sentence.endswith("?") or sentence in seen:
                continue
            seen.add(sentence)
            out.append(Candidate(sentence, number))
            taken += 1
            if taken >= per_passage:
                break
    return out


class NoveltyFinder:
    def __init__(
        self,
        embeddings: NamedEmbeddings,
        threshold: float = NOVELTY_THRESHOLD,
        threshold_with_number: float = NOVELTY_WITH_NUMBER,
        max_new: int = 1,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        self.embeddings = embeddings
        self.threshold = threshold
        self.threshold_with_number = threshold_with_number
        self.max_new = max_new
        self.max_candidates = max_candidates

    def new_sentences(self, candidates: Sequence[Candidate], previous: Sequence[str]) -> list[CitedSentence]:
        """Up to ``max_new`` candidates unlike anything in ``previous``, in candidate order."""
        pool = list(candidates)[: self.max_candidates]
        if not pool:
            return []
        if previous:
            vectors = embed_array(self.embeddings, [c.text for c in pool] + list(previous))
            mine, before = vectors[: len(pool)], vectors[len(pool) :]
            closest = (mine @ before.T).max(axis=1)
        else:
            closest = np.zeros(len(pool), dtype=np.float32)
        known_numbers = {n for text in previous for n in _NUMBER.findall(text)}
        novel: list[Candidate] = []
        for candidate, score in zip(pool, closest, strict=True):
            new_number = any(n not in known_numbers for n in _NUMBER.findall(candidate.text))
            limit = self.threshold_with_number if new_number else self.threshold
            if score < limit:
                novel.append(candidate)
            else:
                log.debug("not new (%.2f): %s", score, candidate.text[:80])
        return [CitedSentence(c.text, (c.source_number,), 1.0, True) for c in novel[: self.max_new]]
