"""The one database layer for claims, digest history and posted answers (SQLite or PostgreSQL).

* :mod:`~bot.core.db.base` — the declarative base, its naming convention and column types
* :mod:`~bot.core.db.engine` — the URL helper, the engine factory (SQLite foreign keys on), opening
  the configured database (migrated, with a ``digests.sqlite3`` of earlier versions imported)
* :mod:`~bot.core.db.migrate` — the Alembic environment (``bot/core/db/migrations``) run from code

This package imports nothing itself: import from the submodules.
"""
