"""Helpers for tests that use a store (here and in other packages' tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass
class FakeClock:
    """A clock for ``Store.open(now=...)`` that only moves when told to.

    Always timezone-aware UTC. ``clock.advance(minutes=5)`` moves it on.
    """

    now: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)``; return the new time."""
        self.now += timedelta(**delta)
        return self.now
