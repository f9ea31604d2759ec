"""The BM25 sidecar: a bm25s index over every chunk, persisted beside the Chroma store.

It is rebuilt from the store after each ingest (seconds for thousands of chunks)
and written to a fresh folder that replaces the old one in one rename, so a
reader never sees half an index. ``stamp.json`` records which store state it
reflects; a stale sidecar is rebuilt before use.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

log = logging.getLogger(__name__)


def _stemmer() -> Any:
    try:
        import Stemmer  # PyStemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover - PyStemmer is a declared dependency
        return None


@dataclass(frozen=True, slots=True)
class BM25Hit:
    chunk_id: str
    score: float


class BM25Index:
    """Chunk ids plus a bm25s model; ``search`` returns the best-scoring chunk ids."""

    def __init__(self, model: bm25s.BM25, ids: list[str], stamp: str) -> None:
        self.model = model
        self.ids = ids
        self.stamp = stamp
        self._stemmer = _stemmer()

    @staticmethod
    def index_text(title: str, outlet: str, text: str) -> str:
        """What BM25 sees for a chunk: its title and outlet carry names the passage may omit."""
        return f"{title}\n{outlet}\n{text}"

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], stamp: str) -> BM25Index:
        stemmer = _stemmer()
        model = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False)
            model.index(tokens, show_progress=False)
        return cls(model, list(ids), stamp)

    def search(self, query: str, k: int) -> list[BM25Hit]:
        if not self.ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.model.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [BM25Hit(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if float(s) > 0]

    def scores_for(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``ids``) for ``query``."""
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)
        if not self.ids or not tokens[0]:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens[0]), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Write to a sibling temp folder, then swap it in with renames."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".bm25-", dir=folder.parent))
        try:
            if self.ids:  # an empty bm25s model has nothing to save
                self.model.save(str(tmp / "model"), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(self.ids))
            (tmp / "stamp.json").write_text(json.dumps({"stamp": self.stamp}))
            old = folder.with_name(folder.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            if folder.exists():
                os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The saved index, or None when missing or unreadable (caller rebuilds)."""
        try:
            stamp = json.loads((folder / "stamp.json").read_text())["stamp"]
            ids = json.loads((folder / "ids.json").read_text())
            model = bm25s.BM25.load(str(folder / "model"), show_progress=False) if ids else bm25s.BM25()
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 sidecar at %s not usable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(model, ids, stamp)
