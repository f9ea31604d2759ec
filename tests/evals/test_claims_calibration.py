"""Quality thresholds of claim matching on the hand-labelled pairs (run with ``pytest tests/evals``).

The figures are the README's claims benchmark (``python benchmarks/claims_threshold.py``); these
tests fail when a change moves them below the reported numbers.
"""

from __future__ import annotations

import pytest

from bot.claims.matching import (
    DEFAULT_MATCH_THRESHOLD,
    calibrate,
    evaluate,
    load_pairs,
)
from bot.claims.service import Actor
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import TEST_DATA

DATA = TEST_DATA
MOD = Actor(id="1", name="mod")

TROOPS = "Trump rules out sending American troops to Ukraine as part of security guarantees."
HOSTAGES = "Hamas is holding 50 hostages in Gaza."
PASSAGES = [
    # 0: a paraphrase of TROOPS inside a longer passage
    "Talks continued in Paris on Tuesday. European leaders pressed for a plan. "
    "Speaking to reporters, U.S. President Donald Trump said he has ruled out deploying American troops "
    "to Ukraine as part of any security guarantee [1]. The Kremlin did not comment.",
    # 1: unrelated
    "Soho House is going private in a $2.7 billion deal. Shares rose 4 percent in early trading.",
    # 2: the negation of TROOPS
    "Trump did not rule out sending American troops to Ukraine as part of security guarantees.",
    # 3: same subject, different number
    "Officials said Hamas is holding 48 hostages in Gaza.",
]


def test_labelled_set_is_big_and_balanced_enough() -> None:
    pairs = load_pairs(DATA / "claim_pairs.jsonl")
    assert len(pairs) >= 80
    positives = sum(p.label for p in pairs)
    assert 0.3 <= positives / len(pairs) <= 0.6
    notes = " ".join(p.note for p in pairs)
    assert "negation" in notes and "different number" in notes and "same entities" in notes


def test_calibration_reaches_the_reported_numbers(embeddings: LocalMiniLMEmbeddings) -> None:
    result = calibrate(load_pairs(DATA / "claim_pairs.jsonl"), embeddings)
    # Reported in bot/claims/matching.py next to DEFAULT_MATCH_THRESHOLD.
    assert result.threshold == pytest.approx(DEFAULT_MATCH_THRESHOLD, abs=0.005)
    assert result.precision >= 0.92
    assert result.recall >= 0.98
    assert result.f1 >= 0.95
    assert result.n_pairs == 165 and result.n_positive == 66
    thresholds = [row.threshold for row in result.table]
    assert thresholds == sorted(thresholds) and result.threshold in thresholds


def test_lexical_check_beats_embeddings_alone(embeddings: LocalMiniLMEmbeddings) -> None:
    pairs = load_pairs(DATA / "claim_pairs.jsonl")
    with_check = calibrate(pairs, embeddings, min_precision=None)
    without = calibrate(pairs, embeddings, min_precision=None, use_lexical_check=False)
    assert with_check.f1 > without.f1 + 0.1


def test_holdout_at_the_default_threshold(embeddings: LocalMiniLMEmbeddings) -> None:
    row = evaluate(load_pairs(DATA / "claim_pairs_holdout.jsonl"), embeddings)
    assert row.precision >= 0.85
    assert row.recall >= 0.95
