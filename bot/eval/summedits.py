"""``factdesk eval summedits``: the shipped support check as a factual-consistency classifier.

Reads one SummEdits-format file (records with ``doc``, ``summary``, ``label``,
``edit_types``, ``split``), scores every summary against its document with
:class:`bot.verify.facts.FactSupport` (the same verdict answers use), picks a
threshold on ``split == "evaluation"`` and reports balanced accuracy on
``split == "test"`` (overall and per edit type), plus the balanced accuracy at
the threshold answers actually use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.errors import InvalidInputError
from bot.verify.facts import FactSupport, SourceFacts, align

REQUIRED = ("doc", "summary", "label", "split")


def load_records(path: Path) -> list[dict[str, Any]]:
    """SummEdits records from a JSON array file; a clear error for anything else."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidInputError(f"{path}: expected a JSON array of SummEdits records")
    for i, record in enumerate(records):
        missing = [k for k in REQUIRED if k not in record]
        if missing:
            raise InvalidInputError(f"{path}: record {i} lacks {', '.join(missing)}")
    return records


def balanced_accuracy(labels: Sequence[int] | np.ndarray, predicted: Sequence[bool] | np.ndarray) -> float:
    """Mean of the accuracy on consistent (1) and on inconsistent (0) records."""
    y = np.asarray(labels).astype(int)
    p = np.asarray(predicted).astype(bool)
    parts = [
        float((p[y == 1]).mean()) if (y == 1).any() else None,
        float((~p[y == 0]).mean()) if (y == 0).any() else None,
    ]
    known = [v for v in parts if v is not None]
    return float(np.mean(known)) if known else 0.0


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The score threshold with the best balanced accuracy (ties: the lowest)."""
    best_value, best_cut = -1.0, 0.5
    for cut in np.unique(scores):
        value = balanced_accuracy(labels, scores >= cut)
        if value > best_value:
            best_value, best_cut = value, float(cut)
    return best_cut


def score_records(records: list[dict[str, Any]], support: FactSupport) -> np.ndarray:
    """P(consistent) of every summary; each document is parsed once."""
    nlp = support.analyzer.nlp
    docs = sorted({r["doc"] for r in records})
    sources = {text: SourceFacts.of(doc) for text, doc in zip(docs, nlp.pipe(docs, batch_size=8), strict=True)}
    parsed = nlp.pipe([r["summary"] for r in records], batch_size=64)
    model = support.model
    return np.array(
        [model.probability(align(doc, sources[r["doc"]]).features) for r, doc in zip(records, parsed, strict=True)]
    )


def evaluate(records: list[dict[str, Any]], support: FactSupport) -> dict[str, Any]:
    """Figures for one file: tuned-threshold test balanced accuracy, per edit type, and at the shipped threshold."""
    started = time.perf_counter()
    scores = score_records(records, support)
    labels = np.array([int(r["label"]) for r in records])
    evaluation = np.array([r["split"] == "evaluation" for r in records])
    test = ~evaluation
    if not evaluation.any() or not test.any():
        raise InvalidInputError("the file needs records in both the evaluation and the test split")
    threshold = best_threshold(scores[evaluation], labels[evaluation])
    per_type: dict[str, float] = {}
    types = sorted({t for r in records for t in r.get("edit_types") or ()})
    for edit in types:
        chosen = test & ((labels == 1) | np.array([edit in (r.get("edit_types") or ()) for r in records]))
        per_type[edit] = balanced_accuracy(labels[chosen], scores[chosen] >= threshold)
    return {
        "records": len(records),
        "test_records": int(test.sum()),
        "model": support.model.name,
        "threshold": round(threshold, 4),
        "test_balanced_accuracy": round(balanced_accuracy(labels[test], scores[test] >= threshold), 4),
        "per_edit_type": {k: round(v, 4) for k, v in per_type.items()},
        "shipped_threshold": round(support.model.threshold, 4),
        "shipped_threshold_balanced_accuracy": round(
            balanced_accuracy(labels[test], scores[test] >= support.model.threshold), 4
        ),
        "seconds": round(time.perf_counter() - started, 2),
    }
