"""Campaign area "fetch": hostile URLs and hostile servers, over real sockets on 127.0.0.1.

Every case asserts its outcome: a forbidden target is refused with a one-line
error and the listener standing for every private address records 0
connections; a hostile server (bombs, drips, broken framing, odd encodings)
ends in a one-line error within the time and memory budget, or in the right text.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from bot.core.errors import BlockedURLError, SourceError
from index.loaders import load_sources
from index.models import RawArticle
from tests.hostile import bombs
from tests.hostile.conftest import Net, assert_one_line_error
from tests.hostile.servers import PUBLIC_IP, Exchange, chunked

ARTICLE_HTML = (
    "<html><head><title>Harbour bridge reopens</title></head><body><article>"
    + "<p>The harbour bridge reopened on Tuesday after eight months of repairs, officials said.</p>" * 6
    + "</article></body></html>"
)

# --- SSRF: targets that must never be contacted ------------------------------------------

PRIVATE_IPV4 = [
    "127.0.0.1",
    "127.0.0.53",
    "127.1.2.3",
    "127.255.255.254",
    "10.0.0.1",
    "10.10.10.10",
    "10.255.255.254",
    "172.16.0.1",
    "172.20.1.1",
    "172.31.255.254",
    "192.168.0.1",
    "192.168.1.254",
    "192.168.255.254",
    "169.254.0.1",
    "169.254.169.254",  # cloud metadata
    "169.254.170.2",  # ECS task metadata
    "100.64.0.1",
    "100.100.100.200",  # Alibaba metadata
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.1",
    "192.0.0.170",
    "192.0.2.1",
    "198.18.0.1",
    "198.19.255.254",
    "198.51.100.7",
    "203.0.113.9",
]
NUMERIC_FORMS = [
    "2130706433",
    "0x7f000001",
    "0x7F000001",
    "0x7f.1",
    "0x7f.0.0.1",
    "0x7f.0x0.0x0.0x1",
    "0177.0.0.1",
    "0177.1",
    "00177.0.0.1",
    "127.1",
    "127.0.1",
    "017700000001",
    "2852039166",  # 169.254.169.254
    "0xa9fea9fe",
    "0251.0376.0251.0376",
    "0xa9.0xfe.0xa9.0xfe",
    "169.254.43518",
    "3232235777",  # 192.168.1.1
    "167772161",  # 10.0.0.1
    "0",
    "0x0",
    "127.0.0.1.",
]
PRIVATE_IPV6 = [
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[0000::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:192.168.1.1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b::10.0.0.1]",
    "[2002:7f00:1::1]",
    "[2002:a9fe:a9fe::1]",
    "[2002:c0a8:101::1]",
    "[fc00::1]",
    "[fd00:ec2::254]",  # AWS IPv6 metadata
    "[fd12:3456:789a::1]",
    "[fe80::1]",
    "[fe80::a9fe:a9fe]",
    "[febf::1]",
    "[ff02::1]",
    "[ff05::2]",
    "[::127.0.0.1]",
    "[2001:db8::1]",
    "[100::1]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",  # Teredo wrapping a non-public client
]
PORTS = ["127.0.0.1:22", "127.0.0.1:6379", "127.0.0.1:8000", "127.0.0.1:2375", "[::1]:8080", "10.0.0.1:9200"]


def _refused(net: Net, url: str, *, system_dns: bool = False) -> SourceError:
    fetcher = net.fetcher(system_dns=system_dns)
    with pytest.raises(SourceError) as info:
        fetcher.get(url)
    net.assert_nothing_forbidden_contacted()
    return assert_one_line_error(info.value)


@pytest.mark.parametrize("host", PRIVATE_IPV4 + NUMERIC_FORMS + PRIVATE_IPV6 + PORTS)
def test_ssrf_literal_private_address_is_refused_unseen(net: Net, host: str) -> None:
    error = _refused(net, f"http://{host}/latest/meta-data/")
    assert isinstance(error, BlockedURLError)
    assert net.dns.asked == [], "a literal address is judged as written, never looked up"


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["172.16.5.4"],
        ["192.168.0.10"],
        ["169.254.169.254"],
        ["100.64.1.1"],
        ["0.0.0.0"],
        ["224.0.0.251"],
        ["::1"],
        ["fe80::1"],
        ["fe80::1%eth0"],
        ["fc00::5"],
        ["::ffff:127.0.0.1"],
        ["::ffff:10.0.0.1"],
        ["64:ff9b::7f00:1"],
        ["2002:7f00:1::"],
        [PUBLIC_IP, "10.0.0.1"],
        ["10.0.0.1", PUBLIC_IP],
        [PUBLIC_IP, "::1"],
        [PUBLIC_IP, "169.254.169.254", PUBLIC_IP],
    ],
    ids=lambda answers: "+".join(answers),
)
def test_ssrf_name_resolving_to_private_address_is_refused_unseen(net: Net, answers: list[str]) -> None:
    net.dns.table["intranet.example"] = answers
    error = _refused(net, "http://intranet.example/admin")
    assert isinstance(error, BlockedURLError)
    assert "non-public address" in str(error)


@pytest.mark.parametrize("answers", [[], ["not-an-address"], ["999.1.1.1"]], ids=["none", "garbage", "bad-v4"])
def test_ssrf_unusable_dns_answers_are_errors_unseen(net: Net, answers: list[str]) -> None:
    net.dns.table["odd.example"] = answers
    _refused(net, "http://odd.example/")


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "localhost.", "Localhost", "api.localhost", "a.b.localhost."]
)
def test_ssrf_localhost_via_the_system_resolver_is_refused_unseen(net: Net, host: str) -> None:
    error = _refused(net, f"http://{host}:8080/", system_dns=True)
    assert isinstance(error, BlockedURLError)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "ftp://news.example/x",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stats",
        "ldap://127.0.0.1/",
        "sftp://news.example/",
        "tftp://news.example/x",
        "jar:http://news.example/x.jar!/",
        "netdoc:///etc/passwd",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "ws://news.example/",
        "wss://news.example/",
        "news.example/no-scheme",
        "//news.example/scheme-relative",
    ],
)
def test_ssrf_forbidden_scheme_is_refused_unseen(net: Net, url: str) -> None:
    error = _refused(net, url)
    assert isinstance(error, BlockedURLError)
    assert net.server.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@news.example/",
        "http://user@news.example/",
        "http://:pass@news.example/",
        "http://news.example@127.0.0.1/",
        "http://good.example@169.254.169.254/latest",
        "http://127.0.0.1@news.example/",
    ],
)
def test_ssrf_credentials_are_refused_unseen(net: Net, url: str) -> None:
    error = _refused(net, url)
    assert isinstance(error, BlockedURLError)
    assert net.server.connections == 0


def _redirect_to(location: str, status: int = 302) -> Callable[[Exchange], None]:
    return lambda exchange: exchange.respond(status, {"Location": location})


REDIRECT_TARGETS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "http://localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://10.0.0.1/",
    "http://192.168.1.1/router",
    "http://100.100.100.200/",
    "http://internal.example/",
    "//127.0.0.1/",
    "//169.254.169.254/latest",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "http://user:pw@news.example/",
]


@pytest.mark.parametrize("location", REDIRECT_TARGETS)
def test_ssrf_redirect_to_forbidden_target_is_refused_unseen(net: Net, location: str) -> None:
    net.dns.table["localhost"] = ["127.0.0.1"]
    net.dns.table["internal.example"] = ["10.1.2.3"]
    net.server.routes["/go"] = _redirect_to(location)
    error = _refused(net, net.url("/go"))
    assert isinstance(error, BlockedURLError)
    assert "redirect to" in str(error)
    assert net.server.paths == ["/go"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_ssrf_every_redirect_status_is_rechecked(net: Net, status: int) -> None:
    net.server.routes["/go"] = _redirect_to("http://127.0.0.1/", status)
    assert isinstance(_refused(net, net.url("/go")), BlockedURLError)


def test_ssrf_redirect_chain_ending_private_is_refused_unseen(net: Net) -> None:
    net.server.routes["/a"] = _redirect_to("/b")
    net.server.routes["/b"] = _redirect_to("http://www.news.example/c")
    net.server.routes["/c"] = _redirect_to("http://169.254.169.254/")
    assert isinstance(_refused(net, net.url("/a")), BlockedURLError)
    assert net.server.paths == ["/a", "/b", "/c"]


def test_ssrf_rebinding_name_is_pinned_to_the_checked_address(net: Net) -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    net.dns.table["rebind.example"] = lambda: next(answers)
    net.server.routes["/"] = lambda ex: ex.respond(200, {"Content-Type": "text/html"}, ARTICLE_HTML.encode())
    fetcher = net.fetcher()
    document = fetcher.get("http://rebind.example/")
    assert "Harbour bridge" in document.text
    assert net.dns.asked == ["rebind.example"], "one lookup per hop: nothing to rebind between check and connect"
    assert net.backend.attempts and all(host == PUBLIC_IP for host, _ in net.backend.attempts)
    with pytest.raises(BlockedURLError):
        fetcher.get("http://rebind.example/")  # the next lookup answers private: refused before connecting
    net.assert_nothing_forbidden_contacted()


def test_ssrf_rebinding_on_redirect_to_the_same_name_is_refused_unseen(net: Net) -> None:
    answers = iter([[PUBLIC_IP], ["10.0.0.1"]])
    net.dns.table["rebind.example"] = lambda: next(answers)
    net.server.routes["/"] = _redirect_to("http://rebind.example/again")
    assert isinstance(_refused(net, "http://rebind.example/"), BlockedURLError)


def test_ssrf_feed_entries_linking_private_targets_each_fail_unseen(net: Net) -> None:
    links = ["http://127.0.0.1/", "http://169.254.169.254/", "http://[::1]/", "http://0x7f.1/", "file:///etc/passwd"]
    items = "".join(f"<item><title>Entry {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    net.server.routes["/feed"] = lambda ex: ex.respond(200, {"Content-Type": "application/rss+xml"}, feed.encode())
    results = list(load_sources(["feed:" + net.url("/feed")], net.fetcher(), 100_000))
    blocked = [r for r in results if isinstance(r, BlockedURLError)]
    assert len(blocked) == len(links), results
    for error in blocked:
        assert_one_line_error(error)
    net.assert_nothing_forbidden_contacted()


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "feed:http://169.254.169.254/", "http://[::1]:8080/x"])
def test_ssrf_through_the_loader_is_a_yielded_error_unseen(net: Net, url: str) -> None:
    (result,) = list(load_sources([url], net.fetcher(), 100_000))
    assert isinstance(assert_one_line_error(result), BlockedURLError)
    net.assert_nothing_forbidden_contacted()


# --- budgets: time ---------------------------------------------------------------------------

TIMEOUT = 1.0
SLACK = 0.8  # scheduling and teardown; a missing overall deadline overshoots by many seconds


def _timed_out(net: Net, path: str, handler: Callable[[Exchange], None]) -> float:
    net.server.routes[path] = handler
    fetcher = net.fetcher(timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetcher.get(net.url(path))
    elapsed = time.monotonic() - started
    assert_one_line_error(info.value, "timed out")
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.1f}s with a {TIMEOUT}s budget"
    return elapsed


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 400\r\nConnection: close\r\n\r\n"


def test_deadline_body_dripped_a_byte_at_a_time(net: Net) -> None:
    _timed_out(net, "/drip", lambda ex: ex.send(HEAD) and ex.drip(b"x" * 400, every=0.4))


def test_deadline_body_dripped_faster_than_the_per_read_timeout(net: Net) -> None:
    # each byte arrives well within the read timeout; only an overall deadline stops this
    _timed_out(net, "/drip", lambda ex: ex.send(HEAD) and ex.drip(b"x" * 400, every=0.05))


def test_deadline_headers_dripped_a_byte_at_a_time(net: Net) -> None:
    _timed_out(net, "/drip", lambda ex: ex.drip(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 400, every=0.1))


def test_deadline_chunked_body_dripped(net: Net) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(chunked(iter([b"x"] * 200)))
    _timed_out(net, "/drip", lambda ex: ex.send(head) and ex.drip(body, every=0.05))


def test_deadline_server_stalls_after_the_headers(net: Net) -> None:
    _timed_out(net, "/stall", lambda ex: ex.send(HEAD) and time.sleep(TIMEOUT + 2) is None)


def test_deadline_server_never_answers(net: Net) -> None:
    _timed_out(net, "/silent", lambda ex: time.sleep(TIMEOUT + 2))


def test_deadline_covers_the_whole_redirect_chain(net: Net) -> None:
    def slow_hop(target: str) -> Callable[[Exchange], None]:
        return lambda ex: time.sleep(0.4) or ex.respond(302, {"Location": target})

    net.server.routes["/1"] = slow_hop("/2")
    net.server.routes["/2"] = slow_hop("/3")
    _timed_out(net, "/start", slow_hop("/1"))


def test_within_the_deadline_a_slow_but_steady_server_is_read(net: Net) -> None:
    body = ARTICLE_HTML.encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def steady(ex: Exchange) -> None:
        ex.send(head)
        for start in range(0, len(body), 200):
            time.sleep(0.02)
            ex.send(body[start : start + 200])

    net.server.routes["/steady"] = steady
    assert net.fetcher(timeout=3).get(net.url("/steady")).text == ARTICLE_HTML


# --- budgets: size, at every content-encoding layer --------------------------------------------


def _encoded(body: bytes, coding: str, content_type: str = "text/html") -> Callable[[Exchange], None]:
    return lambda ex: ex.respond(200, {"Content-Type": content_type, "Content-Encoding": coding}, body)


def _too_large(net: Net, body: bytes, coding: str, *, max_bytes: int = 1_000_000) -> None:
    net.server.routes["/bomb"] = _encoded(body, coding)
    fetcher = net.fetcher(max_bytes=max_bytes, timeout=20)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SourceError) as info:
            fetcher.get(net.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    assert_one_line_error(info.value, "too large")
    assert elapsed < 5, f"refused only after {elapsed:.1f}s"
    assert peak < 64 * bombs.MIB, f"peak Python memory {peak / bombs.MIB:.0f} MiB while refusing"


def test_bomb_gzip_gzip_4gib_from_6777_bytes(net: Net) -> None:
    body = bombs.double_gzip_4gib()
    assert len(body) == 6777
    _too_large(net, body, "gzip, gzip", max_bytes=5_000_000)


def test_bomb_gzip_gzip_without_space(net: Net) -> None:
    _too_large(net, bombs.double_gzip_4gib(), "gzip,gzip", max_bytes=5_000_000)


@pytest.mark.parametrize(
    ("coding", "build"),
    [
        ("gzip", lambda: bombs.gzip_zeros(256)),
        ("x-gzip", lambda: bombs.gzip_zeros(256)),
        ("GZIP", lambda: bombs.gzip_zeros(256)),
        ("deflate", lambda: bombs.zlib_zeros(256)),
        ("deflate", lambda: bombs.raw_deflate_zeros(256)),
        ("gzip, gzip", lambda: bombs.layered(bombs.gzip_zeros(256), ["gzip"])),
        ("gzip, deflate", lambda: bombs.layered(bombs.gzip_zeros(256), ["deflate"])),
        ("deflate, gzip", lambda: bombs.layered(bombs.zlib_zeros(256), ["gzip"])),
        ("gzip, gzip, gzip", lambda: bombs.layered(bombs.gzip_zeros(256), ["gzip", "gzip"])),
        ("identity, gzip", lambda: bombs.gzip_zeros(256)),
        ("gzip, identity", lambda: bombs.gzip_zeros(256)),
        ("gzip", lambda: bombs.gzip_zeros(16) * 20),  # many members
    ],
    ids=[
        "gzip",
        "x-gzip",
        "upper",
        "zlib",
        "raw-deflate",
        "gzip2",
        "gzip+deflate",
        "deflate+gzip",
        "gzip3",
        "identity-first",
        "identity-last",
        "members",
    ],
)
def test_bomb_is_refused_fast_and_small(net: Net, coding: str, build: Callable[[], bytes]) -> None:
    _too_large(net, build(), coding)


@pytest.mark.parametrize(
    ("coding", "body", "fragment"),
    [
        ("gzip, gzip, gzip, gzip", bombs.layered(b"hi", ["gzip"] * 4), "too many stacked"),
        ("br", b"\x0b\x02\x80hi\x03", "unsupported content encoding 'br'"),
        ("zstd", b"(\xb5/\xfd", "unsupported content encoding 'zstd'"),
        ("compress", b"\x1f\x9d", "unsupported content encoding 'compress'"),
        ("foo", b"hi", "unsupported content encoding 'foo'"),
        ("gzip", b"this is not gzip at all", "corrupt gzip body"),
        ("deflate", b"\x78\x9c not deflate", "corrupt deflate body"),
        ("gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip"])[:-20], "ends early"),
        ("gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip"])[:12], "ends early"),
        ("gzip, gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip"]), "corrupt gzip body"),
    ],
    ids=[
        "4-layers",
        "br",
        "zstd",
        "compress",
        "unknown",
        "corrupt",
        "corrupt-deflate",
        "truncated",
        "header-only",
        "claims-2",
    ],
)
def test_bad_content_encoding_is_one_line(net: Net, coding: str, body: bytes, fragment: str) -> None:
    net.server.routes["/x"] = _encoded(body, coding)
    with pytest.raises(SourceError) as info:
        net.fetcher().get(net.url("/x"))
    assert_one_line_error(info.value, fragment)


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip"])),
        ("gzip, gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip", "gzip"])),
        ("deflate, gzip", bombs.layered(ARTICLE_HTML.encode(), ["deflate", "gzip"])),
        ("gzip", bombs.layered(ARTICLE_HTML.encode(), ["gzip"]) + b"\x00\x00trailing junk"),
        (
            "gzip",
            bombs.layered(ARTICLE_HTML[:300].encode(), ["gzip"]) + bombs.layered(ARTICLE_HTML[300:].encode(), ["gzip"]),
        ),
        ("identity", ARTICLE_HTML.encode()),
        ("", ARTICLE_HTML.encode()),
    ],
    ids=["gzip", "gzip2", "deflate+gzip", "trailing-junk", "two-members", "identity", "empty-header"],
)
def test_honest_encodings_decode_to_the_page(net: Net, coding: str, body: bytes) -> None:
    net.server.routes["/x"] = _encoded(body, coding)
    assert net.fetcher().get(net.url("/x")).text == ARTICLE_HTML


def test_decoded_body_at_the_limit_is_accepted_and_one_more_byte_refused(net: Net) -> None:
    net.server.routes["/at"] = _encoded(bombs.layered(b"a" * 50_000, ["gzip", "gzip"]), "gzip, gzip", "text/plain")
    net.server.routes["/over"] = _encoded(bombs.layered(b"a" * 50_001, ["gzip", "gzip"]), "gzip, gzip", "text/plain")
    fetcher = net.fetcher(max_bytes=50_000)
    assert len(fetcher.get(net.url("/at")).text) == 50_000
    with pytest.raises(SourceError) as info:
        fetcher.get(net.url("/over"))
    assert_one_line_error(info.value, "too large")


def test_endless_chunked_body_is_cut_at_the_limit(net: Net) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"

    def endless(ex: Exchange) -> None:
        ex.send(head)
        piece = b"".join(chunked(iter([b"a" * 8192])))[:-5]  # one chunk, without the terminator
        while ex.send(piece):
            pass

    net.server.routes["/endless"] = endless
    with pytest.raises(SourceError) as info:
        net.fetcher(max_bytes=100_000).get(net.url("/endless"))
    assert_one_line_error(info.value, "too large")


# --- broken HTTP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little", "bad HTTP response"),
        (b"FOO BAR BAZ\r\n\r\n", "bad HTTP response"),
        (b"", "bad HTTP response"),
        (b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 200_000 + b"\r\n\r\n", "bad HTTP response"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "bad HTTP response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", "bad HTTP response"),
        (b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", "HTTP 999"),
        (b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n", "location"),
        (b"HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 0\r\n\r\n", "HTTP 302"),
        (b"\x00\x01\x02\x03binary junk\r\n\r\n", "bad HTTP response"),
    ],
    ids=[
        "short-body",
        "no-status-line",
        "empty-reply",
        "huge-header",
        "bad-chunk-size",
        "two-lengths",
        "status-999",
        "bad-location",
        "empty-location",
        "binary-reply",
    ],
)
def test_broken_http_is_one_line(net: Net, raw: bytes, fragment: str) -> None:
    net.server.routes["/x"] = lambda ex: ex.send(raw)
    with pytest.raises(SourceError) as info:
        net.fetcher().get(net.url("/x"))
    assert_one_line_error(info.value, fragment)


def test_redirect_loop_ends_at_the_hop_limit(net: Net) -> None:
    net.server.routes["/loop"] = _redirect_to("/loop")
    with pytest.raises(SourceError) as info:
        net.fetcher(max_redirects=5).get(net.url("/loop"))
    assert_one_line_error(info.value, "too many redirects (more than 5)")
    assert len(net.server.paths) == 6


def test_http_1_0_body_read_until_close_is_accepted(net: Net) -> None:
    raw = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + ARTICLE_HTML.encode()
    net.server.routes["/old"] = lambda ex: ex.send(raw)
    assert net.fetcher().get(net.url("/old")).text == ARTICLE_HTML


# --- text encodings of fetched pages ---------------------------------------------------------------


def _served(content_type: str, body: bytes) -> Callable[[Exchange], None]:
    return lambda ex: ex.respond(200, {"Content-Type": content_type}, body)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html", b"\xff\xfe" + ARTICLE_HTML.encode("utf-16-le"), ARTICLE_HTML),
        ("text/html", b"\xfe\xff" + ARTICLE_HTML.encode("utf-16-be"), ARTICLE_HTML),
        ("text/html; charset=utf-16", ARTICLE_HTML.encode("utf-16"), ARTICLE_HTML),
        ("text/html; charset=utf-16le", ARTICLE_HTML.encode("utf-16-le"), ARTICLE_HTML),
        ("text/plain", "Zürich café – “quoted”".encode("utf-16-le"), "Zürich café – “quoted”"),
        ("text/html", b"\xef\xbb\xbf" + ARTICLE_HTML.encode(), ARTICLE_HTML),
        ("text/html; charset=bogus-charset", ARTICLE_HTML.encode(), ARTICLE_HTML),
        ("text/plain; charset=iso-8859-1", "Café au lait à Zürich".encode("latin-1"), "Café au lait à Zürich"),
        (
            "text/html",
            '<meta charset="windows-1251"><p>Правительство объявило реформу</p>'.encode("cp1251"),
            '<meta charset="windows-1251"><p>Правительство объявило реформу</p>',
        ),
        (
            "text/html; charset=utf-8",
            '<meta charset="iso-8859-1"><p>déjà vu</p>'.encode(),
            '<meta charset="iso-8859-1"><p>déjà vu</p>',
        ),
    ],
    ids=[
        "utf16le-bom",
        "utf16be-bom",
        "utf16-declared",
        "utf16le-declared",
        "utf16-plain-nobom",
        "utf8-bom",
        "bogus-charset",
        "latin1",
        "meta-cp1251",
        "header-beats-meta",
    ],
)
def test_page_encodings_are_detected(net: Net, content_type: str, body: bytes, expected: str) -> None:
    net.server.routes["/p"] = _served(content_type, body)
    assert net.fetcher().get(net.url("/p")).text == expected


@pytest.mark.parametrize(
    ("content_type", "body", "fragment"),
    [
        ("text/html", bytes(range(128, 256)) * 40, "not"),
        ("text/plain", bytes((i * 7919) % 256 for i in range(6000)), "binary"),
        ("text/html; charset=iso-8859-1", bytes((i * 131) % 128 + 128 for i in range(6000)), "declared charset"),
    ],
    ids=["random-high-bytes", "binary-with-nuls", "declared-latin1-garbage"],
)
def test_garbage_pages_are_refused_not_indexed_as_mojibake(
    net: Net, content_type: str, body: bytes, fragment: str
) -> None:
    net.server.routes["/g"] = _served(content_type, body)
    with pytest.raises(SourceError) as info:
        net.fetcher().get(net.url("/g"))
    assert_one_line_error(info.value, fragment)


def test_binary_content_type_is_refused_by_the_loader(net: Net) -> None:
    net.server.routes["/img"] = _served("image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    (result,) = list(load_sources([net.url("/img")], net.fetcher(), 100_000))
    assert_one_line_error(result, "unsupported content type 'image/png'")


def test_utf16_page_through_the_loader_becomes_an_article(net: Net) -> None:
    net.server.routes["/a"] = _served("text/html", b"\xff\xfe" + ARTICLE_HTML.encode("utf-16-le"))
    (result,) = list(load_sources([net.url("/a")], net.fetcher(), 100_000))
    assert isinstance(result, RawArticle) and "harbour bridge reopened" in result.body
