"""Chunk vectors in append-only files beside the lexical index: exact cosine search with filters.

Why not Chroma's own index for serving: its filtered queries scan metadata (55 ms for a date
range at 6,671 chunks, growing with the corpus), and an embedded chromadb reader does not see
another process's writes (its vector reader fails with "Error finding id" until reopened). These
files are written by the same commit as the lexical index and followed by readers cheaply:

- ``vectors.f32``: one float32 row per chunk version, appended;
- ``rows.tsv``: chunk id, article id, outlet and publication time of each row, appended;
- ``alive.u8``: 1 per live row; a replaced article's old rows are set to 0 in place.

The committed row count lives in the lexical index's ``state.json``; rows past it (a crash
mid-write) are cut off when a writer opens the files. A reader maps the files and reads only
the rows added since it last looked, so following a change costs O(change).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.clusters import LISTS, Clusters
from index.models import ChunkFilter
from index.store import ChunkRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VectorHit:
    chunk_id: str
    article_id: str
    published_ts: int
    cosine: float


class VectorFile:
    """The vector rows of one lexical index folder."""

    def __init__(self, folder: Path, cluster_rows: int = 100_000) -> None:
        self.folder = folder
        self.cluster_rows = cluster_rows
        self.clusters = Clusters(folder, min_rows=cluster_rows)
        self.dim = 0
        self._rows = 0  # rows this object has read
        self._tsv_bytes = 0
        self._ids: list[str] = []
        self._articles: list[str] = []
        self._outlet_codes: dict[str, int] = {}
        self._outlet_names: list[str] = []
        self._outlet: list[int] = []
        self._ts: list[int] = []
        self._row_of: dict[str, int] = {}
        self._rows_of_article: dict[str, list[int]] = {}
        self._rows_of_outlet: list[list[int]] = []  # per outlet code, its rows in order
        self._outlet_rows: dict[int, tuple[int, np.ndarray]] = {}  # code -> (rows when built, rows)
        self._ts_arr = np.zeros(0, dtype=np.int64)
        self._arrays_rows = 0
        self._last: tuple[bytes, np.ndarray] | None = None
        self._listed: tuple[bytes, np.ndarray, np.ndarray] | None = None  # vector, its list rows, their cosines
        self._mapped: tuple[int, np.ndarray, np.ndarray] | None = None
        self.epoch = ""

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def tsv_bytes(self) -> int:
        return self._tsv_bytes

    # ------------------------------------------------------------------ files
    def _path(self, name: str) -> Path:
        return self.folder / name

    def truncate(self, rows: int, tsv_bytes: int, dim: int) -> None:
        """Writer start: cut whatever a crashed writer appended after the last commit."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, size in (("vectors.f32", rows * dim * 4), ("rows.tsv", tsv_bytes), ("alive.u8", rows)):
            path = self._path(name)
            with open(path, "ab"):
                pass
            if path.stat().st_size > size:
                os.truncate(path, size)
        lists = self._path(LISTS)
        if lists.exists() and lists.stat().st_size > rows * 2:
            os.truncate(lists, rows * 2)

    def reset(self) -> None:
        for name in ("vectors.f32", "rows.tsv", "alive.u8"):
            self._path(name).unlink(missing_ok=True)
        self.clusters.remove()
        self.__init__(self.folder, self.cluster_rows)  # type: ignore[misc]

    def ensure_clusters(self) -> bool:
        """Writer (under the lock): train the lists when the committed rows reached their size; True if trained."""
        if self._rows < self.cluster_rows or self.dim == 0 or self.clusters.usable(self._rows, self.dim):
            return False
        self.truncate(self._rows, self._tsv_bytes, self.dim)
        stored = np.memmap(self._path("vectors.f32"), dtype=np.float32, mode="r", shape=(self._rows, self.dim))
        self.clusters.train(stored, self.dim)
        del stored
        return True

    def follow(self, rows: int, tsv_bytes: int, dim: int, epoch: str) -> None:
        """Read the rows committed since the last call (O(new rows))."""
        if rows < self._rows or epoch != self.epoch:  # rebuilt: start over
            self.__init__(self.folder, self.cluster_rows)  # type: ignore[misc]
            self.epoch = epoch
        self.dim = dim
        self._last = self._listed = None  # another process may have killed rows in place
        self._read_rows(rows, tsv_bytes)

    def _read_rows(self, rows: int, tsv_bytes: int) -> None:
        if rows == self._rows:
            return
        with open(self._path("rows.tsv"), "rb") as handle:
            handle.seek(self._tsv_bytes)
            data = handle.read(tsv_bytes - self._tsv_bytes)
        for line in data.decode("utf-8").splitlines():
            chunk_id, article_id, outlet, ts = line.split("\t")
            row = len(self._ids)
            self._ids.append(chunk_id)
            self._articles.append(article_id)
            if outlet not in self._outlet_codes:
                self._outlet_codes[outlet] = len(self._outlet_names)
                self._outlet_names.append(outlet)
                self._rows_of_outlet.append([])
            code = self._outlet_codes[outlet]
            self._outlet.append(code)
            self._rows_of_outlet[code].append(row)
            self._ts.append(int(ts))
            self._row_of[chunk_id] = row
            self._rows_of_article.setdefault(article_id, []).append(row)
        self._rows = rows
        self._tsv_bytes = tsv_bytes
        self._last = None
        self._listed = None

    def append(self, chunks: Sequence[ChunkRecord], vectors: np.ndarray, delete: Sequence[str]) -> tuple[int, int]:
        """Kill the rows of ``delete`` (article ids), append ``chunks``; returns the new (rows, tsv bytes)."""
        alive_path = self._path("alive.u8")
        dead = [r for a in delete for r in self._rows_of_article.get(a, [])]
        if dead:
            alive = np.memmap(alive_path, dtype=np.uint8, mode="r+", shape=(self._rows,))
            alive[np.asarray(dead, dtype=np.int64)] = 0
            alive.flush()
            del alive
            self._last = self._listed = None  # scores kept for a question may include these rows
        if len(chunks):
            matrix = np.ascontiguousarray(vectors, dtype=np.float32)
            self.dim = int(matrix.shape[1])
            lines = "".join(
                f"{_clean(c.id)}\t{_clean(c.article_id)}\t{_clean(c.outlet)}\t{c.published_ts}\n" for c in chunks
            ).encode("utf-8")
            for name, payload in (
                ("vectors.f32", matrix.tobytes()),
                ("rows.tsv", lines),
                ("alive.u8", b"\x01" * len(chunks)),
            ):
                with open(self._path(name), "ab") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
            rows, tsv = self._rows + len(chunks), self._tsv_bytes + len(lines)
            if rows >= self.cluster_rows or self.clusters.listed_rows():
                stored = np.memmap(self._path("vectors.f32"), dtype=np.float32, mode="r", shape=(rows, self.dim))
                self.clusters.extend(stored, self._rows, self.dim)
                del stored
        else:
            rows, tsv = self._rows, self._tsv_bytes
        self._read_rows(rows, tsv)
        return rows, tsv

    # ------------------------------------------------------------------ search
    def row(self, row: int) -> tuple[str, str, str, int] | None:
        """(chunk id, article id, outlet, publication time) of a committed row; None past the last commit."""
        if not 0 <= row < self._rows:
            return None
        return self._ids[row], self._articles[row], self._outlet_names[self._outlet[row]], self._ts[row]

    def _times(self) -> np.ndarray:
        if self._arrays_rows != self._rows:
            self._ts_arr = np.asarray(self._ts, dtype=np.int64)
            self._arrays_rows = self._rows
        return self._ts_arr

    def _rows_in(self, outlets: Sequence[str]) -> np.ndarray:
        """Rows of these outlets, ascending (kept per outlet, extended as rows are appended)."""
        parts = []
        for outlet in dict.fromkeys(outlets):
            code = self._outlet_codes.get(outlet)
            if code is None:
                continue
            built = self._outlet_rows.get(code)
            if built is None or built[0] != self._rows:
                built = (self._rows, np.asarray(self._rows_of_outlet[code], dtype=np.int64))
                self._outlet_rows[code] = built
            parts.append(built[1])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))

    def _candidate_rows(self, where: ChunkFilter) -> np.ndarray | None:
        """Rows ``where`` allows (None: every row). An outlet filter is a lookup, not a scan of every row."""
        rows = self._rows_in(where.outlets) if where.outlets is not None else None
        if where.ts_min is None and where.ts_max is None:
            return rows
        ts = self._times()
        if rows is not None:
            ts = ts[rows]
        keep = np.ones(len(ts), dtype=bool)
        if where.ts_min is not None:
            keep &= ts >= where.ts_min
        if where.ts_max is not None:
            keep &= ts < where.ts_max
        return rows[keep] if rows is not None else np.flatnonzero(keep)

    def _sims(self, vector: np.ndarray) -> np.ndarray:
        key = vector.astype(np.float32).tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        if self._rows == 0 or self.dim == 0:
            return np.zeros(0, dtype=np.float32)
        matrix, alive = self._maps()
        sims = np.asarray(matrix @ vector.astype(np.float32), dtype=np.float32)
        sims[alive == 0] = -2.0
        self._last = (key, sims)
        return sims

    def _clustered(self) -> bool:
        return self.clusters.usable(self._rows, self.dim)

    def _maps(self) -> tuple[np.ndarray, np.ndarray]:
        """The vector and live-flag files, mapped once per row count (a new map faults its pages in again)."""
        if self._mapped is None or self._mapped[0] != self._rows:
            matrix = np.memmap(self._path("vectors.f32"), dtype=np.float32, mode="r", shape=(self._rows, self.dim))
            alive = np.memmap(self._path("alive.u8"), dtype=np.uint8, mode="r", shape=(self._rows,))
            self._mapped = (self._rows, matrix, alive)
        return self._mapped[1], self._mapped[2]

    def _exact(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of ``vector`` with these rows (ascending), -2 for dead rows."""
        matrix, alive = self._maps()
        sims = np.asarray(matrix[rows] @ vector.astype(np.float32), dtype=np.float32)
        sims[alive[rows] == 0] = -2.0
        return sims

    def search(self, vector: np.ndarray, n: int, where: ChunkFilter | None) -> list[VectorHit]:
        """The ``n`` nearest live chunks within ``where`` (exact cosine; vectors are unit length).

        Above the clusters' row count, the rows of the nearest lists are ranked instead of every
        row (a filter that leaves few rows is still searched exactly, over those rows only).
        """
        if where is not None and where.empty:
            return []
        if self._rows == 0 or self.dim == 0:
            return []
        rows = self._candidate_rows(where) if where is not None else None
        if self._clustered():
            if rows is not None and len(rows) <= self._rows // 32:  # a narrow filter: its rows exactly
                return self._best(rows, self._exact(vector, rows), n)
            listed, scores = self._listed_scores(vector)
            if rows is not None:
                keep = np.isin(listed, rows, assume_unique=True)
                listed, scores = listed[keep], scores[keep]
            return self._best(listed, scores, n)
        sims = self._sims(vector)
        return self._best(rows, sims if rows is None else sims[rows], n)

    def _listed_scores(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the lists nearest ``vector`` and their cosines (kept for the question's other searches)."""
        key = vector.astype(np.float32).tobytes()
        if self._listed is None or self._listed[0] != key:
            listed = self.clusters.candidates(vector, self._rows, self.dim)
            self._listed = (key, listed, self._exact(vector, listed))
        return self._listed[1], self._listed[2]

    def _best(self, rows: np.ndarray | None, scores: np.ndarray, n: int) -> list[VectorHit]:
        """The ``n`` best of ``scores`` (for ``rows``, or every row when None), best first."""
        count = min(n, len(scores))
        if count <= 0:
            return []
        # A partial selection of the n best, then a sort of those n only (not of every row).
        top = np.argpartition(-scores, count - 1)[:count] if len(scores) > count else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        picked = top if rows is None else rows[top]
        return [
            VectorHit(self._ids[i], self._articles[i], self._ts[i], float(s))
            for i, s in zip(picked.tolist(), scores[top].tolist(), strict=True)
            if s > -2.0
        ]

    def at(self, rows: Sequence[int]) -> np.ndarray:
        """The vectors of these committed rows, in this order (a copy, not a view of the mapped file)."""
        if not rows:
            return np.zeros((0, max(self.dim, 1)), dtype=np.float32)
        matrix, _ = self._maps()
        return np.array(matrix[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def similarities(self, vector: np.ndarray, chunk_ids: Sequence[str]) -> dict[str, float]:
        rows = {c: self._row_of[c] for c in chunk_ids if c in self._row_of and self._row_of[c] < self._rows}
        if not rows:
            return {}
        if self._clustered():  # only these rows, not a pass over every row
            ordered = sorted(rows.items(), key=lambda kv: kv[1])
            scores = self._exact(vector, np.asarray([r for _, r in ordered], dtype=np.int64))
            return {c: float(v) for (c, _), v in zip(ordered, scores.tolist(), strict=True) if v > -2.0}
        sims = self._sims(vector)
        return {c: float(sims[r]) for c, r in rows.items() if r < len(sims) and sims[r] > -2.0}


def _clean(value: str) -> str:
    """One field of a tab-separated line."""
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")
