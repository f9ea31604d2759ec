"""Digest benchmark on MultiHop-RAG: the 2023-11-27 digest, its time, and story purity.

    python -m benchmarks.digest --data-dir /tmp/fd-multihop

1. Ingests ``corpus.json`` into ``--data-dir`` with the real Indexer unless that
   folder already holds the full corpus (several minutes on 2 cores; reuse it).
2. Produces the daily digests (UTC) from ``--from`` up to ``--date`` in order, so
   stories continue from day to day, into a throw-away history database (never
   the data dir's), and prints the ``--date`` digest and the seconds it took.
3. Clusters every day from ``--from`` to ``--to`` and reports the purity of the
   stories against the corpus ``category`` field (each article counted once, in
   its main story), with the number of stories, multi-article stories and articles.

Purity rewards small clusters (singletons are pure), so read it together with
the story count; categories are much coarser than stories.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import Factdesk  # noqa: E402
from bot.core.settings import load_settings  # noqa: E402
from bot.digest.clustering import StoryClusterer, main_story_of  # noqa: E402
from bot.digest.content import load_window  # noqa: E402
from bot.digest.window import day_window  # noqa: E402
from index.store import ChunkStore  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "multihop-rag" / "corpus.json"


def ensure_index(app: Factdesk, corpus: Path) -> dict[str, Any]:
    """Ingest the corpus unless every record is already indexed (complete or duplicate)."""
    store = app.store
    expected = len(json.loads(corpus.read_text(encoding="utf-8")))
    have = store.article_count()
    if have >= expected:
        return {"ingested": False, "articles": have}
    started = time.perf_counter()
    report = app.indexer.ingest([str(corpus)], None, app.settings.max_source_bytes)
    return {
        "ingested": True,
        "articles": store.article_count(),
        "errors": len(report.errors),
        "seconds": round(time.perf_counter() - started, 1),
    }


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def purity(store: ChunkStore, first: date, last: date) -> dict[str, Any]:
    clusterer = StoryClusterer(store.embeddings)
    total = majority = stories = multi = 0
    seconds = 0.0
    for day in days(first, last):
        content = load_window(store, day_window(day))
        started = time.perf_counter()
        clusters = clusterer.cluster(content)
        seconds += time.perf_counter() - started
        members: dict[str, list[str]] = defaultdict(list)
        for article_id, key in main_story_of(clusters).items():
            members[key].append(content.articles[article_id].category or "")
        for categories in members.values():
            total += len(categories)
            majority += Counter(categories).most_common(1)[0][1]
        stories += len(clusters)
        multi += sum(1 for c in clusters if len(c.main_ids) > 1)
    return {
        "days": f"{first}..{last}",
        "articles": total,
        "stories": stories,
        "multi_article_stories": multi,
        "purity": round(majority / total, 4) if total else None,
        "cluster_seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/fd-multihop"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2023, 11, 27))
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2023, 11, 20))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=date(2023, 12, 1))
    parser.add_argument("--json", action="store_true", help="print the digest as JSON instead of Markdown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fd-digest-bench-") as tmp:
        # The index in --data-dir, a digest history of this run's own (the benchmark starts from none).
        history = f"sqlite:///{Path(tmp) / 'factdesk.sqlite3'}"
        settings = load_settings(None, data_dir=args.data_dir, timezone="UTC", database_url=history)
        with Factdesk.from_settings(settings) as app:
            index = ensure_index(app, args.corpus)
            print(f"index: {json.dumps(index)}", file=sys.stderr)
            store = app.store
            service = app.digests
            before = [d for d in days(args.first, args.date) if d < args.date]
            warm_started = time.perf_counter()
            for day in before:
                service.get_or_create(day_window(day, "UTC"))
            warm = time.perf_counter() - warm_started
            started = time.perf_counter()
            digest = service.get_or_create(day_window(args.date, "UTC"))
            seconds = time.perf_counter() - started
            again_started = time.perf_counter()
            service.get_or_create(day_window(args.date, "UTC"))
            stored_seconds = time.perf_counter() - again_started

    print(json.dumps(digest.to_dict(), ensure_ascii=False, indent=2) if args.json else digest.to_markdown())
    quality = purity(store, args.first, args.last)
    result = {
        "digest_date": str(args.date),
        "digest_seconds": round(seconds, 2),
        "stored_digest_seconds": round(stored_seconds, 3),
        "previous_days_seconds": round(warm, 1),
        "previous_days": len(before),
        "digest_articles": digest.article_count,
        "digest_stories": digest.story_count,
        "continuing_stories_shown": sum(1 for s in digest.stories if s.continuing),
        **{f"clustering_{k}": v for k, v in quality.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
