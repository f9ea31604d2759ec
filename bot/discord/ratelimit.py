"""Per-user and per-channel limits on questions, with an injectable clock.

Answers cost an LLM call each; a sliding window (at most ``rate`` hits in any
``per`` seconds) is simple to reason about and to test, and is shared by the
slash command and mention mode so neither can be used to get around the other.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

from bot.discord.errors import RateLimitedError


class SlidingWindowLimiter:
    """At most ``rate`` hits per key in any ``per``-second window; least recently used keys are forgotten."""

    def __init__(
        self,
        rate: int,
        per: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self.rate = rate
        self.per = per
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def retry_after(self, key: Hashable) -> float:
        """Seconds until ``key`` may hit again (0 when it may now)."""
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        now = self.clock()
        while hits and hits[0] <= now - self.per:
            hits.popleft()
        if len(hits) < self.rate:
            return 0.0
        return hits[0] + self.per - now

    def record(self, key: Hashable) -> None:
        hits = self._hits.setdefault(key, deque())
        hits.append(self.clock())
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)


class AskLimits:
    """The question limits: per user, and (looser) per channel so one busy channel can't drain the LLM."""

    def __init__(
        self,
        per_user_per_minute: int,
        per_channel_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = SlidingWindowLimiter(per_user_per_minute, 60.0, clock)
        self.channels = SlidingWindowLimiter(per_channel_per_minute or 3 * per_user_per_minute, 60.0, clock)

    def check(self, user_id: int, channel_id: int | None) -> None:
        """Count a question, or raise :class:`RateLimitedError` without counting it."""
        wait = self.users.retry_after(user_id)
        if wait > 0:
            raise RateLimitedError(wait, "you")
        if channel_id is not None:
            wait = self.channels.retry_after(channel_id)
            if wait > 0:
                raise RateLimitedError(wait, "channel")
            self.channels.record(channel_id)
        self.users.record(user_id)
