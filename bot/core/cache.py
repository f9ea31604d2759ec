"""A bounded map of recently made values, filled in batches (sentence vectors, spaCy parses).

Both are costly to make one at a time and cheap per item in a batch, and both recur across an
answer's steps and across questions, so callers ask for all the keys a step needs at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchCache(Generic[K, V]):
    """Keeps the ``max_items`` most recently used values; :meth:`get_many` makes the missing ones in one call."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Sequence[K], make: Callable[[list[K]], Sequence[V]]) -> dict[K, V]:
        """A value for every key: known ones looked up, the others made by one ``make(missing)`` call.

        ``make`` runs outside the lock (it is the slow part); a value made twice by two threads
        at once is merely stored twice.
        """
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            made = dict(zip(missing, make(missing), strict=True))
            found.update(made)
            with self._lock:
                self._items.update(made)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return found
