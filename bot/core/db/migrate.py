"""Schema migrations: one Alembic environment for every table (claims, digests, posted answers).

The scripts ship inside the package (``bot/core/db/migrations``); the Alembic ``Config`` is
built in code so nothing needs an ``alembic.ini`` at run time. The version table has its own
name, so other software may keep its own Alembic history in the same database.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "bot.core.db:migrations"
VERSION_TABLE = "factdesk_alembic_version"
# Earlier versions migrated only the claims tables, with this version table.
LEGACY_VERSION_TABLE = "claims_alembic_version"


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


def _adopt_legacy_version_table(conn: Connection) -> None:
    """A database of an earlier version records its claims revision in ``claims_alembic_version``."""
    tables = set(sa.inspect(conn).get_table_names())
    if LEGACY_VERSION_TABLE not in tables or VERSION_TABLE in tables:
        return
    revision = MigrationContext.configure(conn, opts={"version_table": LEGACY_VERSION_TABLE}).get_current_revision()
    if revision is not None:
        MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).stamp(
            ScriptDirectory.from_config(alembic_config()), revision
        )
    conn.execute(sa.text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))
    log.info("adopted the claims schema at revision %s", revision)


def upgrade_database(engine: Engine) -> None:
    """Bring the schema to the newest revision; on an up-to-date database this does nothing.

    Takes the engine the caller uses, so an in-memory SQLite database (one connection) and a
    service that already owns an engine migrate the very database they use.
    """
    config = alembic_config()
    with engine.begin() as conn:
        _adopt_legacy_version_table(conn)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    log.debug("schema at %s on %s", head_revision(), engine.url.render_as_string())
