"""Compatibility re-export: the error hierarchy lives in :mod:`bot.core.errors`.

Kept only so branches written before the move keep importing; new code imports
``bot.core.errors``. Delete once no module imports ``index.errors``.
"""

from bot.core.errors import (
    BlockedURLError,
    ConfigError,
    FactdeskError,
    IndexMismatchError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
    StoreError,
)

__all__ = [
    "BlockedURLError",
    "ConfigError",
    "FactdeskError",
    "IndexMismatchError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "SourceError",
    "StoreError",
]
