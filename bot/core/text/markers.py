"""``[n]`` citation markers: the forms models write, the canonical form, and removing them."""

from __future__ import annotations

import re

# "[1][3]" after a claim: the canonical markers, as answers and digests show them.
CANONICAL_RUN = r"(?:\[\d+\])+"  # a pattern piece for modules that build a larger pattern
CITATION_RUN = re.compile(rf"\s*{CANONICAL_RUN}")
LEADING_RUN = re.compile(r"^(?:\s*\[\d+\])+")  # markers a sentence split left at the start


def strip_citations(text: str) -> str:
    """Remove ``[1][3]`` style reference markers, which are not part of what is claimed."""
    return CITATION_RUN.sub("", text).strip()


# Every marker form a model writes: "[1, 2]", "[1-3]", "【1】", "[source 2]", "[^1]", "[1†L3]".
MARKER = re.compile(
    r"(?:[\[［【]\s*(?:\^|sources?\s*|refs?\.?\s*)?"
    r"(?P<body>\d{1,3}(?:\s*(?:,|;|[-–—]|and)\s*\d{1,3})*)"
    r"\s*(?:†[^\]］】]*)?[\]］】])",
    re.IGNORECASE,
)
CANONICAL_MARKER = re.compile(r"\[(\d{1,3})\]")


def cited_numbers(text: str) -> list[int]:
    """The source numbers of the canonical ``[n]`` markers in ``text``, in order."""
    return [int(n) for n in CANONICAL_MARKER.findall(text)]


_MAX_RANGE = 20


def strip_source_markers(text: str) -> str:
    """Article text as readers may see it quoted: its own "[1][3]" reference markers removed.

    Sources are numbered by factdesk; a marker that came with the article text
    ("…on Tuesday [7].") would read as one of factdesk's citations.
    """
    text = " ".join(MARKER.sub(" ", text).split())
    return re.sub(r"\s+([.,;:!?…)\]”’])", r"\1", text)


def marker_numbers(body: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", body):
        if not part:
            continue
        bounds = [int(x) for x in re.split(r"\s*[-–—]\s*", part) if x]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
            out.extend(range(bounds[0], bounds[1] + 1))
        else:
            out.extend(bounds)
    return out


def canonical_markers(text: str) -> str:
    """``[1, 2]``, ``[1-3]``, ``【1】``, ``[source 2]`` → ``[1][2]`` style markers."""
    return MARKER.sub(lambda m: "".join(f"[{n}]" for n in marker_numbers(m.group("body"))), text)
