"""Compression bombs, built once per session from one raw deflate stream of zeros."""

from __future__ import annotations

import functools
import gzip
import struct
import zlib
from pathlib import Path

MIB = 1 << 20
DATA = Path(__file__).parent / "data"
# Content-Encoding: gzip, gzip; 6,777 bytes that inflate to 4 GiB of zeros (issue 13, item 6).
# Made with: gzip.compress(<gzip level 9 of 4096 MiB of zeros>, 9, mtime=0).
DOUBLE_GZIP_4GIB = DATA / "gzip-gzip-4gib.bin"


@functools.cache
def raw_deflate_zeros(mib: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = b"\0" * MIB
    return b"".join(compressor.compress(block) for _ in range(mib)) + compressor.flush()


def _zeros_checksum(mib: int, func: object, start: int) -> int:
    block = b"\0" * MIB
    value = start
    for _ in range(mib):
        value = func(block, value)  # type: ignore[operator]
    return value


def gzip_zeros(mib: int) -> bytes:
    """A gzip member of ``mib`` MiB of zeros."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", _zeros_checksum(mib, zlib.crc32, 0), (mib * MIB) & 0xFFFFFFFF)
    return header + raw_deflate_zeros(mib) + trailer


def zlib_zeros(mib: int) -> bytes:
    """A zlib stream (HTTP ``deflate`` as specified) of ``mib`` MiB of zeros."""
    return b"\x78\x9c" + raw_deflate_zeros(mib) + struct.pack(">I", _zeros_checksum(mib, zlib.adler32, 1))


def double_gzip_4gib() -> bytes:
    return DOUBLE_GZIP_4GIB.read_bytes()


def layered(data: bytes, codings: list[str]) -> bytes:
    """``data`` encoded with each coding in turn, as ``Content-Encoding: a, b`` means."""
    for coding in codings:
        data = gzip.compress(data, mtime=0) if coding == "gzip" else zlib.compress(data)
    return data
