"""The BM25 sidecar: a bm25s index over every chunk, persisted beside the Chroma store.

A second bm25s index over the chunks' single sentences scores how well a chunk's
best sentence matches: a question usually paraphrases one sentence of the passage
it needs, and a whole-chunk score cannot tell that chunk from its neighbours.

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

from bot.core.text.sentences import sentence_spans

log = logging.getLogger(__name__)

# Bumped when the sidecar's layout changes; an older sidecar is rebuilt on first use.
FORMAT = 2


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

    def __init__(
        self,
        model: bm25s.BM25,
        ids: list[str],
        stamp: str,
        sentences: bm25s.BM25 | None = None,
        owners: np.ndarray | None = None,
    ) -> None:
        self.model = model
        self.ids = ids
        self.stamp = stamp
        self.sentences = sentences
        self.owners = owners if owners is not None else np.zeros(0, dtype=np.int32)  # chunk of each sentence
        self._stemmer = _stemmer()

    @staticmethod
    def index_text(title: str, outlet: str, text: str) -> str:
        """What BM25 sees for a chunk: its title and outlet carry names the passage may omit."""
        return f"{title}\n{outlet}\n{text}"

    @classmethod
    def build(
        cls, ids: Sequence[str], texts: Sequence[str], stamp: str, passages: Sequence[str] | None = None
    ) -> BM25Index:
        """``texts`` as BM25 sees each chunk; ``passages`` (default ``texts``) are split into sentences."""
        stemmer = _stemmer()
        model = bm25s.BM25()
        sentences = bm25s.BM25()
        owners: list[int] = []
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False)
            model.index(tokens, show_progress=False)
            sentence_texts: list[str] = []
            for owner, passage in enumerate(passages if passages is not None else texts):
                for span in sentence_spans(passage):
                    sentence_texts.append(passage[span.start : span.end])
                    owners.append(owner)
            if sentence_texts:
                tokens = bm25s.tokenize(sentence_texts, stopwords="en", stemmer=stemmer, show_progress=False)
                sentences.index(tokens, show_progress=False)
        return cls(model, list(ids), stamp, sentences if owners else None, np.asarray(owners, dtype=np.int32))

    def search(self, query: str, k: int) -> list[BM25Hit]:
        if not self.ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.model.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [BM25Hit(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if float(s) > 0]

    def scores_with_sentences(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: its BM25 score, and the BM25 score of its best-matching sentence."""
        empty = np.zeros(len(self.ids), dtype=np.float32)
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)
        if not self.ids or not tokens[0]:
            return empty, empty.copy()
        chunks = np.asarray(self.model.get_scores(tokens[0]), dtype=np.float32)
        best = empty.copy()
        if self.sentences is not None and len(self.owners):
            np.maximum.at(best, self.owners, np.asarray(self.sentences.get_scores(tokens[0]), dtype=np.float32))
        return chunks, best

    def save(self, folder: Path) -> None:
        """Write to a sibling temp folder, then swap it in with renames."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".bm25-", dir=folder.parent))
        try:
            if self.ids:  # an empty bm25s model has nothing to save
                self.model.save(str(tmp / "model"), show_progress=False)
            if self.sentences is not None:
                self.sentences.save(str(tmp / "sentences"), show_progress=False)
                np.save(tmp / "owners.npy", self.owners)
            (tmp / "ids.json").write_text(json.dumps(self.ids))
            (tmp / "stamp.json").write_text(json.dumps({"stamp": self.stamp, "format": FORMAT}))
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
            meta = json.loads((folder / "stamp.json").read_text())
            if meta.get("format") != FORMAT:
                raise ValueError(f"sidecar format {meta.get('format')}, expected {FORMAT}")
            stamp = meta["stamp"]
            ids = json.loads((folder / "ids.json").read_text())
            model = bm25s.BM25.load(str(folder / "model"), show_progress=False) if ids else bm25s.BM25()
            has_sentences = (folder / "owners.npy").exists()
            sentences = bm25s.BM25.load(str(folder / "sentences"), show_progress=False) if has_sentences else None
            owners = np.load(folder / "owners.npy") if has_sentences else None
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 sidecar at %s not usable (%s); it will be rebuilt", folder, exc)
            return None
        return cls(model, ids, stamp, sentences, owners)
