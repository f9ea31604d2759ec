"""Fixtures for the hostile-input campaign: local servers, a listener that must stay silent, a fake DNS."""

from __future__ import annotations

import socket
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from bot.core.errors import SourceError
from index.fetch import Fetcher
from tests.hostile.servers import PUBLIC_IP, Listener, RoutingBackend, Server

# Longest message a user should ever see for one bad input.
MAX_ERROR_CHARS = 400


class FakeDNS:
    """Answers from a table (a list, or a callable for answers that change); records the questions."""

    def __init__(self, table: dict[str, list[str] | Callable[[], list[str]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answer() if callable(answer) else list(answer)


@dataclass
class Net:
    """The test "internet": a public server, a listener standing for everything private, a fake DNS."""

    server: Server
    listener: Listener
    backend: RoutingBackend
    dns: FakeDNS
    fetchers: list[Fetcher] = field(default_factory=list)

    def fetcher(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = 100_000,
        max_redirects: int = 3,
        system_dns: bool = False,
    ) -> Fetcher:
        fetcher = Fetcher(
            timeout=timeout,
            max_bytes=max_bytes,
            max_redirects=max_redirects,
            user_agent="factdesk-hostile/1.0",
            resolver=None if system_dns else self.dns,
            network_backend=self.backend,
        )
        self.fetchers.append(fetcher)
        return fetcher

    def url(self, path: str, host: str = "news.example") -> str:
        """A URL on the public server (any port reaches it: the backend routes by address)."""
        return f"http://{host}{path}"

    def assert_nothing_forbidden_contacted(self) -> None:
        assert self.backend.forbidden_attempts() == [], "the fetcher tried to connect to a forbidden address"
        assert self.listener.connections == 0, "the listener standing for private addresses was contacted"


@pytest.fixture
def net() -> Iterator[Net]:
    server = Server()
    listener = Listener()
    dns = FakeDNS({"news.example": [PUBLIC_IP], "www.news.example": [PUBLIC_IP]})
    state = Net(server, listener, RoutingBackend(server, listener), dns)
    yield state
    for fetcher in state.fetchers:
        fetcher.close()
    server.close()
    listener.close()


def assert_one_line_error(error: BaseException | object, *fragments: str) -> SourceError:
    """``error`` is a SourceError with a short one-line message containing every fragment."""
    assert isinstance(error, SourceError), f"expected a SourceError, got {error!r}"
    message = str(error)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert len(message) <= MAX_ERROR_CHARS, f"too long ({len(message)} chars): {message[:120]}…"
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return error


# Characters that must never reach a reader: controls other than tab and newline, invisible format
# characters other than the joiners scripts and emoji need, and surrogates.
_JOINERS = {"\u200c", "\u200d"}


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` a terminal or chat client could act on or hide text with."""
    return [
        ch
        for ch in text
        if (unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in "\n\t" and ch not in _JOINERS)
    ]


def assert_inert(text: str) -> None:
    """No escape sequence, control, bidi, tag or surrogate character in ``text``."""
    bad = unsafe_characters(text)
    assert not bad, f"unsafe characters {sorted({f'U+{ord(c):04X}' for c in bad})} in {text[:200]!r}"
