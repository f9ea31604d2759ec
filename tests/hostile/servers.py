"""Real sockets on 127.0.0.1 for the hostile fetch cases.

* :class:`Server` is a tiny HTTP/1.1 server whose routes write raw bytes, so a
  test can send anything: stacked encodings, a body dripped a byte at a time,
  broken framing.
* :class:`Listener` is a server that must never be reached: it only counts the
  connections it accepts.
* :class:`RoutingBackend` is the socket backend given to the Fetcher: a
  connection to :data:`PUBLIC_IP` (the address the fake DNS hands out for the
  "internet") goes to the Server; a connection to any other address goes to the
  Listener. If the SSRF guard ever let a request through to a private address,
  the Listener would record it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpcore

PUBLIC_IP = "93.184.216.34"

Handler = Callable[["Exchange"], None]


class Exchange:
    """One request on an accepted connection, for a route to answer."""

    def __init__(self, conn: socket.socket, path: str, head: bytes) -> None:
        self.conn = conn
        self.path = path
        self.head = head

    def send(self, data: bytes) -> bool:
        """Send bytes; False once the client has gone away."""
        try:
            self.conn.sendall(data)
        except OSError:
            return False
        return True

    def respond(self, status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        lines = [f"HTTP/1.1 {status} X"]
        all_headers = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
        lines += [f"{name}: {value}" for name, value in all_headers.items() if value != ""]
        self.send("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)

    def drip(self, data: bytes, every: float, max_seconds: float = 12.0) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart, until the client leaves."""
        started = time.monotonic()
        for i in range(len(data)):
            if time.monotonic() - started > max_seconds or not self.send(data[i : i + 1]):
                return
            time.sleep(every)


class Server:
    """Answers each request with ``routes[path]`` (404 for unknown paths); counts connections."""

    def __init__(self, routes: dict[str, Handler] | None = None) -> None:
        self.routes: dict[str, Handler] = dict(routes or {})
        self.connections = 0
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=2)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            head = _read_head(conn)
            if head is None or not self.routes:
                return
            path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
            with self._lock:
                self.paths.append(path)
            handler = self.routes.get(path.split("?", 1)[0])
            exchange = Exchange(conn, path, head)
            if handler is None:
                exchange.respond(404, {"Content-Type": "text/plain"}, b"not here")
            else:
                handler(exchange)
        except OSError:
            pass
        finally:
            conn.close()


class Listener(Server):
    """A server that must never be contacted: it accepts, counts and hangs up."""

    def __init__(self) -> None:
        super().__init__(routes=None)


class RoutingBackend(httpcore.NetworkBackend):
    """Real TCP connections: :data:`PUBLIC_IP` to the server, everything else to the listener."""

    def __init__(self, server: Server | None, listener: Listener) -> None:
        self._inner = httpcore.SyncBackend()
        self._server = server
        self._listener = listener
        self.attempts: list[tuple[str, int]] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self.attempts.append((host, port))
        target = self._server if host == PUBLIC_IP and self._server is not None else self._listener
        return self._inner.connect_tcp("127.0.0.1", target.port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("no unix sockets here")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def forbidden_attempts(self) -> list[tuple[str, int]]:
        return [attempt for attempt in self.attempts if attempt[0] != PUBLIC_IP]


def _read_head(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    return data.split(b"\r\n\r\n", 1)[0]


def chunked(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """HTTP/1.1 chunked framing of ``pieces``."""
    for piece in pieces:
        if piece:
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"
