"""Small real servers on loopback for front-end tests: an OpenAI-compatible endpoint, a closed port.

Run the CLI in a subprocess (:func:`run_cli`) when a test needs what a user sees on stderr,
logging included: pytest's own log capture would swallow the CLI's log lines in-process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeOpenAI:
    """``/v1/chat/completions`` answering with ``status`` (200: a one-word completion) and ``/v1/models``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._reply({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                self._reply(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 1743840000,
                        "model": "gpt-4o-mini",
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
                    }
                )

            def _reply(self, ok: dict[str, Any]) -> None:
                if outer.status == 200:
                    body = json.dumps(ok).encode()
                else:
                    error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
                    body = json.dumps({"error": error}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_openai(status: int = 200) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(status) as server:
        yield server


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> tuple[int, str, str]:
    """``factdesk ARGS`` in a fresh interpreter: (exit code, stdout, stderr), as a user's terminal gets them."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FACTDESK_", "OPENAI_", "DISCORD_"))}
    clean["PYTHONPATH"] = str(REPO)
    clean["COLUMNS"] = "200"
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "--env-file", "/nonexistent.env", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def assert_short_error(stderr: str, *fragments: str, max_lines: int = 2) -> None:
    """At most ``max_lines`` non-empty lines, no traceback, every fragment present."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) <= max_lines, f"{len(lines)} lines on stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in stderr, f"{fragment!r} not in {stderr!r}"
