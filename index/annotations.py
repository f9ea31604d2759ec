"""spaCy parses of every chunk, made once at ingest and read back when a question needs them.

Answering parses the sentences of the passages it retrieved (disagreements, answerability);
parsing them per question cost about a third of an extractive answer. Ingest parses each
chunk's :func:`~bot.core.text.nlp.annotation_texts` in batches (``nlp.pipe``) and the store
keeps them as spaCy's ``DocBin`` bytes beside the chunk, written and deleted with it
(:meth:`index.store.ChunkStore.upsert_annotations`). A question then looks its texts up in
the passages it retrieved (:class:`StoredAnnotations`) and parses only what is not stored:
the question itself, texts it composed.

Large batches are parsed in worker processes (spaCy's parser holds the GIL; the machine's
cores are what makes ingest fast), each loading the pipeline once; small ones in-process.
Chunks stored before annotations existed are annotated by the next ingest's repair step.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

from bot.core.models import Passage
from bot.core.text.nlp import (
    TextAnalyzer,
    annotation_texts,
    docs_from_bytes,
    docs_to_bytes,
    load_pipeline,
    package_pipeline_id,
    parse_all,
    pipeline_id,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    from index.store import ChunkStore

log = logging.getLogger(__name__)

# Below this many words a batch is parsed in-process (a worker's start costs seconds).
_IN_PROCESS_WORDS = 20_000


@cache
def _worker_pipeline(model: str) -> Language:
    """The pipeline of a worker process, loaded on its first task."""
    return load_pipeline(model)


def annotate_texts(nlp: Language, chunks: Sequence[tuple[str, str]]) -> list[bytes]:
    """``DocBin`` bytes for each ``(title, chunk text)``; a text shared by chunks is parsed once."""
    per_chunk = [annotation_texts(title, text) for title, text in chunks]
    unique = list(dict.fromkeys(t for texts in per_chunk for t in texts))
    parsed = dict(zip(unique, parse_all(nlp, unique), strict=True))
    return [docs_to_bytes(parsed[t] for t in texts) for texts in per_chunk]


def _annotate_in_worker(model: str, chunks: Sequence[tuple[str, str]]) -> list[bytes]:
    return annotate_texts(_worker_pipeline(model), chunks)


class Annotator:
    """Parses chunks for the store: ``submit`` starts a batch, its future gives one payload per chunk."""

    def __init__(self, analyzer: TextAnalyzer | None = None, processes: int = 0) -> None:
        """``analyzer``'s pipeline parses in-process (one copy of the model serves ingest and answers)."""
        self.analyzer = analyzer or TextAnalyzer()
        self.model = self.analyzer.model
        self.processes = processes or (os.cpu_count() or 1)
        self._pool: Executor | None = None
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Language:
        return self.analyzer.nlp

    @cached_property
    def pipeline(self) -> str:
        """The id stored with each parse: the loaded pipeline's, or the package's without loading it."""
        if "nlp" in self.analyzer.__dict__:
            return pipeline_id(self.nlp)
        return package_pipeline_id(self.model)

    def submit(self, chunks: Sequence[tuple[str, str]]) -> PendingParses:
        """Start parsing ``(title, chunk text)`` pairs; large batches go to worker processes, split by
        position, and small ones too once the workers are running (this process need not load spaCy)."""
        words = sum(len(text.split()) for _, text in chunks)
        if not chunks or self.processes <= 1 or (words < _IN_PROCESS_WORDS and self._pool is None):
            done: Future[list[bytes]] = Future()
            done.set_result(annotate_texts(self.nlp, chunks))
            return PendingParses((done,))
        pool = self._executor()
        parts = self.processes if words >= _IN_PROCESS_WORDS else 1
        size = -(-len(chunks) // parts)
        return PendingParses(
            tuple(
                pool.submit(_annotate_in_worker, self.model, chunks[i : i + size]) for i in range(0, len(chunks), size)
            )
        )

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the ingest process runs onnxruntime and Chroma threads.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)  # parses read ahead of a failure
                self._pool = None


@dataclass(frozen=True, slots=True)
class PendingParses:
    """A batch being parsed, in parts; :meth:`result` waits for them and gives one payload per chunk, in order."""

    parts: tuple[Future[list[bytes]], ...]

    def result(self) -> list[bytes]:
        return [payload for part in self.parts for payload in part.result()]


class StoredAnnotations:
    """The parses stored for the passages a question retrieved, found by text (a ``DocLookup``).

    :meth:`prime` reads the retrieved chunks' payloads in one store call and notes which
    chunk holds which text; a chunk's bytes are turned into Docs only when one of its texts
    is asked for. Bounded: the oldest chunks are forgotten first.
    """

    def __init__(self, store: ChunkStore, pipeline: Callable[[], str], max_chunks: int = 256) -> None:
        self.store = store
        self._pipeline = pipeline
        self.max_chunks = max_chunks
        self._payloads: OrderedDict[str, bytes | dict[str, Doc]] = OrderedDict()
        self._where: dict[str, str] = {}  # text -> chunk id
        self._texts: dict[str, list[str]] = {}  # chunk id -> its texts
        self._lock = threading.Lock()

    def prime(self, passages: Sequence[Passage]) -> None:
        """Read the stored parses of ``passages`` that are not held yet."""
        with self._lock:
            wanted = [p for p in passages if p.chunk_id not in self._payloads]
        if not wanted:
            return
        payloads = self.store.annotations(list(dict.fromkeys(p.chunk_id for p in wanted)), self._pipeline())
        with self._lock:
            for passage in wanted:
                data = payloads.get(passage.chunk_id)
                if data is None or passage.chunk_id in self._payloads:
                    continue
                self._payloads[passage.chunk_id] = data
                self._texts[passage.chunk_id] = annotation_texts(passage.title, passage.text)
                for text in self._texts[passage.chunk_id]:
                    self._where[text] = passage.chunk_id
            while len(self._payloads) > self.max_chunks:
                old, _ = self._payloads.popitem(last=False)
                for text in self._texts.pop(old, []):
                    if self._where.get(text) == old:
                        del self._where[text]

    def doc(self, text: str, vocab: Vocab) -> Doc | None:
        with self._lock:
            chunk_id = self._where.get(text)
            held = self._payloads.get(chunk_id) if chunk_id is not None else None
        if held is None or chunk_id is None:
            return None
        if isinstance(held, bytes):
            held = {d.text: d for d in docs_from_bytes(held, vocab)}
            with self._lock:
                if chunk_id in self._payloads:
                    self._payloads[chunk_id] = held
        return held.get(text)
