"""The write path end to end with the real Chroma and the real embedding model."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.core.errors import IndexMismatchError
from bot.core.settings import Settings
from index.embeddings import LocalMiniLMEmbeddings
from index.lexical import LexicalIndex
from index.stats import index_stats
from index.store import ChunkStore, make_client
from tests.conftest import REPO, app_for

ARTICLE = """---
title: "{title}"
outlet: "{outlet}"
url: "https://{host}/{slug}"
published_at: "2025-04-0{day}T10:00:00+00:00"
---
{body}
"""

BODY = (
    "City officials in Port Ellery confirmed on Tuesday that the new harbour ferry will start service in June. "
    "The ferry will carry up to 240 passengers and run every twenty minutes during the morning peak. "
    "Transport director Lena Voss said the project stayed within its budget of 38 million pounds. "
    "Residents of the eastern districts have waited almost a decade for a direct crossing to the centre. "
    "Tickets will cost the same as a single tram fare, and season passes will be valid on both services. "
    "Critics argue the timetable is too thin in the evenings and on Sundays, when demand is highest."
)


def write(folder: Path, name: str, title: str, body: str = BODY, outlet: str = "Harbour Post", day: int = 2) -> Path:
    path = folder / f"{name}.md"
    path.write_text(
        ARTICLE.format(title=title, outlet=outlet, host=outlet.lower().replace(" ", ""), slug=name, day=day, body=body)
    )
    return path


def story(i: int, sentences: int = 14) -> str:
    """A story of its own (a shared template would make them near-duplicates of each other)."""
    return " ".join(
        f"Report {i}-{k}: district {i} council approved item {100 * i + k} with {i + k} votes in favour."
        for k in range(sentences)
    )


def ingest(settings: Settings, embeddings: LocalMiniLMEmbeddings, *sources: Path) -> dict[str, int]:
    app = app_for(settings, embeddings)
    report = app.indexer.ingest([str(s) for s in sources], None, settings.max_source_bytes)
    counts = {s: report.count(s) for s in ("added", "updated", "unchanged", "duplicate", "error")}
    counts["chunks"] = report.chunks_written
    return counts


def lexical_ids(lexical: LexicalIndex) -> list[str]:
    """Every chunk id in the lexical index (each chunk has a title, so a title word of any finds it)."""
    return sorted(h.chunk_id for h in lexical.top_chunks(lexical.terms("council ferry harbour district"), 10_000))


def test_sample_corpus_indexes_with_metadata(sample_settings: Settings, embeddings: LocalMiniLMEmbeddings) -> None:
    store = app_for(sample_settings, embeddings).store
    stats = index_stats(store, sample_settings.data_dir)
    assert stats.articles >= 14 and stats.duplicates == 1 and stats.pending == 0
    assert stats.undated >= 1
    assert stats.first is not None and stats.first.tzinfo is not None
    chunks, _ = store.chunks()
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)) == stats.chunks
    for chunk in chunks:
        assert chunk.title and chunk.outlet and chunk.article_id
        body = store.article_body(chunk.article_id)
        assert body is not None
        assert body[chunk.start : chunk.end] == chunk.text, "chunk span must point into the body"
        assert chunk.tokens <= 256


def test_reingest_unchanged_changes_nothing(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "ferry", "Harbour ferry to start in June")
    first = ingest(settings, embeddings, folder)
    assert first["added"] == 1 and first["chunks"] >= 1
    store = app_for(settings, embeddings).store
    generation = store.generation()
    second = ingest(settings, embeddings, folder)
    assert second == {"added": 0, "updated": 0, "unchanged": 1, "duplicate": 0, "error": 0, "chunks": 0}
    assert app_for(settings, embeddings).store.generation() == generation


def test_changed_article_replaces_its_chunks(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    long_body = "\n\n".join([BODY] * 6)
    write(folder, "ferry", "Harbour ferry to start in June", body=long_body)
    ingest(settings, embeddings, folder)
    store = app_for(settings, embeddings).store
    before = store.chunk_count()
    assert before >= 3
    write(folder, "ferry", "Harbour ferry to start in June", body=BODY.replace("June", "September"))
    result = ingest(settings, embeddings, folder)
    assert result["updated"] == 1
    store = app_for(settings, embeddings).store
    texts = [c.text for c in store.chunks()[0]]
    assert store.chunk_count() < before, "stale chunks of the old version must be gone"
    assert all("June" not in t for t in texts) and any("September" in t for t in texts)
    lexical = LexicalIndex(settings.lexical_dir)
    assert lexical_ids(lexical) == sorted(c.id for c in store.chunks()[0]), "the lexical index follows the store"
    assert lexical.top_chunks(lexical.terms("September"), 3)


def test_near_duplicate_is_one_story_with_two_outlets(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "a", "Harbour ferry to start in June", outlet="Harbour Post")
    copy = "PORT ELLERY (Wire) — " + BODY.replace("Critics argue", "Some critics argue")
    write(folder, "b", "Ferry service to begin in June, city says", body=copy, outlet="Northline Wire", day=3)
    cup = (
        "FC Lindenberg beat Rheinau Rovers 2-1 after extra time in the Alpine Cup final on Friday night. "
        "Captain Jonas Meier scored the winner in the 113th minute in front of 31,000 fans. "
        "It was the club's first cup title since 1998, and the city plans a parade on Sunday."
    )
    write(folder, "c", "Cup final ends in extra time", body=cup, outlet="Alpine Courier")
    result = ingest(settings, embeddings, folder)
    assert result["added"] == 2 and result["duplicate"] == 1
    store = app_for(settings, embeddings).store
    records = store.get_records()
    canonical = next(r for r in records.values() if r.outlet == "Harbour Post")
    assert canonical.also_in == ("Northline Wire",)
    duplicate = next(r for r in records.values() if r.outlet == "Northline Wire")
    assert duplicate.duplicate_of == canonical.id and duplicate.chunk_count == 0
    assert {c.outlet for c in store.chunks()[0]} == {"Harbour Post", "Alpine Courier"}


def test_index_refuses_another_embedding_model(settings: Settings, embeddings: LocalMiniLMEmbeddings) -> None:
    assert app_for(settings, embeddings).store.chunk_count() == 0

    other = LocalMiniLMEmbeddings(window=256)  # same model, different inputs: different vectors
    with pytest.raises(IndexMismatchError, match="all-MiniLM-L6-v2-onnx-int8@128x1"):
        ChunkStore(make_client(settings.chroma_dir), settings.collection, other)


def test_bad_items_are_reported_and_the_rest_lands(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "good", "Harbour ferry to start in June")
    (folder / "empty.txt").write_text("")
    (folder / "bad.json").write_text("{not json")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    app = app_for(settings, embeddings)
    report = app.indexer.ingest(
        [str(folder), str(tmp_path / "missing.md"), "http://127.0.0.1/admin", "file:///etc/passwd"],
        None,
        settings.max_source_bytes,
    )
    assert report.count("added") == 1
    reasons = {e.source.rsplit("/", 1)[-1]: e.detail for e in report.errors}
    assert len(report.errors) == 6, reasons
    assert all(detail and "\n" not in detail for detail in reasons.values())
    assert index_stats(app_for(settings, embeddings).store, None).articles == 1


CRASHING_INGEST = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from bot.core.settings import load_settings
    from bot.app import Factdesk
    from index.store import ChunkStore, STATUS_COMPLETE

    calls = {"n": 0}
    original = ChunkStore.upsert_chunks

    def upsert_then_die(self, items, vectors):
        original(self, items, vectors)
        calls["n"] += 1
        if calls["n"] == 2:  # second batch: chunks written, records still pending
            os.kill(os.getpid(), signal.SIGKILL)

    ChunkStore.upsert_chunks = upsert_then_die
    settings = load_settings(None, data_dir=Path(sys.argv[1]))
    indexer = Factdesk.from_settings(settings).indexer
    indexer.batch_articles = 4
    indexer.ingest([sys.argv[2]], None, settings.max_source_bytes)
    print("finished without crashing")
    """
)


def test_kill_9_mid_ingest_then_rerun_is_consistent(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(10):
        write(folder, f"story{i}", f"District {i} council approves its budget", body=story(i))
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_INGEST, str(settings.data_dir), str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    store = app_for(settings, embeddings).store
    assert index_stats(store, None).pending > 0, "the crash should leave pending records"

    result = ingest(settings, embeddings, folder)
    assert result["error"] == 0
    store = app_for(settings, embeddings).store
    stats = index_stats(store, None)
    assert stats.pending == 0
    assert stats.articles + stats.duplicates == 10
    chunks, _ = store.chunks()
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids))
    per_article: dict[str, int] = {}
    for chunk in chunks:
        per_article[chunk.article_id] = per_article.get(chunk.article_id, 0) + 1
    for record in store.get_records().values():
        assert per_article.get(record.id, 0) == record.chunk_count
    lexical = LexicalIndex(settings.lexical_dir)
    assert lexical_ids(lexical) == sorted(ids) and lexical.generation == store.generation()
    again = ingest(settings, embeddings, folder)
    assert again["chunks"] == 0 and again["unchanged"] + again["duplicate"] == 10


def test_repository_methods_return_typed_records(sample_settings: Settings, embeddings: LocalMiniLMEmbeddings) -> None:
    """What serving code reads from the store: typed records, filtered inside the store."""
    from datetime import UTC, datetime

    store = app_for(sample_settings, embeddings).store
    start, end = datetime(2025, 4, 3, tzinfo=UTC), datetime(2025, 4, 4, tzinfo=UTC)
    in_window = store.articles_published(start, end)
    assert in_window and all(r.published_at is not None and start <= r.published_at < end for r in in_window)
    assert {r.status for r in in_window} == {"complete", "duplicate"}  # the wire copy is on 3 April
    canonical = next(r for r in in_window if r.copies)
    assert canonical.also_in == tuple(c.outlet for c in canonical.copies)
    assert all(c.id and c.outlet for c in canonical.copies)

    chunks, vectors = store.first_chunks(start, end, max_index=1)
    assert chunks and all(c.index == 0 for c in chunks) and vectors.shape == (len(chunks), 384)
    assert {c.article_id for c in chunks} <= {r.id for r in in_window}

    since = store.complete_articles_since(datetime(2025, 4, 5, tzinfo=UTC))
    assert since and all(a.record.status == "complete" and a.body and a.vector.shape == (384,) for a in since)
    assert store.undated_article_count() == 2  # the library story and the seed article
    assert store.article_count() == len(store.get_records())

    vector = embeddings.embed_array(["Quillon Systems quarterly revenue"])[0]
    quillon = [r.id for r in store.get_records().values() if "Quillon" in r.title]
    hits = store.dense_search(vector, 5, article_ids=quillon)
    by_id = {c.id: c for c in store.chunks()[0]}
    assert hits and all(by_id[cid].article_id in quillon and -1.0 <= cosine <= 1.0 for cid, cosine in hits)
    assert hits == sorted(hits, key=lambda h: -h[1])
    assert store.dense_search(vector, 5, article_ids=[]) == []
