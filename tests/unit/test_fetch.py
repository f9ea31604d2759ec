"""Fetcher: SSRF guard, redirects, size caps and error mapping, with a fake DNS and MockTransport."""

from __future__ import annotations

import ipaddress
import itertools
import re
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.core.errors import BlockedURLError, SourceError
from index.fetch import Fetcher, is_public_address, parse_numeric_host, system_resolver

PUBLIC_IP = "93.184.216.34"
PUBLIC_IP_2 = "203.0.113.200"  # documentation range: not global, only used where never checked
HTML = "<html><head><title>Hi</title></head><body><p>Hello</p></body></html>"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeDNS:
    """A resolver that answers from a table and records what it was asked."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


class Recorder:
    """A MockTransport handler that records requests and delegates to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


def ok_html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"}, text=HTML)


def make(
    handler: Handler = ok_html,
    dns: dict[str, list[str]] | None = None,
    *,
    max_bytes: int = 100_000,
    max_redirects: int = 3,
) -> tuple[Fetcher, Recorder, FakeDNS]:
    recorder = Recorder(handler)
    resolver = FakeDNS(dns if dns is not None else {"example.com": [PUBLIC_IP]})
    fetcher = Fetcher(
        timeout=5.0,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        user_agent="factdesk-test/1.0",
        transport=httpx.MockTransport(recorder),
        resolver=resolver,
    )
    return fetcher, recorder, resolver


def test_fetches_public_url_pinned_to_checked_address() -> None:
    fetcher, recorder, dns = make()
    with fetcher:
        doc = fetcher.get("http://example.com/news/1")
    assert doc.status == 200
    assert doc.text == HTML
    assert doc.content_type == "text/html"
    assert doc.encoding == "utf-8"
    assert doc.requested_url == doc.final_url == "http://example.com/news/1"
    (request,) = recorder.requests
    assert request.url.host == PUBLIC_IP  # connects to the address that was checked
    assert request.headers["host"] == "example.com"
    assert request.headers["user-agent"] == "factdesk-test/1.0"
    assert dns.asked == ["example.com"]


def test_https_keeps_hostname_for_tls() -> None:
    fetcher, recorder, _ = make()
    fetcher.get("https://example.com:8443/a")
    (request,) = recorder.requests
    assert request.url.scheme == "https"
    assert request.url.port == 8443
    assert request.headers["host"] == "example.com:8443"
    assert request.extensions["sni_hostname"] == "example.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8000/admin",
        "http://10.0.0.1/",
        "http://10.255.255.254/",
        "http://172.16.0.1/",
        "http://172.31.255.254/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fc00::1]/",
        "http://[fd12:3456:789a::1]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://0xa.0.0.1/",
        "http://3232235777/",
        "http://127.0.0.1./",
    ],
)
def test_blocks_non_public_addresses(url: str) -> None:
    fetcher, recorder, dns = make()
    with pytest.raises(BlockedURLError):
        fetcher.get(url)
    assert recorder.requests == []
    assert dns.asked == []  # literals are judged as written, never looked up


@pytest.mark.parametrize("url", ["http://1.2.3.4.5/", "http://0x1g.1/", "http://999.1.1.1/", "http://08.1/"])
def test_blocks_malformed_numeric_hosts(url: str) -> None:
    fetcher, recorder, _ = make()
    with pytest.raises(BlockedURLError, match="unusual numeric host"):
        fetcher.get(url)
    assert recorder.requests == []


def test_public_numeric_forms_are_read_as_the_address_they_mean() -> None:
    fetcher, recorder, dns = make(dns={})
    fetcher.get("http://134744072/")  # 8.8.8.8 in decimal
    assert recorder.requests[0].url.host == "8.8.8.8"
    assert dns.asked == []


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        (["10.1.2.3"], "10.1.2.3"),
        (["::1"], "::1"),
        ([PUBLIC_IP, "192.168.0.10"], "192.168.0.10"),  # any private answer blocks
        (["::ffff:172.16.0.5"], "::ffff:172.16.0.5"),
    ],
)
def test_blocks_public_names_resolving_to_private_addresses(answers: list[str], bad: str) -> None:
    fetcher, recorder, _ = make(dns={"intranet.example.com": answers})
    with pytest.raises(BlockedURLError, match="non-public address") as info:
        fetcher.get("http://intranet.example.com/")
    assert str(ipaddress.ip_address(bad)) in str(info.value)
    assert recorder.requests == []


def test_redirect_to_private_address_is_blocked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/meta-data/"})

    fetcher, recorder, _ = make(handler)
    with pytest.raises(BlockedURLError, match=re.escape("redirect to http://169.254.169.254")):
        fetcher.get("http://example.com/go")
    assert len(recorder.requests) == 1


def test_redirect_to_name_resolving_private_is_blocked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "https://internal.example.com/secret"})

    dns = {"example.com": [PUBLIC_IP], "internal.example.com": ["10.0.0.7"]}
    fetcher, recorder, _ = make(handler, dns)
    with pytest.raises(BlockedURLError, match=re.escape("10.0.0.7")):
        fetcher.get("http://example.com/")
    assert len(recorder.requests) == 1


def test_redirect_to_forbidden_scheme_is_blocked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "file:///etc/passwd"})

    fetcher, _, _ = make(handler)
    with pytest.raises(BlockedURLError, match="scheme 'file'"):
        fetcher.get("http://example.com/")


def test_follows_relative_redirects_and_reports_final_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new?x=1"})
        if request.url.path == "/new":
            return httpx.Response(303, headers={"location": "http://www.example.com/final"})
        return ok_html(request)

    dns = {"example.com": [PUBLIC_IP], "www.example.com": [PUBLIC_IP]}
    fetcher, recorder, _ = make(handler, dns)
    doc = fetcher.get("http://example.com/old")
    assert doc.final_url == "http://www.example.com/final"
    assert doc.requested_url == "http://example.com/old"
    assert [r.headers["host"] for r in recorder.requests] == ["example.com", "example.com", "www.example.com"]


def test_too_many_redirects() -> None:
    counter = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": f"/hop{next(counter)}"})

    fetcher, recorder, _ = make(handler, max_redirects=3)
    with pytest.raises(SourceError, match=r"too many redirects \(more than 3\)"):
        fetcher.get("http://example.com/")
    assert len(recorder.requests) == 4


def test_zero_redirects_allowed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/elsewhere"})

    fetcher, _, _ = make(handler, max_redirects=0)
    with pytest.raises(SourceError, match="too many redirects"):
        fetcher.get("http://example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file.txt",
        "gopher://example.com/",
        "data:text/html,<p>hi</p>",
        "javascript:alert(1)",
        "example.com/no-scheme",
    ],
)
def test_refuses_non_http_schemes(url: str) -> None:
    fetcher, recorder, dns = make()
    with pytest.raises(BlockedURLError, match="only http and https"):
        fetcher.get(url)
    assert recorder.requests == []
    assert dns.asked == []


@pytest.mark.parametrize("url", ["http://user:secret@example.com/", "https://token@example.com/feed"])
def test_refuses_credentials_in_url(url: str) -> None:
    fetcher, recorder, _ = make()
    with pytest.raises(BlockedURLError, match="credentials"):
        fetcher.get(url)
    assert recorder.requests == []


def test_size_cap_by_content_length() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "5000", "content-type": "text/html"}, content=b"x")

    fetcher, _, _ = make(handler, max_bytes=1000)
    with pytest.raises(SourceError, match=r"response too large \(5000 bytes > 1000\)"):
        fetcher.get("http://example.com/")


def test_size_cap_by_streamed_body_stops_reading() -> None:
    produced = itertools.count()

    def endless() -> Iterator[bytes]:
        while True:
            next(produced)
            yield b"a" * 256

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=endless())

    fetcher, _, _ = make(handler, max_bytes=1000)
    with pytest.raises(SourceError, match=r"response too large \(more than 1000 bytes\)"):
        fetcher.get("http://example.com/")
    assert next(produced) <= 6  # stopped right after crossing the cap, never read on


def test_body_at_limit_is_accepted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=b"b" * 1000)

    fetcher, _, _ = make(handler, max_bytes=1000)
    assert len(fetcher.get("http://example.com/").text) == 1000


@pytest.mark.parametrize("status", [404, 403, 500, 503])
def test_non_2xx_is_an_error_with_status(status: int) -> None:
    fetcher, _, _ = make(lambda request: httpx.Response(status, text="nope"))
    with pytest.raises(SourceError, match=f"HTTP {status}"):
        fetcher.get("http://example.com/missing")


def test_redirect_without_location_is_an_error() -> None:
    fetcher, _, _ = make(lambda request: httpx.Response(302))
    with pytest.raises(SourceError, match="HTTP 302"):
        fetcher.get("http://example.com/")


def test_connection_error_is_one_line_source_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused\nmore detail", request=request)

    fetcher, _, _ = make(handler)
    with pytest.raises(SourceError, match="could not connect: ") as info:
        fetcher.get("http://example.com/")
    assert "\n" not in str(info.value)
    assert not isinstance(info.value, BlockedURLError)


def test_timeout_is_source_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    fetcher, _, _ = make(handler)
    with pytest.raises(SourceError, match=r"could not connect: timed out after 5s"):
        fetcher.get("http://example.com/")


def test_dns_failure_is_source_error() -> None:
    fetcher, recorder, _ = make(dns={})
    with pytest.raises(SourceError, match=re.escape("could not connect: cannot resolve nowhere.invalid")):
        fetcher.get("http://nowhere.invalid/")
    assert recorder.requests == []


def test_decodes_with_response_charset() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = "Café au lait à Zürich".encode("iso-8859-1")
        return httpx.Response(200, headers={"content-type": "text/plain; charset=ISO-8859-1"}, content=body)

    fetcher, _, _ = make(handler)
    doc = fetcher.get("http://example.com/")
    assert doc.text == "Café au lait à Zürich"
    assert doc.encoding.lower() == "iso-8859-1"


def test_decodes_with_meta_charset_when_header_has_none() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body>“quoted” café</body></html>'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/html"}, content=page.encode("cp1252"))

    fetcher, _, _ = make(handler)
    assert "“quoted” café" in fetcher.get("http://example.com/").text


def test_undeclared_bad_bytes_in_utf8_are_replaced_and_latin_bytes_read_as_1252() -> None:
    mostly_utf8 = "Café crème à la française, déjà vu. ".encode() * 3 + b"\xff end"
    bodies = {"/utf8": mostly_utf8, "/latin": b"ok \xff\xfe end"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, content=bodies[request.url.path])

    fetcher, _, _ = make(handler)
    doc = fetcher.get("http://example.com/utf8")
    assert doc.encoding == "utf-8"
    assert doc.text.endswith("déjà vu. \ufffd end")
    doc = fetcher.get("http://example.com/latin")
    assert (doc.encoding, doc.text) == ("cp1252", "ok ÿþ end")


def test_cookies_are_not_carried_between_requests() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"set-cookie": "session=abc; Path=/"}, text="x")

    fetcher, recorder, _ = make(handler, dns={"a.example.com": [PUBLIC_IP], "b.example.com": [PUBLIC_IP]})
    fetcher.get("http://a.example.com/")
    fetcher.get("http://b.example.com/")
    assert "cookie" not in recorder.requests[1].headers


def test_default_resolver_blocks_localhost_names() -> None:
    """The real getaddrinfo path: ``localhost`` resolves from /etc/hosts, no network needed.

    The name is refused before any lookup (RFC 6761); its addresses would be refused too.
    """
    assert not any(is_public_address(ipaddress.ip_address(a)) for a in system_resolver("localhost", 9))
    fetcher = Fetcher(timeout=1.0, max_bytes=1000, max_redirects=0, user_agent="t")
    with fetcher, pytest.raises(BlockedURLError, match="names this machine"):
        fetcher.get("http://localhost:9/")


def test_closed_fetcher_refuses_requests() -> None:
    fetcher, _, _ = make()
    with fetcher:
        pass
    with pytest.raises(RuntimeError):
        fetcher.get("http://example.com/")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("example.com", None),
        ("1.example", None),
    ],
)
def test_parse_numeric_host(host: str, expected: str | None) -> None:
    parsed = parse_numeric_host(host)
    assert (str(parsed) if parsed else None) == expected


def test_public_address_check_examples() -> None:
    assert is_public_address(ipaddress.ip_address("8.8.8.8"))
    assert is_public_address(ipaddress.ip_address("2606:4700:4700::1111"))
    assert not is_public_address(ipaddress.ip_address("100.100.100.100"))
    assert not is_public_address(ipaddress.ip_address("ff0e::1"))
    assert not is_public_address(ipaddress.ip_address(PUBLIC_IP_2))
