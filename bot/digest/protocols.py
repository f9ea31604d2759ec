"""What the digest needs from parts built elsewhere, as structural types.

The digest accepts any object with these methods, so tests pass fakes and the
answer and claims packages stay free to change their classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import numpy as np

from bot.core.models import CitedSentence, Source
from bot.core.protocols import ClaimLike, ClaimMatcherLike, ClaimMatchLike
from index.store import ChunkRecord

__all__ = ["ClaimLike", "ClaimMatchLike", "ClaimMatcherLike", "Extractor", "Verifier", "WindowChunks"]


class Extractor(Protocol):
    """:class:`bot.answer.extractive.ExtractiveEngine`: cited sentences picked from the sources."""

    def answer(
        self, question: str, sources: Sequence[Source], *, status_question: bool
    ) -> list[tuple[str, tuple[int, ...]]]: ...


class VerificationLike(Protocol):
    @property
    def sentences(self) -> list[CitedSentence]: ...


class Verifier(Protocol):
    """:class:`bot.verify.citations.CitationVerifier`: keeps sentences their citations support."""

    def verify(
        self, sentences: Sequence[tuple[str, Sequence[int]] | CitedSentence] | str, sources: Sequence[Source]
    ) -> VerificationLike: ...


class WindowChunks(Protocol):
    """Where a window's leading chunks and their vectors are read: the store, or (serving) the
    retriever's lexical index, so a digest does not load Chroma's index of every chunk vector."""

    def first_chunks(self, start: datetime, end: datetime, max_index: int) -> tuple[list[ChunkRecord], np.ndarray]: ...
