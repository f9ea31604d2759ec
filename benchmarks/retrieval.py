"""Retrieval ablations on MultiHop-RAG: BM25, dense, plain RRF and factdesk's full pipeline.

    python -m benchmarks.retrieval --data-dir /tmp/fd-multihop [--limit 300] [--modes full,rrf]

The index must already hold the corpus (``factdesk eval multihop`` or
``python -m benchmarks.ingest --data-dir DIR`` builds it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.answer.retrieval import ABLATIONS, MODES, HybridRetriever, RetrievalConfig
from bot.app import Factdesk
from bot.core.settings import load_settings
from bot.eval.multihop import evaluate_retrieval, load_queries


def retriever_for(app: Factdesk, name: str) -> HybridRetriever:
    """The app's retriever searching as the ablation ``name`` says (see RetrievalConfig.ablation)."""
    return app.answerer.retriever.with_config(RetrievalConfig.ablation(name))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=Path("../shared/data/multihop-rag/queries-dev.json"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--modes",
        default="bm25,dense,rrf,no-outlets,no-decompose,no-sentences,no-round-order,full",
        help=f"{', '.join(MODES)} (rrf: plain fusion), or {' / '.join(ABLATIONS)} (full minus one step)",
    )
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    settings = load_settings(None, data_dir=args.data_dir)
    app = Factdesk.from_settings(settings)
    queries = load_queries(args.queries)
    if args.limit:
        queries = queries[: args.limit]
    results = {}
    for mode in args.modes.split(","):
        retriever = retriever_for(app, mode)
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
