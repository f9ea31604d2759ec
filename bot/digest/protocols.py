"""What the digest needs from parts built elsewhere, as structural types.

The digest accepts any object with these methods, so tests pass fakes and the
answer and claims packages stay free to change their classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.models import CitedSentence, Source
from bot.core.protocols import ClaimLike, ClaimMatcherLike, ClaimMatchLike

__all__ = ["ClaimLike", "ClaimMatchLike", "ClaimMatcherLike", "Extractor", "Verifier"]


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
