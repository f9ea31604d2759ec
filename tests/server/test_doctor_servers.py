"""``factdesk doctor`` on a real ``chroma run`` server and a real PostgreSQL: healthy, then each one down."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.doctor import FAIL, OK, run_checks
from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.claims_pg import PostgresServer, pg_server, pg_url
from tests.conftest import SAMPLE_CORPUS, app_for
from tests.server.test_chroma_server import chroma_server

pytestmark = pytest.mark.server
__all__ = ["chroma_server", "pg_server", "pg_url"]  # fixtures


def test_doctor_with_chroma_server_and_postgres(
    chroma_server: tuple[str, int],
    pg_url: str,
    pg_server: PostgresServer,
    embeddings: LocalMiniLMEmbeddings,
    tmp_path: Path,
) -> None:
    host, port = chroma_server
    settings = load_settings(None, data_dir=tmp_path / "d", chroma_host=host, chroma_port=port, database_url=pg_url)
    with app_for(settings, embeddings) as app:  # migrates the database, as `factdesk serve` does on start
        app.ingest([str(SAMPLE_CORPUS)])

    checks = {c.name: c for c in run_checks(settings, lambda: embeddings, online=False)}
    assert all(c.status == OK for c in checks.values() if c.name != "discord"), checks
    assert "answers" in checks["chroma"].detail and "(latest)" in checks["database"].detail
    assert "17 articles" in checks["index"].detail

    down = load_settings(
        None, data_dir=tmp_path / "d", chroma_host=host, chroma_port=port, database_url=pg_url + "_gone"
    )
    checks = {c.name: c for c in run_checks(down, lambda: embeddings, online=False)}
    assert checks["database"].status == FAIL and "\n" not in checks["database"].detail
    assert checks["chroma"].status == OK
