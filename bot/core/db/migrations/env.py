"""Alembic environment for factdesk's one database (claims, digest history, posted answers).

Alembic runs this file itself; :func:`bot.core.db.migrate.upgrade_database` passes an
open connection in ``config.attributes["connection"]`` so no ``alembic.ini`` and
no URL string (with its ``%`` escaping) is involved. The version table has its own
name so other software may keep its own Alembic history in the same database.
Revisions spell their types out and import no models: ``target_metadata`` holds the
tables of whichever model modules were imported (all of them for autogenerate).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from bot.core.db.base import Base
from bot.core.db.migrate import VERSION_TABLE

log = logging.getLogger(__name__)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL for ``alembic upgrade --sql`` instead of touching a database."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("migrations need a connection or sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
