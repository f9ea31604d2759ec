"""Bounded decoding of an HTTP body's ``Content-Encoding``, stacked layers included.

httpx inflates each network chunk in one call, so ``Content-Encoding: gzip, gzip``
turns a 7 KB body into gigabytes in memory before a size check can run. Here the
raw bytes go through one streaming decompressor per layer, each asked for at most
:data:`PIECE` bytes at a time, and every layer's output is counted against the
limit, so memory stays at a few pieces and the work stops as soon as any layer
would decode to more than the limit.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Generator, Iterable, Iterator

log = logging.getLogger(__name__)

PIECE = 64 * 1024
MAX_LAYERS = 3
GZIP = ("gzip", "x-gzip")
DEFLATE = ("deflate",)
SUPPORTED = frozenset(GZIP + DEFLATE)
ACCEPT_ENCODING = "gzip, deflate"


class ContentDecodingError(ValueError):
    """The body's content encoding is unsupported, corrupt, truncated or decodes to too much."""


def parse_content_encoding(header: str | None) -> list[str]:
    """The codings in the order they were applied; ``identity`` and blanks dropped."""
    codings = [part.strip().lower() for part in (header or "").split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    for coding in codings:
        if coding not in SUPPORTED:
            raise ContentDecodingError(f"unsupported content encoding '{coding[:40]}'")
    if len(codings) > MAX_LAYERS:
        raise ContentDecodingError(f"too many stacked content encodings ({len(codings)} > {MAX_LAYERS})")
    return codings


def decode_body(chunks: Iterable[bytes], codings: list[str], limit: int) -> Iterator[bytes]:
    """Decoded pieces of the body; raises ContentDecodingError once any layer passes ``limit`` bytes."""
    stream: Iterator[bytes] = iter(chunks)
    for depth, coding in enumerate(reversed(codings), start=1):
        stream = _through(_Layer(coding), stream, limit, depth)
    return stream


def _through(layer: _Layer, chunks: Iterator[bytes], limit: int, depth: int) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        for piece in layer.feed(chunk):
            total += len(piece)
            if total > limit:
                layers = "" if depth == 1 else f" after {depth} layers of decoding"
                raise ContentDecodingError(f"response too large (more than {limit} bytes once decoded{layers})")
            yield piece
    layer.finish()


class _Layer:
    """One streaming decompressor; gzip may hold several members, as RFC 1952 allows."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._inflater: zlib._Decompress | None = None
        self._head = b""  # deflate: the first bytes, until zlib-wrapped or raw can be told apart
        self._streams_done = 0
        self._stream_output = 0
        self._done = False  # after the last stream: trailing bytes are ignored

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._done:
            if self._inflater is None:
                data = self._start(data)
                if not data:
                    return
            try:
                data = yield from self._inflate(data)
            except zlib.error as exc:
                if self._streams_done and not self._stream_output:
                    log.debug("ignoring trailing bytes after the %s body", self.coding)
                    self._inflater = None
                    self._done = True
                    return
                raise ContentDecodingError(f"corrupt {self.coding} body ({exc})") from None

    def finish(self) -> None:
        """At the end of the body: a stream that began must have ended."""
        if self._head or (self._inflater is not None and not self._inflater.eof):
            raise ContentDecodingError(f"{self.coding} body ends early (truncated)")

    def _inflate(self, data: bytes) -> Generator[bytes, None, bytes]:
        """Pieces of one stream's output; returns the bytes after the stream's end."""
        inflater = self._inflater
        assert inflater is not None
        while True:
            out = inflater.decompress(data, PIECE)
            if out:
                self._stream_output += len(out)
                yield out
            data = inflater.unconsumed_tail
            if inflater.eof:
                self._streams_done += 1
                self._inflater = None
                self._done = self.coding not in GZIP  # only gzip has further members
                return inflater.unused_data
            if not data and len(out) < PIECE:
                return b""

    def _start(self, data: bytes) -> bytes:
        """Create the decompressor for the next stream; returns what it has to read (b"" to wait)."""
        self._stream_output = 0
        if self.coding in GZIP:
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            return data
        self._head += data
        if len(self._head) < 2:
            return b""
        first, second = self._head[0], self._head[1]
        zlib_wrapped = first & 0x0F == 8 and (first * 256 + second) % 31 == 0
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        data, self._head = self._head, b""
        return data
