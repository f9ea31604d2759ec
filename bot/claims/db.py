"""Engine construction and schema migrations for the claims store.

Migrations are Alembic scripts shipped inside the package (``bot/claims/migrations``);
the Alembic ``Config`` is built in code so nothing needs an ``alembic.ini`` at run time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "bot.claims:migrations"
VERSION_TABLE = "claims_alembic_version"  # own name: other components may use Alembic in the same DB


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys enforced and its folder created."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def alembic_config() -> Config:
    """The Alembic configuration, built in code (no ini file)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade_database(url: str | Engine) -> None:
    """Bring the schema to the newest revision; on an up-to-date database this does nothing.

    Accepts an engine too, so an in-memory SQLite database (one connection) and a
    service that already owns an engine migrate the very database they use.
    """
    engine = make_engine(url) if isinstance(url, str) else url
    try:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        log.debug("claims schema at %s on %s", head_revision(), engine.url.render_as_string())
    finally:
        if isinstance(url, str):
            engine.dispose()
