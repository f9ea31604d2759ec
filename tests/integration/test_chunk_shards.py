"""Chunk shards with the real Chroma: an ingest writes only the current shard, readers see every shard."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import Settings, load_settings
from index.embeddings import LocalMiniLMEmbeddings
from index.lexical import LexicalIndex
from index.store import _SHARD_ID, HNSW_SYNC_THRESHOLD, ArticleRecord, ChunkStore
from tests.conftest import Untouchable, app_for
from tests.integration.test_index_store import ingest, lexical_ids, story, write


@pytest.fixture
def small_shards(tmp_path: Path) -> Settings:
    return load_settings(None, data_dir=tmp_path / "data", chunk_shard_size=2)


def ingest_one(settings: Settings, embeddings: LocalMiniLMEmbeddings, folder: Path, i: int, body: str = "") -> None:
    path = write(folder, f"story{i}", f"District {i} council approves its budget", body=body or story(i))
    counts = ingest(settings, embeddings, path)
    assert counts["added"] + counts["updated"] == 1, counts


def stories_in_shards(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, count: int
) -> tuple[Path, ChunkStore, ArticleRecord]:
    """``count`` stories ingested one at a time: their folder, the store, and story 0's record."""
    folder = ingest_stories(settings, embeddings, tmp_path, count)
    store = app_for(settings, embeddings).store
    return folder, store, story_zero(store)


def story_zero(store: ChunkStore) -> ArticleRecord:
    return next(r for r in store.get_records().values() if r.title.startswith("District 0"))


def revise_story_zero(settings: Settings, embeddings: LocalMiniLMEmbeddings, folder: Path) -> None:
    """Re-ingest story 0 with its votes changed: an update in place, in the shard it was written to."""
    ingest_one(settings, embeddings, folder, 0, body=story(0).replace("votes in favour", "votes against"))


def ingest_stories(settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, count: int) -> Path:
    """Ingest stories 0..count-1 one at a time (each ingest may open a shard); returns their folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(count):
        ingest_one(settings, embeddings, folder, i)
    return folder


def test_new_articles_fill_shards_and_readers_see_them_all(
    small_shards: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    ingest_stories(small_shards, embeddings, tmp_path, 4)
    store = app_for(small_shards, embeddings).store
    records = store.get_records()
    assert store.shard_count() >= 3, "each ingest found the current shard full and opened the next"
    assert len({r.shard for r in records.values()}) == store.shard_count()
    chunks, vectors = store.chunks(with_vectors=True)
    assert vectors is not None and len(vectors) == len(chunks) == store.chunk_count()
    assert store.chunk_count() == sum(r.chunk_count for r in records.values())
    ids = sorted(c.id for c in chunks)
    assert lexical_ids(LexicalIndex(small_shards.lexical_dir)) == ids
    fresh = LexicalIndex(tmp_path / "rebuilt")
    fresh.rebuild(store)  # reads every shard, page by page
    assert lexical_ids(fresh) == ids
    first = story_zero(store)
    assert {c.id for c in store.chunks_of([first.id])[0]} == {c.id for c in chunks if c.article_id == first.id}
    assert set(store.chunks_by_id(ids)) == set(ids)


def test_a_changed_article_is_rewritten_in_its_own_shard(
    small_shards: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder, before, first = stories_in_shards(small_shards, embeddings, tmp_path, 3)
    assert first.shard == 0 and before.shard_count() >= 2
    revise_story_zero(small_shards, embeddings, folder)
    store = app_for(small_shards, embeddings).store
    assert store.get_records([first.id])[first.id].shard == 0
    texts = [c.text for c in store.chunks()[0] if c.article_id == first.id]
    assert texts and all("in favour" not in t for t in texts), "the old version's chunks are gone from its shard"
    assert store.chunk_count() == sum(r.chunk_count for r in store.get_records().values())
    assert lexical_ids(LexicalIndex(small_shards.lexical_dir)) == sorted(c.id for c in store.chunks()[0])


def test_an_ingest_of_new_articles_never_opens_a_full_shard(
    small_shards: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = ingest_stories(small_shards, embeddings, tmp_path, 3)
    app = app_for(small_shards, embeddings)
    current = app.store.shard_count() - 1
    opened: list[int] = []
    real_shard = app.store._shard

    def only_current_or_next(number: int) -> object:
        opened.append(number)
        assert number >= current, f"full shard {number} was opened"
        return real_shard(number)

    monkeypatch.setattr(app.store, "_shard", only_current_or_next)
    monkeypatch.setattr(app.store, "_chunks", Untouchable("shard 0 (full)"))
    path = write(folder, "story9", "District 9 council approves its budget", body=story(9))
    report = app.indexer.ingest([str(path)], None, small_shards.max_source_bytes)
    assert report.count("added") == 1 and not report.errors
    assert opened and min(opened) >= current


def test_a_store_from_before_shards_keeps_its_chunks_in_shard_0(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    folder = ingest_stories(settings, embeddings, tmp_path, 2)
    store = app_for(settings, embeddings).store
    # What an older version wrote: no shard state, no shard on the records.
    store._state.delete(ids=[_SHARD_ID])
    ids = list(store.get_records())
    store._articles.update(ids=ids, metadatas=[{"shard": None} for _ in ids])
    legacy = app_for(settings, embeddings).store
    assert legacy.shard_count() == 1 and {r.shard for r in legacy.get_records().values()} == {0}
    chunks_before = legacy.chunk_count()

    small = load_settings(None, data_dir=settings.data_dir, chunk_shard_size=2)
    ingest_one(small, embeddings, folder, 5)  # shard 0 is counted once, found full: a new shard
    revise_story_zero(small, embeddings, folder)
    store = app_for(small, embeddings).store
    records = {r.title: r for r in store.get_records().values()}
    assert records["District 5 council approves its budget"].shard == 1
    assert records["District 0 council approves its budget"].shard == 0
    assert store.chunk_count() == sum(r.chunk_count for r in records.values()) >= chunks_before
    assert all("in favour" not in c.text for c in store.chunks()[0] if c.title.startswith("District 0"))


def _sync_thresholds(store: ChunkStore, shard: int) -> dict[str, int]:
    names = [store._articles.name, store._state.name, store._shard(shard).name]
    return {name: store._client.get_collection(name).configuration["hnsw"]["sync_threshold"] for name in names}


def test_written_collections_save_their_hnsw_index_every_hundred_writes(
    small_shards: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    """Whoever opens a collection replays the writes its saved HNSW index lacks: at most 100 of them."""
    folder, store, first = stories_in_shards(small_shards, embeddings, tmp_path, 2)
    newest = store.shard_count() - 1
    assert newest != first.shard
    assert set(_sync_thresholds(store, newest).values()) == {HNSW_SYNC_THRESHOLD}, "new collections are made so"
    for name in _sync_thresholds(store, first.shard) | _sync_thresholds(store, newest):
        # as Chroma's default left collections made before this setting existed
        store._client.get_collection(name).modify(configuration={"hnsw": {"sync_threshold": 1000}})
    revise_story_zero(small_shards, embeddings, folder)
    after = app_for(small_shards, embeddings).store
    assert set(_sync_thresholds(after, first.shard).values()) == {HNSW_SYNC_THRESHOLD}, "what the ingest wrote"
    assert _sync_thresholds(after, newest)[after._shard(newest).name] == 1000, "a shard it did not write is left"
