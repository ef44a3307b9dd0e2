"""Token-bucket rate limits, kept in memory per worker process.

A bucket holds up to ``capacity`` tokens and refills at ``capacity`` per
``period`` seconds; each message takes one. So a limit of 20 per minute lets a
customer send a burst of 20 and then one every 3 seconds. Buckets that have
refilled completely are forgotten, so idle keys cost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``allow(key)`` is True while ``key`` stays within ``capacity`` per ``period`` seconds."""

    def __init__(
        self,
        capacity: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("capacity must be at least 1 and period positive")
        self.capacity = float(capacity)
        self.rate = capacity / period
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys
        self._calls = 0

    def allow(self, key: str, cost: float = 1.0) -> bool:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        self._calls += 1
        if self._calls % 1024 == 0 or len(self._buckets) > self._max_keys:
            self._sweep(now)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return True
        return False

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``key`` may spend ``cost`` again (0 when it may now)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        tokens = min(self.capacity, bucket.tokens + (self._clock() - bucket.updated) * self.rate)
        return max(0.0, (cost - tokens) / self.rate)

    def _sweep(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self._max_keys:  # a flood of distinct keys: forget the oldest
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[
                : len(self._buckets) - self._max_keys
            ]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
