"""Every ClaimsService test, and the migrations, on a real PostgreSQL server (``initdb`` + ``pg_ctl``)."""

from __future__ import annotations

import pytest

from tests.claims_pg import pg_server, pg_url  # noqa: F401 (fixtures)
from tests.integration.test_claims_service import *  # noqa: F403 (the same tests, collected here again)

pytestmark = pytest.mark.server


@pytest.fixture
def db_url(pg_url: str) -> str:  # noqa: F811 (PostgreSQL instead of the module's SQLite)
    return pg_url
