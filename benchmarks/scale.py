"""Scale benchmark: ingest, retrieval and reader costs as the index grows.

    python -m benchmarks.scale --articles N --embedder hash --data-dir DIR --json FILE

Builds (or tops up) an index of N synthetic articles in DIR, then:
- ``batch_ingest_s``: 5 new articles ingested into the N-article index by a separate process
  (as a cron ``factdesk ingest`` beside the bot would); ``--batches K`` runs K of them in a row
  and reports their median too (``batch_ingest_median_s``);
- a reader process (the bot) opens the index, answers warm retrieval questions
  (``retrieval_p50_ms`` / ``retrieval_p95_ms``: MultiHop-RAG dev questions), reports its RSS
  (``rss_mib``), and times its first question after that other process's ingest
  (``first_question_after_ingest_s``).

The corpus: variants of the MultiHop-RAG articles. Variant i takes the sentences of three
source articles (i, and two others picked by a seeded generator), shuffles them, and gets its own
title, URL and date, so no two variants share the 5-word shingles the near-duplicate check
compares (Jaccard far below its 0.6 threshold) and every variant is indexed as a new article.
It is a structure benchmark, not a quality one: ``--embedder hash`` gives deterministic
feature-hashed vectors (no MiniLM), so the time is the index's, not the model's; retrieval
figures are for the retriever's work only (the answer step is not run).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_FILE_ARTICLES = 300  # articles per JSONL file (below max_source_bytes)


class HashEmbeddings:
    """Deterministic 384-dimensional feature-hashed bag of words, unit length: cheap stand-in vectors."""

    model_name = "hash-384"
    dimensions = 384

    def __init__(self) -> None:
        self._features: dict[str, tuple[int, float]] = {}  # word -> (dimension, sign): hashed once

    def _feature(self, word: str) -> tuple[int, float]:
        found = self._features.get(word)
        if found is None:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            found = self._features[word] = (h % self.dimensions, 1.0 if h & 0x80000000 else -1.0)
        return found

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            features = [self._feature(word) for word in _WORD.findall(text.lower())]
            if features:
                columns, signs = zip(*features, strict=True)
                np.add.at(out[row], np.asarray(columns), np.asarray(signs, dtype=np.float32))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def variants(corpus: list[dict[str, Any]], start: int, count: int) -> list[dict[str, Any]]:
    """Synthetic articles ``start .. start+count-1`` (deterministic in their number)."""
    out = []
    base = datetime(2023, 9, 1)
    for i in range(start, start + count):
        rng = random.Random(i)
        sources = [corpus[i % len(corpus)], *rng.sample(corpus, 2)]
        sentences = [s for src in sources for s in _SENTENCE.split(src["body"]) if s.strip()]
        rng.shuffle(sentences)
        keep = sentences[: max(8, len(sentences) // 3)]
        first = sources[0]
        out.append(
            {
                "title": f"{first['title']} (variant {i})",
                "author": first.get("author") or "",
                "source": first["source"],
                "published_at": (base + timedelta(hours=7 * i % (24 * 400))).isoformat() + "+00:00",
                "category": first.get("category") or "",
                "url": f"https://synthetic.example/{i}",
                "body": " ".join(keep),
            }
        )
    return out


def write_files(folder: Path, articles: list[dict[str, Any]], tag: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, begin in enumerate(range(0, len(articles), _FILE_ARTICLES)):
        path = folder / f"{tag}-{n:04d}.jsonl"
        path.write_text("".join(json.dumps(a) + "\n" for a in articles[begin : begin + _FILE_ARTICLES]))
        paths.append(path)
    return paths


def _app(data_dir: Path) -> Any:
    from bot.app import Factdesk
    from bot.core.settings import load_settings

    return Factdesk.from_settings(load_settings(None, data_dir=data_dir), embeddings=HashEmbeddings())


def _rss_mib(field: str = "VmRSS") -> float:
    """Resident memory; ``RssFile`` is the mapped vector rows' share (page cache the kernel can reclaim)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ingest_child(data_dir: Path, files: list[str]) -> None:
    """A separate writer process: ingest ``files``, print seconds and counts as JSON."""
    with _app(data_dir) as app:
        started = time.perf_counter()
        report = app.ingest(files)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "added": report.count("added"), "errors": len(report.errors)}))


def reader_child(data_dir: Path, queries: Path, n: int) -> None:
    """The bot: warm questions, RSS, then (told on stdin) the first question after another's ingest."""
    questions = [q["query"] for q in json.loads(queries.read_text()) if q.get("question_type") != "null_query"][:n]
    with _app(data_dir) as app:
        retriever = app.answerer.retriever
        started = time.perf_counter()
        retriever.retrieve(questions[0], 10)
        load_s = time.perf_counter() - started
        times, cpu = [], []
        for question in questions[1:]:
            t, c = time.perf_counter(), time.process_time()
            retriever.retrieve(question, 10)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        times.sort()
        result = {
            "reader_first_question_s": load_s,
            "retrieval_p50_ms": statistics.median(times),
            "retrieval_p95_ms": times[int(0.95 * (len(times) - 1))],
            # CPU time of the reader process (all its threads): less at the mercy of a shared machine's load.
            "retrieval_cpu_p50_ms": statistics.median(cpu),
            "rss_mib": _rss_mib(),
            "rss_anon_mib": _rss_mib("RssAnon"),
            "rss_file_mib": _rss_mib("RssFile"),
        }
        print(json.dumps(result), flush=True)
        sys.stdin.readline()  # the parent ingested 5 articles in another process
        t = time.perf_counter()
        found = retriever.retrieve("synthetic benchmark probe: " + questions[1], 10)
        after = time.perf_counter() - t
        print(json.dumps({"first_question_after_ingest_s": after, "passages": len(found.passages)}), flush=True)


def _run_child(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.scale", "--articles", "0", *args]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _batch(data_dir: Path, corpus: list[dict[str, Any]], inputs: Path, base: int) -> dict[str, Any]:
    """Five new articles ingested by another process into the ``base``-article index."""
    files = write_files(inputs, variants(corpus, 10_000_000 + base, 5), f"batch-{base}")
    return _run_child(["--child", "ingest", "--data-dir", str(data_dir), *map(str, files)])


def _disk_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--embedder", choices=["hash"], default="hash")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/data/multihop-rag/corpus.json"))
    parser.add_argument("--queries", type=Path, default=Path("/work/shared/data/multihop-rag/queries-dev.json"))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument(
        "--batches", type=int, default=1, help="5-article ingests in a row, each a new process (median reported)"
    )
    parser.add_argument("--child", choices=["ingest", "reader"], help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ingest":
        return ingest_child(args.data_dir, args.files)
    if args.child == "reader":
        return reader_child(args.data_dir, args.queries, args.questions)

    corpus = json.loads(args.corpus.read_text())
    inputs = args.data_dir.parent / f"{args.data_dir.name}-inputs"
    with _app(args.data_dir) as app:
        have = app.store.article_count()
    full = {"seconds": 0.0, "added": 0}
    if have < args.articles:
        files = write_files(inputs, variants(corpus, have, args.articles - have), f"base-{have}")
        full = _run_child(["--child", "ingest", "--data-dir", str(args.data_dir), *map(str, files)])
    with _app(args.data_dir) as app:
        app.indexer.repair()  # a migration or catch-up is done here, not inside the timed steps
        base = app.store.article_count()
        chunks = app.store.chunk_count()
        shards = app.store.shard_count()
    started_load = os.getloadavg()[0]  # the machine's load as the timed steps begin (2 shared cores)
    options = ["--data-dir", str(args.data_dir), "--queries", str(args.queries), "--questions", str(args.questions)]
    reader = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.scale", "--child", "reader", "--articles", "0", *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    warm = json.loads(reader.stdout.readline())
    batch = _batch(args.data_dir, corpus, inputs, base)
    reader.stdin.write("go\n")
    reader.stdin.flush()
    after = json.loads(reader.stdout.readline())
    reader.wait(timeout=600)
    batch_seconds = [batch["seconds"]] + [
        _batch(args.data_dir, corpus, inputs, base + 5 * k)["seconds"] for k in range(1, args.batches)
    ]
    result = {
        "articles": base,
        "chunks": chunks,
        "chunk_shards": shards,
        "full_ingest_s": round(full["seconds"], 1),
        "full_ingest_added": full["added"],
        "batch_ingest_s": round(batch["seconds"], 2),
        "batch_added": batch["added"],
        # Each collection's unsaved HNSW writes (replayed by the next process) vary from one ingest
        # to the next: the median of several in a row is steadier than one.
        "batch_ingest_median_s": round(statistics.median(batch_seconds), 2),
        "batch_ingest_runs_s": [round(x, 2) for x in batch_seconds],
        "retrieval_p50_ms": round(warm["retrieval_p50_ms"], 1),
        "retrieval_p95_ms": round(warm["retrieval_p95_ms"], 1),
        "retrieval_cpu_p50_ms": round(warm["retrieval_cpu_p50_ms"], 1),
        "reader_first_question_s": round(warm["reader_first_question_s"], 2),
        "first_question_after_ingest_s": round(after["first_question_after_ingest_s"], 3),
        "rss_mib": round(warm["rss_mib"]),
        "rss_anon_mib": round(warm["rss_anon_mib"]),
        "rss_file_mib": round(warm["rss_file_mib"]),
        "disk_mib": round(_disk_mib(args.data_dir)),
        "cpus": os.cpu_count(),
        "load_average_1m_start_end": [round(started_load, 1), round(os.getloadavg()[0], 1)],
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
