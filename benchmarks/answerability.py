"""Answerability on MultiHop-RAG dev: features per question, and the refusal rates of the shipped rule.

Usage::

    factdesk eval multihop --index-dir DIR --limit 1   # builds the index once (~5 min)
    python -m benchmarks.answerability --index-dir DIR \\
        --queries ../shared/data/multihop-rag/queries-dev.json [--out FEATURES.jsonl] [--grid]

Questions are split in two halves by a hash of their text: thresholds are chosen on
the ``tune`` half (``--grid`` prints the grid) and the figures that count are the
``report`` half's. Null queries ("Insufficient information.") should be refused;
the others answered.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.app import Factdesk
from bot.core.settings import Settings
from bot.eval.multihop import load_queries
from bot.verify.answerability import Answerability, AnswerabilityPolicy


def half(text: str) -> str:
    return "tune" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "report"


def features(index_dir: Path, queries: Path, limit: int) -> list[dict[str, Any]]:
    app = Factdesk.from_settings(Settings(data_dir=index_dir))
    answerer = app.answerer
    check = Answerability()
    rows: list[dict[str, Any]] = []
    items = load_queries(queries)[: limit or None]
    for n, query in enumerate(items):
        retrieval = answerer.retriever.retrieve(query.query, answerer.k)
        dense_ok = answerer.refusal.dense_bar_met(retrieval)
        evidence = check.assess(query.query, retrieval.passages, dense_ok)
        rows.append(
            {
                "half": half(query.query),
                "null": query.question_type == "null_query",
                "type": query.question_type,
                "top_dense": retrieval.top_dense,
                "dense_ok": dense_ok,
                **evidence.to_dict(),
            }
        )
        if n % 200 == 0:
            print(f"{n}/{len(items)}", file=sys.stderr)
    app.close()
    return rows


def rates(rows: Sequence[dict[str, Any]], refuse: Any) -> dict[str, float]:
    null = [r for r in rows if r["null"]]
    other = [r for r in rows if not r["null"]]
    return {
        "null_refusal": sum(map(refuse, null)) / max(1, len(null)),
        "false_refusal": sum(map(refuse, other)) / max(1, len(other)),
        "n_null": len(null),
        "n_answerable": len(other),
    }


def rule(policy: AnswerabilityPolicy) -> Any:
    """The shipped decision replayed over one stored row of features: True when it refuses."""

    def refuse(row: dict[str, Any]) -> bool:
        answered, _ = policy.decide(
            absent_sources=row["absent_sources"],
            absent_names=row["absent_names"],
            names=row["names"],
            phrase=row["phrase"] if row["typed"] else None,
            candidate=row["candidate"],
            coverage=row["coverage"],
            best_sentence=row["best_sentence"],
            dense_bar_met=row["dense_ok"],
            candidate_coverage=row["candidate_coverage"],
            absent_share=row["absent_share"],
        )
        return not answered

    return refuse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=Path("../shared/data/multihop-rag/queries-dev.json"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--features", type=Path, help="read features from this JSONL instead of computing them")
    parser.add_argument("--out", type=Path, help="write the features here (JSONL)")
    parser.add_argument("--grid", action="store_true", help="print the threshold grid on the tune half")
    args = parser.parse_args(argv)
    if args.features:
        rows = [json.loads(line) for line in args.features.read_text().splitlines()]
    else:
        rows = features(args.index_dir, args.queries, args.limit)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    shipped = AnswerabilityPolicy()
    halves = {h: [r for r in rows if r["half"] == h] for h in ("tune", "report")}
    figures: dict[str, Any] = {
        "cosine_only": {h: rates(part, lambda r: not r["dense_ok"]) for h, part in halves.items()},
        "shipped": {h: rates(part, rule(shipped)) for h, part in halves.items()},
    }
    if args.grid:
        tune = halves["tune"]
        for low in (0.2, 0.3, 0.35, 0.4, 0.5):
            for high in (0.6, 0.7, 0.75, 0.8, 0.9, 1.01):
                got = rates(tune, rule(replace(shipped, min_coverage=low, answer_coverage=high)))
                null, false = got["null_refusal"], got["false_refusal"]
                print(f"min {low:.2f} answer {high:.2f}: null {null:.3f} false {false:.3f}")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
