"""factdesk against a real ``chroma run`` server: the same store code path as the embedded client."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from index.stats import index_stats
from tests.conftest import SAMPLE_CORPUS, app_for
from tests.integration.test_index_store import ingest

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on loopback, stopped after the test."""
    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    assert exe, "the chroma CLI ships with chromadb"
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert proc.poll() is None, "chroma run exited early"
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start within 60 s")
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.server
def test_client_server_mode_uses_the_same_code_path(
    chroma_server: tuple[str, int], embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    host, port = chroma_server
    settings = load_settings(None, data_dir=tmp_path / "local", chroma_host=host, chroma_port=port)
    first = ingest(settings, embeddings, SAMPLE_CORPUS)
    assert first["added"] >= 14 and first["error"] == 0
    assert not settings.chroma_dir.exists(), "server mode must not write an embedded store"
    again = ingest(settings, embeddings, SAMPLE_CORPUS)
    assert again["added"] == 0 and again["chunks"] == 0
    store = app_for(settings, embeddings).store
    assert index_stats(store, None).articles == first["added"]
    lexical = app_for(settings, embeddings).indexer.lexical
    assert lexical is not None and lexical.generation == store.generation()
    assert lexical.top_chunks(lexical.terms("Geneva meeting denied"), 3)


@pytest.mark.server
def test_two_bots_on_one_server_see_each_others_ingest(
    chroma_server: tuple[str, int], embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    """Each bot keeps its own lexical index; it catches up from the server with the changed articles only."""
    host, port = chroma_server
    one = load_settings(None, data_dir=tmp_path / "one", chroma_host=host, chroma_port=port, collection="two-bots")
    two = load_settings(None, data_dir=tmp_path / "two", chroma_host=host, chroma_port=port, collection="two-bots")
    writer = app_for(one, embeddings)
    writer.ingest([str(SAMPLE_CORPUS)])
    reader = app_for(two, embeddings)
    retriever = reader.answerer.retriever
    assert retriever.retrieve("Geneva meeting denied", 3).passages
    before = retriever.lexical.generation
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "glacier.md").write_text(
        '---\ntitle: "Glacier railway reopens"\noutlet: "Alpine Courier"\n'
        'published_at: "2025-04-09T10:00:00+00:00"\n---\n'
        "The Zermatt glacier railway reopened on Wednesday after a landslide closed it for three weeks. "
        "Engineers rebuilt 400 metres of track and the first train carried 120 passengers.\n"
    )
    assert writer.ingest([str(folder)]).count("added") == 1
    found = retriever.retrieve("glacier railway landslide reopened", 3).passages
    assert found and "glacier railway" in found[0].text
    assert retriever.lexical.generation == before + 1, "one generation caught up, not a rebuild"
