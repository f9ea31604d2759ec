"""Issue 13, index consistency: the lexical index cannot drift from the store; one writer per data dir."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.errors import StoreError
from bot.core.settings import Settings
from index.embeddings import LocalMiniLMEmbeddings
from index.lexical import LexicalIndex
from tests.conftest import REPO, Untouchable, app_for
from tests.integration.test_index_store import BODY, ingest, lexical_ids, story, write


def _stories(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        write(folder, f"story{i}", f"District {i} council approves its budget", body=story(i, sentences=6))


def _ingested(settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, n: int) -> Path:
    """A folder of n stories, ingested; returns the folder."""
    folder = tmp_path / "in"
    _stories(folder, n)
    ingest(settings, embeddings, folder)
    return folder


def test_a_failure_before_the_lexical_commit_is_caught_up_on_rerun(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _ingested(settings, embeddings, tmp_path, 3)
    _stories(folder, 2, start=3)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed between the chunk writes and the lexical commit")

    with monkeypatch.context() as patch:
        patch.setattr(LexicalIndex, "replace", crash)
        with pytest.raises(RuntimeError):
            ingest(settings, embeddings, folder)
    store = app_for(settings, embeddings).store
    stale = LexicalIndex(settings.lexical_dir)
    assert len(lexical_ids(stale)) < store.chunk_count(), "the crash left the lexical index behind"

    again = ingest(settings, embeddings, folder)
    assert again["unchanged"] == 5 and again["chunks"] == 0, "the store itself was complete"
    lexical = LexicalIndex(settings.lexical_dir)
    assert lexical_ids(lexical) == sorted(c.id for c in store.chunks()[0])
    assert lexical.generation == store.generation()
    found = app_for(settings, embeddings).answerer.retriever.retrieve("district 4 council budget", 3)
    assert any("district 4" in p.text for p in found.passages), "the new articles are answerable"


def test_a_reader_catches_up_when_the_lexical_index_is_behind(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    _ingested(settings, embeddings, tmp_path, 2)
    state = settings.lexical_dir / "state.json"
    raw = json.loads(state.read_text())
    raw["generation"] = 0  # as if the last batch's lexical commit never happened
    state.write_text(json.dumps(raw))
    retriever = app_for(settings, embeddings).answerer.retriever
    assert retriever.retrieve("district 1 council budget", 3).passages
    assert LexicalIndex(settings.lexical_dir).generation == retriever.store.generation()


def test_the_old_bm25_sidecar_is_removed_and_the_index_built_from_the_store(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    _ingested(settings, embeddings, tmp_path, 2)
    store = app_for(settings, embeddings).store
    import shutil

    shutil.rmtree(settings.lexical_dir)
    settings.bm25_dir.mkdir()
    (settings.bm25_dir / "stamp.json").write_text('{"stamp": "x", "format": 2}')
    app = app_for(settings, embeddings)
    assert not settings.bm25_dir.exists()
    assert app.answerer.retriever.retrieve("district 1 council budget", 3).passages
    assert lexical_ids(LexicalIndex(settings.lexical_dir)) == sorted(c.id for c in store.chunks()[0])


HOLD_LOCK = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from index.pipeline import _WriterLock

    with _WriterLock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
    """
)


def test_a_second_ingest_is_one_line_naming_the_first(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    _stories(folder, 1)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.ingest_lock_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=rf"^another ingest is running \(pid {holder.pid}\)$"):
            app_for(settings, embeddings).ingest([str(folder)])
    finally:
        holder.kill()
        holder.wait()
    assert ingest(settings, embeddings, folder)["added"] == 1, "the lock is free once the holder is gone"


def test_a_lost_copy_list_is_repaired_on_rerun(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    """kill -9 between the copy's record and its canonical's also_in: the rerun lists the copy."""
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "a", "Harbour ferry to start in June", outlet="Harbour Post")
    copy = "PORT ELLERY (Wire) — " + BODY.replace("Critics argue", "Some critics argue")
    write(folder, "b", "Ferry service to begin in June, city says", body=copy, outlet="Northline Wire", day=3)
    assert ingest(settings, embeddings, folder)["duplicate"] == 1
    store = app_for(settings, embeddings).store
    canonical = next(r for r in store.get_records().values() if r.outlet == "Harbour Post")
    meta = store._articles.get(ids=[canonical.id], include=["metadatas"])["metadatas"][0]  # type: ignore[index]
    store._articles.update(ids=[canonical.id], metadatas=[{**meta, "also_in": "[]"}])
    assert store.get_records([canonical.id])[canonical.id].also_in == ()

    again = ingest(settings, embeddings, folder)
    assert again["duplicate"] == 1 and again["chunks"] == 0
    repaired = app_for(settings, embeddings).store.get_records([canonical.id])[canonical.id]
    assert repaired.also_in == ("Northline Wire",)


INGEST_ELSEWHERE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.app import Factdesk
    from bot.core.settings import load_settings

    with Factdesk.from_settings(load_settings(None, data_dir=Path(sys.argv[1]))) as app:
        report = app.ingest([sys.argv[2]])
    print(report.count("added"))
    """
)


def test_a_long_running_reader_sees_another_processes_ingest(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    """The bot and a cron ``factdesk ingest`` on one embedded data dir: the next question sees it."""
    first = tmp_path / "first"
    _stories(first, 2)
    ingest(settings, embeddings, first)
    reader = app_for(settings, embeddings).answerer.retriever
    assert not any("district 7" in p.text for p in reader.retrieve("district 7 council budget", 3).passages)

    later = tmp_path / "later"
    _stories(later, 1, start=7)
    proc = subprocess.run(
        [sys.executable, "-c", INGEST_ELSEWHERE, str(settings.data_dir), str(later)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr[-2000:]
    found = reader.retrieve("district 7 council budget", 3).passages
    assert found and "district 7" in found[0].text, "the next question sees the other process's article"
    since = reader.store.complete_articles_since(datetime(2000, 1, 1, tzinfo=UTC))  # vectors, as digests read them
    assert any("district 7" in a.body and a.vector.shape == (384,) for a in since)


def test_a_repair_after_a_finished_ingest_scans_no_article_records(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check every ingest and catch-up makes first is two small state reads, not a scan of every record."""
    _ingested(settings, embeddings, tmp_path, 2)
    app = app_for(settings, embeddings)
    generation = app.store.generation()
    assert app.store.records_since(generation - 1), "records of the last batch are found"
    monkeypatch.setattr(app.store, "_articles", Untouchable("the article collection"))
    assert app.store.records_since(generation) == []
    app.indexer.repair()


def test_a_batch_begun_but_not_announced_is_still_found(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _ingested(settings, embeddings, tmp_path, 2)
    _stories(folder, 1, start=2)
    app = app_for(settings, embeddings)
    generation = app.store.generation()
    monkeypatch.setattr(type(app.store), "set_generation", lambda self, seq: None)  # dies before announcing
    app.indexer.ingest([str(folder)], None, settings.max_source_bytes)
    assert app.store.generation() == generation
    assert [r.title for r in app.store.records_since(generation)] == ["District 2 council approves its budget"]
