"""SSRF-safe HTTP fetching for article and feed URLs.

A URL given by a user must never make the bot talk to the machine it runs on,
the local network or a cloud metadata service. Every hop (the first request and
each redirect) is therefore checked before it is sent: only http/https, no
credentials, and every address the host resolves to must be publicly routable.
The request is then sent to the checked IP itself (``Host`` header and TLS SNI
keep the original name), so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot redirect it elsewhere.

Budgets: one fetch (all redirect hops, the headers and the body) must finish within
``timeout`` seconds in total; every socket operation is given only the time that is
left, so a server dripping a byte at a time cannot stretch it. The body may hold at
most ``max_bytes``, counted after content decoding at every layer of a stacked
``Content-Encoding`` (see :mod:`index.inflate`).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpcore
import httpx

from bot.core.errors import BlockedURLError, SourceError
from index.decoding import decode_text, sniff_charset
from index.inflate import ACCEPT_ENCODING, ContentDecodingError, decode_body, parse_content_encoding

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_MARKUP_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})

__all__ = ["FetchedDocument", "Fetcher", "check_url", "is_public_address", "parse_numeric_host", "sniff_charset"]


@dataclass(frozen=True, slots=True)
class FetchedDocument:
    """A successfully fetched response body, decoded to text.

    ``content_type`` is the bare media type in lower case (``text/html``), without
    parameters; ``encoding`` is the codec the body was decoded with.
    """

    requested_url: str
    final_url: str
    status: int
    content_type: str
    text: str
    encoding: str


@dataclass(frozen=True, slots=True)
class _Target:
    """One checked hop: the URL as the user sees it and where to actually connect."""

    url: httpx.URL
    connect_url: httpx.URL
    host_header: str
    sni_hostname: str | None


# Appended to every refusal of a non-public target, so a self-hoster knows the way out.
ALLOW_HINT = " (private and loopback hosts are refused; list trusted ones in FACTDESK_FETCH_ALLOW_PRIVATE_HOSTS)"


def _allow_list(
    entries: Sequence[str],
) -> tuple[frozenset[str], tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    """Host names, and addresses or CIDR networks, from the allow-list setting."""
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in (e.strip().lower() for e in entries):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return frozenset(names), tuple(networks)


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses the operating system resolves ``host`` to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers of IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_public_address(ip.sixtofour):
            return False
        if ip.teredo is not None and not all(is_public_address(part) for part in ip.teredo):
            return False
    return bool(
        ip.is_global
        and not ip.is_multicast
        and not ip.is_private
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_reserved
        and not ip.is_unspecified
    )


def parse_numeric_host(host: str) -> ipaddress.IPv4Address | None:
    """Read hosts such as ``2130706433``, ``0x7f.1`` or ``127.1`` as IPv4, the way ``inet_aton`` does.

    Returns None for ordinary names. Raises ValueError for a host that ends in a
    number but is not a valid address (browsers and resolvers disagree on those).
    """
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not labels or not _NUMERIC_LABEL.match(labels[-1]):
        return None
    if len(labels) > 4:
        raise ValueError("too many parts")
    numbers: list[int] = []
    for label in labels:
        if not _NUMERIC_LABEL.match(label):
            raise ValueError(f"bad part {label!r}")
        if label[:2].lower() == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                raise ValueError(f"bad octal part {label!r}")
            numbers.append(int(label, 8))
        else:
            numbers.append(int(label))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError("part out of range")
    value = last
    for i, n in enumerate(head):
        value += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(value)


def check_url(url: str) -> httpx.URL:
    """Parse ``url`` and refuse forbidden schemes and credentials, without any network access."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        if "IPv4" in str(exc) or "IPv6" in str(exc):  # e.g. 0177.0.0.1, which resolvers read as octal
            raise BlockedURLError(url, f"unusual numeric host ({_one_line(exc)})") from exc
        raise SourceError(url, f"invalid URL: {_one_line(exc)}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        shown = parsed.scheme or "none"
        raise BlockedURLError(url, f"scheme '{shown}' is not allowed (only http and https)")
    if parsed.userinfo:
        raise BlockedURLError(url, "URLs with credentials are not allowed")
    if not parsed.raw_host:
        raise SourceError(url, "URL has no host")
    return parsed


class Fetcher:
    """Fetches one URL at a time through a single httpx client, refusing non-public targets.

    ``transport``, ``resolver`` and ``network_backend`` exist for tests: an
    ``httpx.MockTransport``, a fake DNS, and a wrapper around the real socket
    backend (it sees the checked address, so a test can route it to a local
    server). Because requests go to the checked IP, a mock transport sees the IP
    in ``request.url`` and the original name in the ``Host`` header.
    Environment proxies and ``.netrc`` are ignored (``trust_env=False``) so that
    nothing outside the settings changes where a request goes or what it carries.
    """

    def __init__(
        self,
        timeout: float,
        max_bytes: int,
        max_redirects: int,
        user_agent: str,
        transport: httpx.BaseTransport | None = None,
        resolver: Resolver | None = None,
        network_backend: httpcore.NetworkBackend | None = None,
        allow_private: Sequence[str] = (),
    ) -> None:
        self._timeout = timeout
        # Opt-in exceptions to the public-address rule (FACTDESK_FETCH_ALLOW_PRIVATE_HOSTS).
        self._allowed_names, self._allowed_networks = _allow_list(allow_private)
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._resolver: Resolver = resolver or system_resolver
        self._deadline = Deadline()
        if transport is None:
            transport = _deadline_transport(network_backend or httpcore.SyncBackend(), self._deadline)
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def get(self, url: str) -> FetchedDocument:
        """GET ``url``, following at most ``max_redirects`` redirects, each one re-checked.

        Everything (all hops, headers and body) must be done within ``timeout`` seconds.
        """
        self._deadline.start(self._timeout)
        try:
            return self._get(url)
        finally:
            self._deadline.clear()

    def _get(self, url: str) -> FetchedDocument:
        current = url
        for hop in range(self._max_redirects + 1):
            target = self._check(current, url, hop)
            response = self._send(target, url)
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECT_STATUSES and location:
                    current = str(target.url.join(location.strip()))
                    log.debug("redirect %s -> %s", target.url, current)
                    continue
                if not 200 <= response.status_code < 300:
                    reason = f"HTTP {response.status_code}"
                    if response.reason_phrase:
                        reason += f" {response.reason_phrase}"
                    raise SourceError(url, reason)
                data = self._read_body(response, url)
            finally:
                response.close()
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            text, encoding = _decode(data, response.charset_encoding, media_type, url)
            log.debug("fetched %s (%d bytes, %s)", target.url, len(data), media_type or "no type")
            return FetchedDocument(
                requested_url=url,
                final_url=str(target.url),
                status=response.status_code,
                content_type=media_type,
                text=text,
                encoding=encoding,
            )
        raise SourceError(url, f"too many redirects (more than {self._max_redirects})")

    def _check(self, hop_url: str, original: str, hop: int) -> _Target:
        """Validate one hop and pin it to a checked address."""
        prefix = f"redirect to {hop_url}: " if hop else ""
        try:
            parsed = check_url(hop_url)
        except SourceError as exc:
            raise type(exc)(original, prefix + exc.reason) from None
        host = parsed.raw_host.decode("ascii").lower()
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            try:
                literal = parse_numeric_host(host)
            except ValueError:
                raise BlockedURLError(original, f"{prefix}unusual numeric host '{host}'") from None
        if literal is not None:
            if not is_public_address(literal) and not self._allowed(host, literal):
                raise BlockedURLError(original, f"{prefix}address {literal} is not publicly routable{ALLOW_HINT}")
            address = literal
        elif (host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost")) and not self._allowed(
            host, None
        ):
            raise BlockedURLError(original, f"{prefix}'{host}' names this machine (RFC 6761){ALLOW_HINT}")
        else:
            address = self._resolve(host, port, original, prefix)
        netloc = parsed.netloc.decode("ascii")
        return _Target(
            url=parsed,
            connect_url=parsed.copy_with(host=str(address)),
            host_header=netloc,
            sni_hostname=host.rstrip(".") if parsed.scheme == "https" and literal is None else None,
        )

    def _resolve(self, host: str, port: int, original: str, prefix: str) -> IPAddress:
        """Resolve ``host``; refuse when any answer is not public, so no answer can be chosen later."""
        try:
            answers = self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise SourceError(original, f"{prefix}could not connect: cannot resolve {host} ({exc})") from exc
        if not answers:
            raise SourceError(original, f"{prefix}could not connect: {host} has no addresses")
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                ip = ipaddress.ip_address(answer.split("%", 1)[0])
            except ValueError:
                raise SourceError(original, f"{prefix}resolver returned a bad address {answer!r}") from None
            if not is_public_address(ip) and not self._allowed(host, ip):
                raise BlockedURLError(original, f"{prefix}{host} resolves to non-public address {ip}{ALLOW_HINT}")
            addresses.append(ip)
        return addresses[0]

    def _allowed(self, host: str, ip: IPAddress | None) -> bool:
        """A private or loopback target the operator listed by name, address or network."""
        if host.rstrip(".").lower() in self._allowed_names:
            return True
        return ip is not None and any(ip.version == net.version and ip in net for net in self._allowed_networks)

    def _send(self, target: _Target, original: str) -> httpx.Response:
        """Send the pinned request and return the streaming response."""
        # Cookies are dropped: with pinned IPs the jar would key them by address, not site.
        self._client.cookies.clear()
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        request = self._client.build_request(
            "GET", target.connect_url, headers={"Host": target.host_header}, extensions=extensions
        )
        try:
            return self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise SourceError(original, self._timeout_reason(connecting=True)) from exc
        except httpx.HTTPError as exc:
            raise SourceError(original, _http_error_reason(exc)) from exc

    def _read_body(self, response: httpx.Response, original: str) -> bytes:
        """Read at most ``max_bytes`` (after content decoding, at every layer), refusing anything bigger."""
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self._max_bytes:
            raise SourceError(original, f"response too large ({int(declared)} bytes > {self._max_bytes})")
        chunks: list[bytes] = []
        total = 0
        try:
            if response.is_stream_consumed:  # built in memory (a MockTransport reply): httpx decoded it already
                codings, raw = [], iter([response.content])
            else:
                codings = parse_content_encoding(response.headers.get("content-encoding"))
                raw = self._raw_chunks(response, original)
            for piece in decode_body(raw, codings, self._max_bytes):
                total += len(piece)
                if total > self._max_bytes:
                    raise SourceError(original, f"response too large (more than {self._max_bytes} bytes)")
                chunks.append(piece)
        except ContentDecodingError as exc:
            raise SourceError(original, str(exc)) from None
        except httpx.TimeoutException as exc:
            raise SourceError(original, self._timeout_reason()) from exc
        except httpx.HTTPError as exc:
            raise SourceError(original, _http_error_reason(exc)) from exc
        return b"".join(chunks)

    def _raw_chunks(self, response: httpx.Response, original: str) -> Iterator[bytes]:
        """The body as sent (still content-encoded), within the byte and time budgets."""
        total = 0
        for chunk in response.iter_raw():
            total += len(chunk)
            if total > self._max_bytes:
                raise SourceError(original, f"response too large (more than {self._max_bytes} bytes)")
            if self._deadline.expired():
                raise SourceError(original, self._timeout_reason())
            yield chunk

    def _timeout_reason(self, *, connecting: bool = False) -> str:
        if not self._deadline.expired():
            if connecting:
                return f"could not connect: timed out after {self._timeout:g}s"
            return f"timed out after {self._timeout:g}s waiting for data"
        stage = "before the response arrived" if connecting else "while reading the response"
        return f"timed out after {self._timeout:g}s {stage} (the budget for one fetch)"


class Deadline:
    """The moment the current fetch must be finished by, per thread (a Fetcher may move between threads)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def start(self, seconds: float) -> None:
        self._local.at = time.monotonic() + seconds

    def clear(self) -> None:
        self._local.at = None

    def remaining(self) -> float | None:
        at: float | None = getattr(self._local, "at", None)
        return None if at is None else at - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def bound(self, timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
        """``timeout`` shortened to the time that is left; raises ``error`` when none is."""
        left = self.remaining()
        if left is None:
            return timeout
        if left <= 0:
            raise error("the fetch's overall deadline has passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Opens TCP connections whose streams honour the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _deadline_transport(backend: httpcore.NetworkBackend, deadline: Deadline) -> httpx.HTTPTransport:
    """httpx's own transport, on a connection pool whose sockets honour ``deadline``.

    httpx does not take a network backend, so its pool is replaced by an equal one
    that has ours (tests/hostile/test_fetch.py proves the deadline on real sockets).
    """
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)  # httpx's own
    transport = httpx.HTTPTransport(trust_env=False, limits=limits)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(backend, deadline),
    )
    return transport


def _decode(data: bytes, declared: str | None, media_type: str, url: str) -> tuple[str, str]:
    """Text of a body: the shared decoder for textual types, lossy UTF-8 for others (refused later by type)."""
    textual = not media_type or media_type.startswith("text/") or media_type.endswith(("xml", "json"))
    if not textual:
        return data.decode("utf-8", errors="replace"), "utf-8"
    decoded = decode_text(data, url, declared=declared, markup=media_type in _MARKUP_TYPES or not media_type)
    return decoded.text, decoded.encoding


def _http_error_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        return f"bad HTTP response: {_one_line(exc)}"
    return f"could not connect: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    """An exception as one short line for a user-facing message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
