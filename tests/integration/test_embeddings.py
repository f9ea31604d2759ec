from __future__ import annotations

import numpy as np
import pytest

from bot.core.errors import ConfigError
from index.embeddings import LocalMiniLMEmbeddings, embed_array, make_embeddings


def test_vectors_are_unit_length_and_semantic(embeddings: LocalMiniLMEmbeddings) -> None:
    v = embeddings.embed_array(
        [
            "Putin and Zelenskyy may meet in Geneva",
            "Russian and Ukrainian presidents could hold talks in Switzerland",
            "A recipe for banana bread with walnuts",
        ]
    )
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.4 > v[0] @ v[2]


def test_order_is_preserved_despite_length_sorting(embeddings: LocalMiniLMEmbeddings) -> None:
    texts = ["short", "a much longer sentence about the peace talks in Istanbul " * 5, "medium length text"]
    together = embeddings.embed_array(texts)
    alone = np.stack([embeddings.embed_array([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_short_texts_share_a_call_and_a_full_window_goes_alone() -> None:
    embeddings = LocalMiniLMEmbeddings(batch_tokens=64)
    windows = [[1] * 10, [1] * 120, [1] * 12, [1] * 30, [1] * 14]
    batches = embeddings._batches(windows)
    assert batches == [[0, 2, 4], [3], [1]]  # 3 x 16 padded tokens fit 64; 2 x 32 too; 120 alone
    assert sorted(i for b in batches for i in b) == list(range(len(windows)))


def test_batched_vectors_match_one_text_per_call(embeddings: LocalMiniLMEmbeddings) -> None:
    texts = ["Talks in Istanbul", "The mayor resigned on Tuesday", "Rain is expected", "A ferry ran aground"]
    batched = LocalMiniLMEmbeddings(batch_tokens=512).embed_array(texts)
    single = LocalMiniLMEmbeddings(batch_tokens=8).embed_array(texts)
    assert np.allclose(batched, single, atol=2e-3)


def test_langchain_and_chroma_interfaces_agree(embeddings: LocalMiniLMEmbeddings) -> None:
    docs = embeddings.embed_documents(["one text", "another"])
    query = embeddings.embed_query("one text")
    chroma = embeddings(["one text"])
    assert len(docs) == 2 and len(docs[0]) == 384
    assert np.allclose(docs[0], query, atol=1e-5)
    assert np.allclose(chroma[0], query, atol=1e-5)
    assert embeddings.name() == embeddings.model_name


def test_long_text_is_windowed_not_crashing(embeddings: LocalMiniLMEmbeddings) -> None:
    vector = embeddings.embed_query("ceasefire " * 3000)
    assert len(vector) == 384


def test_windowing_matches_full_context_closely() -> None:
    text = " ".join(["The summit in Geneva was denied by both governments on Thursday."] * 20)
    windowed = LocalMiniLMEmbeddings(window=64, max_windows=4).embed_array([text])[0]
    full = LocalMiniLMEmbeddings(window=256).embed_array([text])[0]
    assert float(windowed @ full) > 0.9


def test_window_settings_are_part_of_the_model_name() -> None:
    assert LocalMiniLMEmbeddings().model_name == "all-MiniLM-L6-v2-onnx-int8@128x1"
    assert LocalMiniLMEmbeddings(window=256).model_name != LocalMiniLMEmbeddings().model_name


def test_only_the_first_window_is_embedded_by_default(embeddings: LocalMiniLMEmbeddings) -> None:
    opening = "The ferry service starts in June, the city council said on Tuesday. " * 12
    tail = " Meanwhile the football club won the cup final after extra time." * 12
    assert np.allclose(embeddings.embed_array([opening + tail]), embeddings.embed_array([opening]), atol=1e-4)


def test_embed_array_helper_normalises_plain_langchain_embeddings() -> None:
    from langchain_core.embeddings import FakeEmbeddings

    class Named(FakeEmbeddings):
        model_name: str = "fake"

    out = embed_array(Named(size=8), ["a", "b"])
    assert out.shape == (2, 8)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_openai_embeddings_need_a_key() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_embeddings("openai")
    with pytest.raises(ConfigError, match="unknown embedding"):
        make_embeddings("bogus")
