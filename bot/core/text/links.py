"""Links readers can trust: http(s) only, shown as the host they really lead to.

A record can carry a title that looks like an address (``https://www.bbc.co.uk/news``) and a
URL on another host, or a URL whose user-info reads like a host
(``https://good.example@evil.example/x``). Renderers link only :func:`parse_link` results, and
a label that looks like an address is replaced by the real host (:func:`link_label`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# "https://…", "www.…", or a dotted name ending in a label of two or more letters ("bbc.co.uk").
_ADDRESS = re.compile(r"://|\bwww\.|(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}\b", re.IGNORECASE)
_UNSAFE_IN_URL = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")  # a backslash: browsers read it as "/"


@dataclass(frozen=True, slots=True)
class Link:
    """An http(s) URL without user-info, and its host as an address bar shows it (ASCII, lower case)."""

    url: str
    host: str


def parse_link(url: str | None) -> Link | None:
    """``url`` as a :class:`Link`, or None when it is not a plain http(s) URL with a host.

    User-info is dropped (``https://good.example@evil.example/x`` → ``https://evil.example/x``):
    it is where a deceptive "host" hides. International hosts are shown in their ASCII (IDNA)
    form, so a look-alike letter from another script shows as ``xn--…``.
    """
    if not url or _UNSAFE_IN_URL.search(url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return None
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return Link(urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment)), host)


def looks_like_address(text: str) -> bool:
    """True when ``text`` reads like a URL or a host name: it must not label a link to somewhere else."""
    return bool(_ADDRESS.search(text))


def link_label(label: str, link: Link) -> str:
    """The text to show for ``link``: ``label``, unless it looks like an address, then the real host."""
    return link.host if not label.strip() or looks_like_address(label) else label
