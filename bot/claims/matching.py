"""Find flagged claims repeated in text (answers, articles) and calibrate the match threshold.

A sentence matches an open claim when both hold:

1. **meaning** — cosine(sentence, claim) ≥ ``threshold`` with the local MiniLM
   embeddings (claim vectors are computed once when the claim is flagged, stored
   with it, and cached here by claim id);
2. **wording** — a lexical check that rejects what embeddings confuse:
   * at least ``min_overlap`` (default 0.5) of the claim's content-word stems
     appear in the sentence (bm25s English stopwords removed, Snowball stems,
     ``U.S.``/``US`` unified, citation markers and possessives dropped);
   * the same polarity: a sentence that negates the claim (not, no, never, n't,
     denied, ...) states the opposite and is not a repeat of it;
   * the claim's numbers appear in the sentence whenever the sentence has numbers
     ("48 hostages" does not repeat "50 hostages").

:func:`calibrate` picks the threshold on a labelled set of (claim, sentence) pairs,
``tests/data/claim_pairs.jsonl``; ``benchmarks/claims_threshold.py`` prints the table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.claims.service import ClaimView, Embedder
from bot.core.text.negation import is_negated
from bot.core.text.normalize import is_number
from bot.core.text.sentences import sentences_of
from bot.core.text.words import Analyzer

log = logging.getLogger(__name__)

# Calibrated with `python benchmarks/claims_threshold.py` = calibrate(load_pairs(
# "tests/data/claim_pairs.jsonl"), LocalMiniLMEmbeddings()), objective: best recall at
# precision >= 0.9, lexical check on. On those 165 pairs (66 positive) 0.74 gives
# precision 0.930, recall 1.000, F1 0.964 (embeddings alone, best F1: P 0.68, R 0.91, F1 0.78).
# The opposite-word list in bot.core.text.words was written while looking at this set, so
# those numbers are optimistic; on tests/data/claim_pairs_holdout.jsonl (60 pairs, 24
# positive, written afterwards) the first blind run gave precision 0.71, recall 1.00,
# and after generic fixes (irregular verbs, "won" kept) precision 0.86, recall 1.00.
DEFAULT_MATCH_THRESHOLD = 0.74
MIN_LEXICAL_OVERLAP = 0.5
CALIBRATION_GRID = tuple(round(0.3 + 0.05 * step, 2) for step in range(14))  # 0.30 .. 0.95


class OpenClaimsSource(Protocol):
    """Anything that lists the open claims, e.g. :class:`bot.claims.service.ClaimsService`."""

    def open_claims(self) -> list[ClaimView]: ...


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """A sentence of passage ``passage_index`` that repeats ``claim``."""

    claim: ClaimView
    passage_index: int
    sentence: str
    similarity: float
    overlap: float


@dataclass(frozen=True, slots=True)
class LexicalCheck:
    ok: bool
    overlap: float
    reason: str


def lexical_check(
    analyzer: Analyzer, claim: str, sentence: str, min_overlap: float = MIN_LEXICAL_OVERLAP
) -> LexicalCheck:
    """Does the wording of ``sentence`` confirm it repeats ``claim``? See the module docstring."""
    claim_words = analyzer.content_words(claim)
    sentence_words = analyzer.content_words(sentence)
    overlap = len(claim_words & sentence_words) / len(claim_words) if claim_words else 0.0
    if is_negated(claim) != is_negated(sentence):
        return LexicalCheck(False, overlap, "opposite polarity")
    claim_numbers = {w for w in claim_words if is_number(w)}
    sentence_numbers = {w for w in sentence_words if is_number(w)}
    if claim_numbers and sentence_numbers and not claim_numbers <= sentence_numbers:
        return LexicalCheck(False, overlap, "different numbers")
    opposite = analyzer.opposite_in(claim_words, sentence_words)
    if opposite is not None:
        return LexicalCheck(False, overlap, f"opposite wording ({opposite[0]}/{opposite[1]})")
    if overlap < min_overlap:
        return LexicalCheck(False, overlap, "too few shared words")
    return LexicalCheck(True, overlap, "ok")


class ClaimMatcher:
    """Matches sentences of passages against the open claims.

    Built from a claims source (re-read on every :meth:`match`, so new flags count
    at once) or a fixed list of claims. Stored claim vectors are used when they
    come from the same model as ``embedder``; others are embedded once and cached.
    """

    def __init__(
        self,
        claims: OpenClaimsSource | Sequence[ClaimView],
        embedder: Embedder,
        threshold: float = DEFAULT_MATCH_THRESHOLD,
        min_overlap: float = MIN_LEXICAL_OVERLAP,
    ) -> None:
        self._source = claims
        self.embedder = embedder
        self.embedding_model = str(getattr(embedder, "model_name", type(embedder).__name__))
        self.threshold = threshold
        self.min_overlap = min_overlap
        self._vectors: dict[int, np.ndarray] = {}

    def _open_claims(self) -> list[ClaimView]:
        if isinstance(self._source, Sequence):
            return [c for c in self._source if c.is_open]
        return self._source.open_claims()

    def _claim_matrix(self, claims: Sequence[ClaimView]) -> np.ndarray:
        missing = [c for c in claims if c.id not in self._vectors]
        stored = [c for c in missing if c.embedding is not None and c.embedding_model == self.embedding_model]
        for claim in stored:
            assert claim.embedding is not None
            self._vectors[claim.id] = np.asarray(claim.embedding, dtype=np.float32)
        to_embed = [c for c in missing if c.id not in self._vectors]
        if to_embed:
            log.debug("embedding %d claims without a stored vector for this model", len(to_embed))
            for claim, vector in zip(to_embed, self.embedder.embed_array([c.text for c in to_embed]), strict=True):
                self._vectors[claim.id] = np.asarray(vector, dtype=np.float32)
        return np.stack([self._vectors[c.id] for c in claims])

    def match(self, passages: Sequence[str]) -> list[ClaimMatch]:
        """The best-matching sentence per (passage, claim), by passage then similarity."""
        claims = self._open_claims()
        sentences = [(p, s) for p, passage in enumerate(passages) for s in sentences_of(passage)]
        if not claims or not sentences:
            return []
        claim_matrix = self._claim_matrix(claims)
        sentence_matrix = self.embedder.embed_array([s for _, s in sentences])
        similarity = sentence_matrix @ claim_matrix.T
        analyzer = Analyzer.english()
        best: dict[tuple[int, int], ClaimMatch] = {}
        for row, col in zip(*np.nonzero(similarity >= self.threshold), strict=True):
            passage_index, sentence = sentences[row]
            claim = claims[col]
            check = lexical_check(analyzer, claim.text, sentence, self.min_overlap)
            if not check.ok:
                log.debug("claim #%d vs %r rejected: %s", claim.id, sentence[:80], check.reason)
                continue
            found = ClaimMatch(claim, passage_index, sentence, float(similarity[row, col]), check.overlap)
            key = (passage_index, claim.id)
            if key not in best or found.similarity > best[key].similarity:
                best[key] = found
        return sorted(best.values(), key=lambda m: (m.passage_index, -m.similarity, m.claim.id))


# --- calibration --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimPair:
    claim: str
    sentence: str
    label: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """The chosen threshold and its scores, plus the table of every threshold tried."""

    threshold: float
    precision: float
    recall: float
    f1: float
    n_pairs: int
    n_positive: int
    table: tuple[CalibrationRow, ...]


def load_pairs(path: str | Path) -> list[ClaimPair]:
    """Labelled pairs from JSON lines ``{"claim", "sentence", "label", "note"?}``."""
    pairs: list[ClaimPair] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        label = int(record["label"])
        if label not in (0, 1):
            raise ValueError(f"{path}:{number}: label must be 0 or 1")
        pairs.append(ClaimPair(record["claim"], record["sentence"], label, record.get("note", "")))
    return pairs


def _row(threshold: float, scores: np.ndarray, gate: np.ndarray, labels: np.ndarray) -> CalibrationRow:
    predicted = gate & (scores >= threshold)
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return CalibrationRow(round(threshold, 3), precision, recall, f1, tp, fp, fn)


def pair_scores(
    pairs: Sequence[ClaimPair], embedder: Embedder, min_overlap: float = MIN_LEXICAL_OVERLAP
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity and lexical-check outcome of every pair."""
    claims = embedder.embed_array([p.claim for p in pairs])
    sentences = embedder.embed_array([p.sentence for p in pairs])
    scores = np.sum(claims * sentences, axis=1)
    analyzer = Analyzer.english()
    gate = np.array([lexical_check(analyzer, p.claim, p.sentence, min_overlap).ok for p in pairs], dtype=bool)
    return scores, gate


def calibrate(
    pairs: Sequence[ClaimPair],
    embedder: Embedder,
    *,
    min_precision: float | None = 0.9,
    use_lexical_check: bool = True,
    min_overlap: float = MIN_LEXICAL_OVERLAP,
    grid: Iterable[float] = CALIBRATION_GRID,
) -> CalibrationResult:
    """Choose the match threshold on labelled pairs.

    With ``min_precision`` the threshold with the best recall among those reaching
    that precision wins (a false "this repeats a flagged claim" costs more than a
    miss); without it, or if no threshold reaches it, the best F1. The threshold is
    put halfway between the last accepted score and the next lower one, so it does
    not sit on a data point. ``table`` has the ``grid`` rows plus the chosen one.
    """
    if not pairs:
        raise ValueError("no pairs to calibrate on")
    scores, gate = pair_scores(pairs, embedder, min_overlap)
    if not use_lexical_check:
        gate = np.ones_like(gate)
    labels = np.array([p.label == 1 for p in pairs], dtype=bool)
    candidates = np.unique(scores[gate])[::-1]
    rows: list[tuple[CalibrationRow, float]] = []
    for index, score in enumerate(candidates):
        lower = float(candidates[index + 1]) if index + 1 < len(candidates) else float(score) - 0.02
        midpoint = round((float(score) + lower) / 2, 3)
        rows.append((_row(midpoint, scores, gate, labels), float(score)))
    if not rows:
        raise ValueError("no pair passes the lexical check")

    def by_f1(item: tuple[CalibrationRow, float]) -> tuple[float, float, float]:
        row = item[0]
        return row.f1, row.precision, row.threshold

    eligible = [r for r in rows if min_precision is not None and r[0].precision >= min_precision]
    if eligible:
        chosen = max(eligible, key=lambda item: (item[0].recall, *by_f1(item)))[0]
    else:
        chosen = max(rows, key=by_f1)[0]
    table = sorted({_row(t, scores, gate, labels) for t in grid} | {chosen}, key=lambda r: r.threshold)
    log.info("calibrated threshold %.3f: P %.3f R %.3f F1 %.3f", chosen.threshold, *_prf(chosen))
    return CalibrationResult(
        threshold=chosen.threshold,
        precision=chosen.precision,
        recall=chosen.recall,
        f1=chosen.f1,
        n_pairs=len(pairs),
        n_positive=int(labels.sum()),
        table=tuple(table),
    )


def evaluate(
    pairs: Sequence[ClaimPair],
    embedder: Embedder,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    min_overlap: float = MIN_LEXICAL_OVERLAP,
) -> CalibrationRow:
    """Precision, recall and F1 of the matcher's decision at a fixed threshold (e.g. on held-out pairs)."""
    if not pairs:
        raise ValueError("no pairs to evaluate")
    scores, gate = pair_scores(pairs, embedder, min_overlap)
    labels = np.array([p.label == 1 for p in pairs], dtype=bool)
    return _row(threshold, scores, gate, labels)


def _prf(row: CalibrationRow) -> tuple[float, float, float]:
    return row.precision, row.recall, row.f1
