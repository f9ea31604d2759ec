"""A throwaway PostgreSQL server for tests: initdb into a temp dir, pg_ctl start, one database per test.

Import the fixtures into a test module (``from tests.claims_pg import pg_server, pg_url``).
The server listens on 127.0.0.1 on a free port with its socket in the temp dir, and
is stopped and deleted when the session ends. PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` user (else ``nobody``) and the temp dir is
chowned to it. Tests are skipped only when no PostgreSQL server binaries exist at all.
"""

from __future__ import annotations

import itertools
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

log = logging.getLogger(__name__)

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
DB_USER = "factdesk"


def find_pg_bindir() -> Path | None:
    """The folder holding initdb/pg_ctl/postgres: ``pg_config --bindir`` first, then Debian's layout."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            log.debug("pg_config --bindir failed", exc_info=True)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    for path in (shutil.which("initdb"),):
        if path:
            candidates.append(Path(path).parent)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in SERVER_BINARIES):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


@dataclass
class PostgresServer:
    """One running cluster; :meth:`create_database` hands out fresh, empty databases."""

    bindir: Path
    root: Path
    port: int
    run_as: tuple[int, int] | None
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{DB_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        uid, gid = self.run_as if self.run_as is not None else (None, None)
        env = {**os.environ, "LC_ALL": "C", "HOME": str(self.root)}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=self.root,
            check=False,
            user=uid,
            group=gid,
            extra_groups=[] if self.run_as is not None else None,
        )
        if result.returncode != 0:
            log_tail = self.logfile.read_text()[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log_tail}".strip())

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self.run_as is not None:
            uid, gid = self.run_as
            for path in (self.root, self.socket_dir):
                os.chown(path, uid, gid)
        self._run("initdb", "-D", str(self.datadir), "-U", DB_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {self.port} -k {self.socket_dir} -h 127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.logfile), "-w", "start")
        log.info("PostgreSQL started on 127.0.0.1:%d (%s)", self.port, self.root)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", timeout=60)
        except (RuntimeError, subprocess.SubprocessError):
            log.warning("pg_ctl stop failed", exc_info=True)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"factdesk_test_{next(self._counter)}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session, deleted afterwards."""
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found")
    root = Path(tempfile.mkdtemp(prefix="factdesk-pg-"))  # not under pytest's 0700 tmp dir
    server = PostgresServer(bindir=bindir, root=root, port=_free_port(), run_as=_run_as())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database()


__all__ = ["PostgresServer", "find_pg_bindir", "pg_server", "pg_url"]
