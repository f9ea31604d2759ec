"""Dense search over clustered vector rows: lists trained past a size, appended after, cut back after a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.clusters import LISTS
from index.models import ChunkFilter
from index.store import ChunkRecord
from index.vectors import VectorFile

DIM = 16


def corpus(n: int, seed: int = 0) -> np.ndarray:
    """Rows around 40 topics (as news chunks are), unit length."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, DIM))
    rows = centers[rng.integers(0, 40, size=n)] + 0.3 * rng.normal(size=(n, DIM))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def records(start: int, n: int) -> list[ChunkRecord]:
    outlets = ("Harbour Post", "Alpine Courier", "Delta Wire")
    return [
        ChunkRecord(f"a{i}:0", f"a{i}", 0, "text", 0, 4, 1, "t", outlets[i % 3], None, None)
        for i in range(start, start + n)
    ]


def build(folder: Path, vectors: np.ndarray, batch: int = 500) -> VectorFile:
    file = VectorFile(folder, cluster_rows=1000)
    for start in range(0, len(vectors), batch):
        file.append(records(start, min(batch, len(vectors) - start)), vectors[start : start + batch], [])
    return file


def exact_top(vectors: np.ndarray, query: np.ndarray, n: int) -> list[str]:
    return [f"a{i}:0" for i in np.argsort(-(vectors @ query), kind="stable")[:n]]


def test_lists_are_trained_past_the_size_and_find_the_exact_neighbours(tmp_path: Path) -> None:
    vectors = corpus(3000)
    file = build(tmp_path, vectors)
    assert file.clusters.usable(3000, DIM) and file.clusters.listed_rows() == 3000, "every row is listed"
    queries = corpus(30, seed=1)
    found = [len({h.chunk_id for h in file.search(q, 10, None)} & set(exact_top(vectors, q, 10))) / 10 for q in queries]
    assert np.mean(found) >= 0.9, found
    hits = file.search(queries[0], 10, ChunkFilter(outlets=("Delta Wire",)))
    assert hits and all(int(h.chunk_id[1:].split(":")[0]) % 3 == 2 for h in hits), "the filter holds"
    assert all(hits[i].cosine >= hits[i + 1].cosine for i in range(len(hits) - 1))


def test_a_replaced_row_is_not_found_and_a_reader_sees_the_writers_rows(tmp_path: Path) -> None:
    vectors = corpus(2000)
    file = build(tmp_path, vectors)
    query = vectors[7]
    assert file.search(query, 1, None)[0].chunk_id == "a7:0"
    file.append([], np.zeros((0, DIM), np.float32), ["a7"])  # the article's row dies in place
    assert "a7:0" not in {h.chunk_id for h in file.search(query, 10, None)}
    reader = VectorFile(tmp_path, cluster_rows=1000)
    reader.follow(file.rows, file.tsv_bytes, DIM, "")
    assert [h.chunk_id for h in reader.search(query, 5, None)] == [h.chunk_id for h in file.search(query, 5, None)]
    assert reader.similarities(query, ["a8:0"])["a8:0"] == file.similarities(query, ["a8:0"])["a8:0"]


def test_lists_a_crashed_writer_appended_are_cut_back_and_kept_in_step(tmp_path: Path) -> None:
    vectors = corpus(2500)
    file = build(tmp_path, vectors[:2000])
    rows, tsv = file.rows, file.tsv_bytes
    with open(tmp_path / LISTS, "ab") as handle:  # a torn append, never committed
        handle.write(b"\x00\x00" * 7)
    writer = VectorFile(tmp_path, cluster_rows=1000)
    writer.follow(rows, tsv, DIM, "")
    writer.truncate(rows, tsv, DIM)
    writer.append(records(2000, 500), vectors[2000:], [])
    assert writer.clusters.listed_rows() == 2500
    assert writer.search(vectors[2400], 1, None)[0].chunk_id == "a2400:0", "a row appended after training is found"
