"""The opt-in allow-list for private and loopback feed hosts; refusal stays the default and says how."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.errors import BlockedURLError
from index.fetch import Fetcher
from tests.hostile.conftest import assert_one_line_error
from tests.hostile.servers import Server

PAGE = b"<html><body><article><p>" + b"The intranet feed works from the LAN. " * 20 + b"</p></article></body></html>"


@pytest.fixture
def loopback() -> Iterator[Server]:
    server = Server({"/page": lambda ex: ex.respond(200, {"Content-Type": "text/html"}, PAGE)})
    yield server
    server.close()


def fetcher(allow: list[str]) -> Fetcher:
    return Fetcher(timeout=5, max_bytes=100_000, max_redirects=2, user_agent="t", allow_private=allow)


@pytest.mark.parametrize("allow", [[], ["10.0.0.0/8"], ["intranet.lan"]])
def test_loopback_is_refused_unless_listed_and_the_refusal_names_the_setting(
    loopback: Server, allow: list[str]
) -> None:
    with fetcher(allow) as f, pytest.raises(BlockedURLError) as caught:
        f.get(f"http://127.0.0.1:{loopback.port}/page")
    assert_one_line_error(caught.value, "not publicly routable", "FACTDESK_FETCH_ALLOW_PRIVATE_HOSTS")
    assert loopback.connections == 0


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"]])
def test_listed_private_host_is_fetched(loopback: Server, allow: list[str]) -> None:
    host = "localhost" if allow == ["localhost"] else "127.0.0.1"
    with fetcher(allow) as f:
        document = f.get(f"http://{host}:{loopback.port}/page")
    assert document.status == 200 and "intranet feed" in document.text


def test_localhost_name_is_refused_by_default(loopback: Server) -> None:
    with fetcher([]) as f, pytest.raises(BlockedURLError) as caught:
        f.get(f"http://localhost:{loopback.port}/page")
    assert_one_line_error(caught.value, "names this machine", "FACTDESK_FETCH_ALLOW_PRIVATE_HOSTS")
    assert loopback.connections == 0
