"""The one error hierarchy of factdesk (index and serving alike).

Every error a user can cause derives from :class:`FactdeskError`; its message is
one line meant to be shown as-is. Front ends convert these in one place each;
anything else is a bug and is logged with its traceback.
"""

from __future__ import annotations


class FactdeskError(Exception):
    """Base class: the message is shown to the user verbatim."""


class ConfigError(FactdeskError):
    """A setting is missing or invalid."""


class SourceError(FactdeskError):
    """One input (file, URL, feed, record) could not be loaded or is not an article."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class BlockedURLError(SourceError):
    """A URL points at a non-public address or uses a forbidden scheme (SSRF guard)."""


class IndexMismatchError(FactdeskError):
    """The index was built with a different embedding model than the one configured."""


class StoreError(FactdeskError):
    """The vector store or its sidecar files cannot be reached or are inconsistent."""


class EmptyIndexError(FactdeskError):
    """Nothing is indexed in the configured store yet (often: started in another folder)."""


class NotFoundError(FactdeskError):
    """An id (article, claim, digest) does not exist."""


class PermissionDeniedError(FactdeskError):
    """The acting user may not perform this operation."""


class InvalidInputError(FactdeskError):
    """A question, claim or option is empty, too long or malformed."""
