"""Answerability on MultiHop-RAG dev: features per question, and the refusal rates of the shipped rule.

Usage::

    factdesk eval multihop --index-dir DIR --limit 1   # builds the index once (~5 min)
    python -m benchmarks.answerability --index-dir DIR \\
        --queries ../shared/data/multihop-rag/queries-dev.json [--out FEATURES.jsonl] \\
        [--conflicts bench-out/conflicts/conflicts-dev.jsonl bench-out/conflicts/conflicts-test.jsonl]

Questions are split in two halves by a hash of their text: the model is fitted on the
``tune`` half (``python -m benchmarks.train_answerability``) and the figures that count
are the ``report`` half's. Null queries ("Insufficient information.") should be refused;
the others answered. ``--conflicts`` adds the counterfactual set (``benchmarks.conflicts_data``):
its dev file is a tune half, its test file a report half.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.app import Factdesk
from bot.core.settings import Settings, load_settings
from bot.eval.multihop import load_queries
from bot.verify.answerability import Answerability, AnswerabilityModel, AnswerabilityPolicy


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
        evidence = check.assess(query.query, retrieval.passages, dense_ok, retrieval.top_dense)
        rows.append(
            {
                "half": half(query.query),
                "null": query.question_type == "null_query",
                "type": query.question_type,
                "set": "multihop",
                "words": len(query.query.split()),
                **evidence.to_dict(),
            }
        )
        if n % 200 == 0:
            print(f"{n}/{len(items)}", file=sys.stderr)
    app.close()
    return rows


def conflict_features(path: Path, half_name: str, limit: int = 0) -> list[dict[str, Any]]:
    """Features on a counterfactual set (``benchmarks.conflicts_data``): short snippets, multi-hop questions.

    Each record is asked twice, each time over a fresh index: its true snippets with the noise ones
    (answerable) and the noise snippets alone (they share the question's words but never name the
    answer: a question to refuse).
    """
    import tempfile

    from bot.app.factdesk import build_embeddings
    from bot.eval.conflicts import articles_for, factdesk_sessions, load_records

    settings = load_settings(None)
    sessions = factdesk_sessions(settings, build_embeddings(settings))
    check = Answerability()
    rows: list[dict[str, Any]] = []
    records = load_records(path)[: limit or None]
    for n, record in enumerate(records):
        for setting, null in (("true_only", False), ("noise_only", True)):
            kinds = {"true", "noise"} if setting == "true_only" else {"noise"}
            articles = [raw for raw, doc in articles_for(record, "true_only") if doc.kind in kinds]
            if not articles:
                continue
            with tempfile.TemporaryDirectory(prefix="answerability-") as folder, sessions(Path(folder)) as session:
                session.ingest(articles)
                answerer = session.app.answerer  # type: ignore[attr-defined]
                retrieval = answerer.retriever.retrieve(record.asked, answerer.k)
                dense_ok = answerer.refusal.dense_bar_met(retrieval)
                evidence = check.assess(record.asked, retrieval.passages, dense_ok, retrieval.top_dense)
            rows.append(
                {
                    "set": "conflicts",
                    "id": record.id,
                    "setting": setting,
                    "half": half_name,
                    "null": null,
                    "type": setting,
                    "words": len(record.asked.split()),
                    **evidence.to_dict(),
                }
            )
        if n % 20 == 0:
            print(f"{n}/{len(records)}", file=sys.stderr)
    return rows


def rates(rows: Sequence[dict[str, Any]], refuse: Any) -> dict[str, float]:
    """Null questions refused and answerable ones refused, by ``refuse(row)``."""
    null = [r for r in rows if r["null"]]
    other = [r for r in rows if not r["null"]]
    return {
        "null_refusal": round(sum(map(refuse, null)) / max(1, len(null)), 3),
        "false_refusal": round(sum(map(refuse, other)) / max(1, len(other)), 3),
        "n_null": len(null),
        "n_answerable": len(other),
    }


def rule(policy: AnswerabilityPolicy) -> Any:
    """The shipped decision replayed over one stored row of features: True when it refuses."""

    def refuse(row: dict[str, Any]) -> bool:
        return not policy.decide(row).answerable

    return refuse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--queries", type=Path, default=Path("../shared/data/multihop-rag/queries-dev.json"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--features", type=Path, help="read features from this JSONL instead of computing them")
    parser.add_argument("--out", type=Path, help="write the features here (JSONL)")
    parser.add_argument(
        "--conflicts",
        type=Path,
        nargs=2,
        metavar=("DEV", "TEST"),
        help="also counterfactual sets (conflicts-dev.jsonl: tune half; conflicts-test.jsonl: report half)",
    )
    parser.add_argument("--model", type=Path, help="replay this answerability model instead of the shipped one")
    args = parser.parse_args(argv)
    if args.features:
        rows = [json.loads(line) for line in args.features.read_text().splitlines()]
    else:
        rows = features(args.index_dir, args.queries, args.limit) if args.index_dir else []
        if args.conflicts:
            for path, name in zip(args.conflicts, ("tune", "report"), strict=True):
                rows += conflict_features(path, name, args.limit)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    shipped = AnswerabilityPolicy(model=AnswerabilityModel.load(args.model)) if args.model else AnswerabilityPolicy()
    halves = {
        f"{name}:{h}" if name != "multihop" else h: part
        for name in ("multihop", "conflicts")
        for h in ("tune", "report")
        if (part := [r for r in rows if r.get("set", "multihop") == name and r["half"] == h])
    }
    figures: dict[str, Any] = {
        "cosine_only": {h: rates(part, lambda r: not r["dense_ok"]) for h, part in halves.items()},
        "shipped": {h: rates(part, rule(shipped)) for h, part in halves.items()},
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
