"""The SQLite table of spaCy parses beside an embedded store (real spaCy, MiniLM, Chroma, SQLite).

Parses live outside Chroma metadata; they are written after the chunks and before the
article is complete, deleted with the chunks, survive a ``kill -9`` at the worst moments,
and an index built when they lived in a Chroma collection is moved over without parsing again.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.core.settings import Settings
from bot.core.text.nlp import TextAnalyzer, annotation_texts, docs_from_bytes, pipeline_id
from index.annotations import Annotator
from index.embeddings import LocalMiniLMEmbeddings
from index.store import ChunkStore
from tests.conftest import REPO, app_for
from tests.integration.test_index_store import BODY, ingest, write

LONG_BODY = " ".join(BODY.replace("ferry", f"ferry {i}") for i in range(5))  # several chunks


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


@pytest.fixture
def ferry_folder(tmp_path: Path) -> Path:
    """An input folder with one several-chunk article."""
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "ferry", "Harbour ferry to start in June", body=LONG_BODY)
    return folder


def _stored(store: ChunkStore, analyzer: TextAnalyzer) -> dict[str, list[str]]:
    records, _ = store.chunks()
    payloads = store.annotations([c.id for c in records], pipeline_id(analyzer.nlp))
    return {cid: [d.text for d in docs_from_bytes(data, analyzer.nlp.vocab)] for cid, data in payloads.items()}


def _consistent(settings: Settings, embeddings: LocalMiniLMEmbeddings, analyzer: TextAnalyzer) -> None:
    """Every article complete; exactly one parse per chunk, of its own texts; nothing left over."""
    store = app_for(settings, embeddings).store
    assert {r.status for r in store.get_records().values()} == {"complete"}
    records = {c.id: c for c in store.chunks()[0]}
    stored = _stored(store, analyzer)
    assert set(stored) == set(records)
    assert store._annotations.count() == len(records), "no parse of a deleted chunk is left"
    for cid, texts in stored.items():
        assert texts == annotation_texts(records[cid].title, records[cid].text)


def _collections(store: ChunkStore) -> set[str]:
    return {c.name for c in store._client.list_collections()}


def test_an_embedded_store_keeps_parses_in_sqlite_not_in_chroma(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, ferry_folder: Path, analyzer: TextAnalyzer
) -> None:
    assert ingest(settings, embeddings, ferry_folder)["added"] == 1
    store = app_for(settings, embeddings).store
    assert f"{settings.collection}-annotations" not in _collections(store)
    assert (settings.chroma_dir / f"factdesk-annotations-{settings.collection}.sqlite3").exists()
    assert len(store.chunks()[0]) > 1
    _consistent(settings, embeddings, analyzer)


def test_an_index_with_parses_in_chroma_metadata_is_moved_over_without_parsing_again(
    settings: Settings,
    embeddings: LocalMiniLMEmbeddings,
    ferry_folder: Path,
    analyzer: TextAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(ferry_folder, "tram", "Tram fares frozen", body=BODY.replace("ferry", "tram"))
    ingest(settings, embeddings, ferry_folder)
    store = app_for(settings, embeddings).store
    pipeline = pipeline_id(analyzer.nlp)
    records, _ = store.chunks()
    before = store.annotations([c.id for c in records], pipeline)
    # The layout of an index built before the table: base64 DocBins in a collection's metadata.
    legacy = store._client.get_or_create_collection(
        f"{settings.collection}-annotations",
        configuration={"hnsw": {"space": "l2"}},
        metadata={"embedding_model": embeddings.model_name, "kind": "annotations"},
        embedding_function=None,
    )
    legacy.upsert(
        ids=[c.id for c in records],
        embeddings=np.zeros((len(records), 1), dtype=np.float32),
        metadatas=[
            {"article_id": c.article_id, "pipeline": pipeline, "docs": base64.b64encode(before[c.id]).decode("ascii")}
            for c in records
        ],
    )
    store.delete_annotations([c.id for c in records])
    assert not store.annotations([c.id for c in records], pipeline)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored parses are moved, not made again")

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the collection was dropped")

    with monkeypatch.context() as patch:
        patch.setattr(Annotator, "submit", no_parsing)
        # A migration killed after copying, before the collection is dropped, is redone by the next ingest.
        patch.setattr(type(store._client), "delete_collection", killed)
        with pytest.raises(RuntimeError, match="dropped"):
            ingest(settings, embeddings, ferry_folder)
    store = app_for(settings, embeddings).store
    assert f"{settings.collection}-annotations" in _collections(store)

    with monkeypatch.context() as patch:
        patch.setattr(Annotator, "submit", no_parsing)
        assert ingest(settings, embeddings, ferry_folder)["unchanged"] == 2
    store = app_for(settings, embeddings).store
    assert f"{settings.collection}-annotations" not in _collections(store)
    assert store.annotations([c.id for c in records], pipeline) == before
    _consistent(settings, embeddings, analyzer)


def test_a_failure_after_the_parses_before_the_article_is_complete_is_redone(
    settings: Settings,
    embeddings: LocalMiniLMEmbeddings,
    ferry_folder: Path,
    analyzer: TextAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(settings, embeddings, ferry_folder)
    # Re-ingest with fewer chunks; fail once the old chunks are gone but their parses are not.
    write(ferry_folder, "ferry", "Harbour ferry delayed to July", body=BODY.replace("June", "July"))
    real_delete = ChunkStore.delete_chunks

    def chunks_only(self: ChunkStore, article_ids: object) -> None:
        ids = list(article_ids)  # type: ignore[call-overload]
        self._chunks.delete(where={"article_id": {"$in": ids}})
        raise RuntimeError("killed between deleting the chunks and their parses")

    with monkeypatch.context() as patch:
        patch.setattr(ChunkStore, "delete_chunks", chunks_only)
        with pytest.raises(RuntimeError):
            ingest(settings, embeddings, ferry_folder)
    assert ChunkStore.delete_chunks is real_delete
    store = app_for(settings, embeddings).store
    assert {r.status for r in store.get_records().values()} == {"pending"}
    assert ingest(settings, embeddings, ferry_folder)["updated"] == 1
    _consistent(settings, embeddings, analyzer)


KILL_AT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from bot.app import Factdesk
    from bot.core.settings import load_settings
    from index.annotation_table import SqliteAnnotations
    from index.store import ChunkStore

    data_dir, ferry_folder, where = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    real = SqliteAnnotations.upsert

    def killed_in_transaction(self, chunks, payloads, pipeline):
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "INSERT OR REPLACE INTO parses VALUES (?, ?, ?, ?)",
            [(c, a, pipeline, d) for (c, a), d in zip(chunks, payloads)],
        )
        os.kill(os.getpid(), signal.SIGKILL)

    def killed_after(self, chunks, payloads, pipeline):
        real(self, chunks, payloads, pipeline)
        os.kill(os.getpid(), signal.SIGKILL)

    SqliteAnnotations.upsert = killed_in_transaction if where == "transaction" else killed_after
    settings = load_settings(None, data_dir=data_dir)
    Factdesk.from_settings(settings).indexer.ingest([ferry_folder], None, settings.max_source_bytes)
    """
)


@pytest.mark.parametrize("where", ["transaction", "after"])
def test_kill_9_while_or_after_writing_the_parses_leaves_a_store_the_rerun_completes(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, ferry_folder: Path, analyzer: TextAnalyzer, where: str
) -> None:
    write(ferry_folder, "tram", "Tram fares frozen", body=BODY.replace("ferry", "tram"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTDESK_")}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AT, str(settings.data_dir), str(ferry_folder), where],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    store = app_for(settings, embeddings).store
    assert {r.status for r in store.get_records().values()} == {"pending"}, "not complete: the kill came first"
    if where == "transaction":
        assert store._annotations.count() == 0, "an uncommitted batch of parses is not half there"
    assert ingest(settings, embeddings, ferry_folder)["updated"] == 2, "the pending articles are written again"
    _consistent(settings, embeddings, analyzer)


def test_the_next_batch_is_parsed_while_one_is_written_and_lines_keep_their_order(
    settings: Settings,
    embeddings: LocalMiniLMEmbeddings,
    tmp_path: Path,
    analyzer: TextAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        write(folder, f"s{i}", f"Story {i} about the ferry", body=BODY.replace("240", str(100 + i)))
    (folder / "s2b.md").write_bytes(b"\xff\xfe\x00")  # an item that fails, between the batches
    events: list[str] = []
    real_submit, real_upsert = Annotator.submit, ChunkStore.upsert_annotations

    def submit(self: Annotator, chunks: list[tuple[str, str]]) -> object:
        events.append("parse " + ",".join(sorted({t.split()[1] for t, _ in chunks})))
        return real_submit(self, chunks)

    def upsert(self: ChunkStore, chunks: list[tuple[str, str]], payloads: list[bytes], pipeline: str) -> None:
        events.append("write " + ",".join(sorted({cid.split(":")[0][-2:] for cid, _ in chunks})))
        real_upsert(self, chunks, payloads, pipeline)

    monkeypatch.setattr(Annotator, "submit", submit)
    monkeypatch.setattr(ChunkStore, "upsert_annotations", upsert)
    app = app_for(settings, embeddings)
    app.indexer.batch_articles = 2
    lines: list[str] = []
    report = app.indexer.ingest([str(folder)], None, settings.max_source_bytes, lambda r: lines.append(r.status))
    assert report.count("added") == 5 and report.count("error") == 1
    parses = [e for e in events if e.startswith("parse")]
    assert len(parses) == 3, events
    assert events.index(parses[1]) < events.index(next(e for e in events if e.startswith("write"))), (
        "the second batch's parses start before the first batch's are written"
    )
    # Files are read in name order: s0 s1 | s2 s2b(error) s3 | s4.
    assert lines == ["added", "added", "error", "added", "added", "added"]
    _consistent(settings, embeddings, analyzer)
