"""Print the claim-match calibration table (threshold, precision, recall, F1).

Usage: ``python benchmarks/claims_threshold.py [PAIRS.jsonl] [--holdout HOLDOUT.jsonl]``
(defaults: ``tests/data/claim_pairs.jsonl`` and ``tests/data/claim_pairs_holdout.jsonl``).
Runs offline with the local MiniLM model; takes a few seconds.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.claims.matching import (  # noqa: E402  (after the path set-up above)
    DEFAULT_MATCH_THRESHOLD,
    CalibrationResult,
    calibrate,
    evaluate,
    load_pairs,
)
from index.embeddings import LocalMiniLMEmbeddings  # noqa: E402

log = logging.getLogger(__name__)


def _print_table(title: str, result: CalibrationResult) -> None:
    print(f"\n{title}: {result.n_pairs} pairs, {result.n_positive} positive")
    print(f"{'threshold':>9}  {'precision':>9}  {'recall':>6}  {'F1':>5}  {'TP':>3}  {'FP':>3}  {'FN':>3}")
    for row in result.table:
        mark = "  <- chosen" if row.threshold == result.threshold else ""
        print(
            f"{row.threshold:>9.3f}  {row.precision:>9.3f}  {row.recall:>6.3f}  {row.f1:>5.3f}"
            f"  {row.tp:>3}  {row.fp:>3}  {row.fn:>3}{mark}"
        )
    print(
        f"chosen threshold {result.threshold:.3f}: precision {result.precision:.3f}, "
        f"recall {result.recall:.3f}, F1 {result.f1:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="?", type=Path, default=ROOT / "tests/data/claim_pairs.jsonl")
    parser.add_argument("--holdout", type=Path, default=ROOT / "tests/data/claim_pairs_holdout.jsonl")
    parser.add_argument("--min-precision", type=float, default=0.9)
    args = parser.parse_args(argv)

    embedder = LocalMiniLMEmbeddings()
    pairs = load_pairs(args.pairs)
    result = calibrate(pairs, embedder, min_precision=args.min_precision)
    _print_table(f"{args.pairs.name} (embedding + lexical check)", result)
    plain = calibrate(pairs, embedder, min_precision=None, use_lexical_check=False)
    _print_table(f"{args.pairs.name} (embedding only, best F1, for comparison)", plain)
    print(f"\nDEFAULT_MATCH_THRESHOLD in bot/claims/matching.py is {DEFAULT_MATCH_THRESHOLD}")
    if args.holdout.exists():
        for threshold in sorted({DEFAULT_MATCH_THRESHOLD, result.threshold}):
            row = evaluate(load_pairs(args.holdout), embedder, threshold)
            print(
                f"{args.holdout.name} at {threshold:.3f}: precision {row.precision:.3f}, "
                f"recall {row.recall:.3f}, F1 {row.f1:.3f} (TP {row.tp}, FP {row.fp}, FN {row.fn})"
            )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(main())
