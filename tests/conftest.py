"""Shared fixtures: the real embedding model, temp data dirs, the sample corpus indexed once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import Settings, load_settings
from index.embeddings import LocalMiniLMEmbeddings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE_CORPUS = REPO / "samples" / "corpus"
SEED_ARTICLE = SAMPLE_CORPUS / "seed-article.txt"  # the seed article, shipped with the samples
MULTIHOP_CORPUS = SHARED / "data" / "multihop-rag" / "corpus.json"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's keys or settings."""
    for name in list(os.environ):
        if name.startswith(("FACTDESK_", "OPENAI_", "DISCORD_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embeddings() -> LocalMiniLMEmbeddings:
    return LocalMiniLMEmbeddings()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Path:
    """The shipped sample corpus, ingested once per test session (copy it before writing)."""
    from bot.app.wiring import build_indexer, build_store

    data_dir = tmp_path_factory.mktemp("sample-index")
    settings = load_settings(None, data_dir=data_dir)
    store = build_store(settings, embeddings)
    report = build_indexer(settings, store).ingest([str(SAMPLE_CORPUS)], None, settings.max_source_bytes)
    assert not report.errors, report.errors
    return data_dir


@pytest.fixture
def sample_settings(sample_index_dir: Path, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a private copy of the indexed sample corpus."""
    target = tmp_path / "sample-data"
    shutil.copytree(sample_index_dir, target)
    yield load_settings(None, data_dir=target)
