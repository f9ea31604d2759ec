"""Upgrading databases that the previous version wrote: the claims file at revision 0001 and the
``create_all`` digest file, in two files (the default) or in one (``FACTDESK_DATABASE_URL``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bot.answer.posts
import bot.claims.models
import bot.digest.db  # noqa: F401  (every model module: the upgraded schema must match all of them)
from bot.app import Factdesk
from bot.core.db.base import Base
from bot.core.db.engine import make_engine, open_database, sqlite_url
from bot.core.db.migrate import VERSION_TABLE, current_revision, head_revision
from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import TEST_DATA

LEGACY = TEST_DATA / "legacy"
FLAGGED = "Putin and Zelenskyy will meet in Geneva in mid-April"


def restore(dump: str, into: Path) -> None:
    with sqlite3.connect(into) as connection:
        connection.executescript((LEGACY / dump).read_text(encoding="utf-8"))


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(
                compare_metadata(MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), Base.metadata)
            )
    finally:
        engine.dispose()


def test_the_two_files_of_the_previous_version_become_one(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> None:
    data = tmp_path / "data"
    data.mkdir()
    restore("claims-0001.sql", data / "factdesk.sqlite3")
    restore("digests-v1.sql", data / "digests.sqlite3")
    settings = load_settings(None, data_dir=data)

    with Factdesk.from_settings(settings, embeddings=embeddings) as app:
        assert current_revision(app.engine) == head_revision()
        claims = app.claims.list()
        assert [c.text for c in claims] == [FLAGGED] and claims[0].verdict == "false"
        assert len(app.claims.pending_suggestions()) == 2
        digest = app.digest(day="2025-04-03")
        assert digest.from_history and digest.story_count == 3
        assert digest.stories[0].headline == "Moscow and Kyiv deny Geneva meeting report"
        timeline = app.digests.story_timeline(digest.stories[0].story_id)
        assert timeline.events

    url = sqlite_url(data / "factdesk.sqlite3")
    assert not (data / "digests.sqlite3").exists() and (data / "digests.sqlite3.imported").exists()
    names = tables(url)
    assert "claims_alembic_version" not in names and "digest_schema" not in names and VERSION_TABLE in names
    assert schema_diff(url) == []

    with Factdesk.from_settings(settings, embeddings=embeddings) as again:  # a second start changes nothing
        assert [c.text for c in again.claims.list()] == [FLAGGED]
        assert again.digest(day="2025-04-03").from_history


def test_one_shared_database_of_the_previous_version_is_adopted(tmp_path: Path) -> None:
    """With ``FACTDESK_DATABASE_URL`` both stacks wrote to one database: the digest tables are adopted."""
    shared = tmp_path / "shared.sqlite3"
    restore("claims-0001.sql", shared)
    restore("digests-v1.sql", shared)
    settings = load_settings(None, data_dir=tmp_path / "data", database_url=sqlite_url(shared))

    engine = open_database(settings)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM digest_digests")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM digest_stories")).scalar() == 3
            assert conn.execute(sa.text("SELECT text FROM claims")).scalar() == FLAGGED
    finally:
        engine.dispose()
    names = tables(sqlite_url(shared))
    assert "digest_schema" not in names and "claims_alembic_version" not in names
    assert schema_diff(sqlite_url(shared)) == []


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "fk.sqlite3"))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
