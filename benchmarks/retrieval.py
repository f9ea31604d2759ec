"""Retrieval ablations on MultiHop-RAG: BM25, dense, plain RRF and factdesk's full pipeline.

    python -m benchmarks.retrieval --data-dir /tmp/fd-multihop [--limit 300] [--modes full,rrf]

The index must already hold the corpus (``factdesk eval multihop`` or
``python -m benchmarks.ingest --data-dir DIR`` builds it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.answer.retrieval import HybridRetriever
from bot.app import Factdesk
from bot.core.settings import load_settings
from bot.eval.multihop import evaluate_retrieval, load_queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=Path("../shared/data/multihop-rag/queries-dev.json"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--modes",
        default="bm25,dense,rrf,no-outlets,no-decompose,no-sentences,no-round-order,full",
        help="bm25, dense, rrf (plain fusion), no-outlets / no-decompose / no-sentences / no-round-order "
        "(full minus one step), full",
    )
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    settings = load_settings(None, data_dir=args.data_dir)
    app = Factdesk.from_settings(settings)
    store = app.store
    queries = load_queries(args.queries)
    if args.limit:
        queries = queries[: args.limit]
    results = {}
    for mode in args.modes.split(","):
        options: dict[str, object] = {"mode": mode}
        if mode == "no-decompose":
            options = {"mode": "full", "decompose": False}
        elif mode == "no-outlets":
            options = {"mode": "full", "outlet_clauses": False}
        elif mode == "no-sentences":
            options = {"mode": "full", "sentence_weight": 0.0}
        elif mode == "no-round-order":
            options = {"mode": "full", "round_order": False}
        retriever = HybridRetriever(store, app.indexer.lexical, store.embeddings, **options)  # type: ignore[arg-type]
        retriever.refresh()

        def search(question: str, k: int, retriever: HybridRetriever = retriever) -> list[str]:
            return [p.text for p in retriever.retrieve(question, k).passages]

        scores = evaluate_retrieval(queries, search, args.k)
        results[mode] = scores.summary()
        s = results[mode]
        print(
            f"{mode:<12} n={s['queries']} hits@10={s['hits@10']:.3f} hits@4={s['hits@4']:.3f} "
            f"mrr@10={s['mrr@10']:.3f} evid@10={s['evidence_recall@10']:.3f} full@10={s['full_evidence@10']:.3f} "
            f"p50={s['retrieval_p50_ms']:.1f}ms p95={s['retrieval_p95_ms']:.1f}ms",
            flush=True,
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
