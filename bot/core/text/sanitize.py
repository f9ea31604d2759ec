"""Article text is untrusted: made inert before it goes into a prompt.

It is fenced inside ``<source>`` tags that the text itself cannot close, and the
system prompt says to treat it as data.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"</?\s*(sources?|system|instructions?)\b[^>]*>", re.IGNORECASE)


def fence(text: str) -> str:
    """Neutralise anything in article text that looks like our delimiters."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)
