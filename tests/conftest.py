"""Shared fixtures: the real embedding model, temp data dirs, the sample corpus indexed once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.language_models import BaseChatModel

from bot.core.settings import Settings, load_settings
from index.embeddings import LocalMiniLMEmbeddings

if TYPE_CHECKING:
    from bot.app import Factdesk

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE_CORPUS = REPO / "samples" / "corpus"
TEST_DATA = REPO / "tests" / "data"
# The article this project started from ships in the sample corpus (same text as ../shared/seed/article.txt).
SEED_ARTICLE = SAMPLE_CORPUS / "seed-article.txt"
# Data beside the repository, not in it: tests that read it skip with a reason when it is absent.
MULTIHOP_CORPUS = SHARED / "data" / "multihop-rag" / "corpus.json"
needs_multihop = pytest.mark.skipif(
    not MULTIHOP_CORPUS.exists(), reason=f"MultiHop-RAG corpus not beside the repository ({MULTIHOP_CORPUS})"
)


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
    from bot.app import Factdesk

    data_dir = tmp_path_factory.mktemp("sample-index")
    with Factdesk.from_settings(load_settings(None, data_dir=data_dir), embeddings=embeddings) as app:
        report = app.ingest([str(SAMPLE_CORPUS)])
    assert not report.errors, report.errors
    return data_dir


@pytest.fixture
def sample_settings(sample_index_dir: Path, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a private copy of the indexed sample corpus."""
    target = tmp_path / "sample-data"
    shutil.copytree(sample_index_dir, target)
    yield load_settings(None, data_dir=target)


def app_for(settings: Settings, embeddings: LocalMiniLMEmbeddings, llm: BaseChatModel | None = None) -> Factdesk:
    """The application on ``settings`` with the session's embedding model (and a fake chat model)."""
    from bot.app import Factdesk

    return Factdesk.from_settings(settings, embeddings=embeddings, llm=llm)


class Untouchable:
    """Stands in for a part a code path must not use: any attribute access fails, naming ``what``."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{self._what} was used ({name})")
