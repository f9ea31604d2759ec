"""The database URL, the engine factory, and opening the configured database ready to use.

``FACTDESK_DATABASE_URL`` when set, else ``factdesk.sqlite3`` in the data dir: claims, digest
history and posted answers live in one database. Versions before this one kept the digest
history in a second file, ``digests.sqlite3``; :func:`open_database` copies its rows into the
one database once and renames the old file to ``digests.sqlite3.imported``.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.core.db.migrate import upgrade_database
from bot.core.errors import ConfigError, StoreError
from bot.core.settings import Settings

log = logging.getLogger(__name__)

# Digest tables in foreign-key order (parents first), as earlier versions created them.
LEGACY_DIGEST_TABLES = (
    "digest_stories",
    "digest_story_articles",
    "digest_story_events",
    "digest_digests",
    "digest_posts",
)


def one_line(exc: BaseException) -> str:
    """The driver's own first line of a database error (SQLAlchemy appends SQL and a help link)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return (lines[0] if lines else type(orig).__name__)[:240]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().resolve()}"


def database_url(settings: Settings) -> str:
    """``FACTDESK_DATABASE_URL``, else the SQLite file in the data dir."""
    return settings.database_url or sqlite_url(settings.database_path)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys enforced and its folder created."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"invalid database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:  # the URL names a driver that is not installed
        if parsed.get_backend_name() == "postgresql":
            raise ConfigError(
                "FACTDESK_DATABASE_URL is a PostgreSQL URL but psycopg is not installed; "
                'run: pip install "factdesk[postgres]"'
            ) from None
        raise ConfigError(f"the database driver for FACTDESK_DATABASE_URL is not installed ({exc})") from None
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"invalid database URL: {one_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def open_database(settings: Settings) -> Engine:
    """The configured database, migrated to the newest schema, earlier digest files imported."""
    engine = make_engine(database_url(settings))
    try:
        upgrade_database(engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        where = engine.url.render_as_string(hide_password=True)
        raise StoreError(
            f"cannot open the database {where}: {one_line(exc)} (check FACTDESK_DATABASE_URL and that the server is up)"
        ) from exc
    legacy = settings.legacy_digests_path
    if settings.database_url is None and legacy.exists():
        import_legacy_digests(engine, legacy)
    return engine


def import_legacy_digests(engine: Engine, legacy: Path) -> int:
    """Copy the digest history of an earlier version's ``digests.sqlite3`` into ``engine``'s database.

    Rows already present (same primary key) are kept as they are. The old file is renamed
    to ``<name>.imported`` afterwards, so this runs once. Returns the number of rows copied.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return 0
    copied = 0
    connection = sqlite3.connect(database)
    try:
        connection.execute("ATTACH DATABASE ? AS legacy", (str(legacy),))
        present = {row[0] for row in connection.execute("SELECT name FROM legacy.sqlite_master WHERE type = 'table'")}
        with connection:  # one transaction: all rows or none
            for table in LEGACY_DIGEST_TABLES:
                if table not in present:
                    continue
                ours = [row[1] for row in connection.execute(f"PRAGMA main.table_info({table})")]
                theirs = {row[1] for row in connection.execute(f"PRAGMA legacy.table_info({table})")}
                columns = ", ".join(f'"{c}"' for c in ours if c in theirs)
                before = connection.total_changes
                connection.execute(
                    f"INSERT OR IGNORE INTO main.{table} ({columns}) SELECT {columns} FROM legacy.{table}"
                )
                copied += connection.total_changes - before
        connection.execute("DETACH DATABASE legacy")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot import the digest history from {legacy}: {exc}") from exc
    finally:
        connection.close()
    legacy.rename(legacy.with_name(legacy.name + ".imported"))
    log.info("imported %d digest history rows from %s", copied, legacy)
    return copied
