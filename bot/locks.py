"""Per-conversation locks, so one conversation's turns run one at a time.

In one process an :class:`asyncio.Lock` per key is enough; several worker
processes share a Redis lock instead (``REDIS_URL``).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator, Protocol

if TYPE_CHECKING:
    from bot.bus import RedisBus


class ConversationLocks(Protocol):
    def hold(self, key: str) -> "asyncio.AbstractAsyncContextManager[None]": ...


class LocalLocks:
    """In-process locks; entries are dropped once nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class RedisLocks:
    """Locks shared by every worker process through Redis.

    ``timeout`` bounds how long a crashed worker can keep a conversation locked. When
    Redis does not answer, :meth:`hold` raises :class:`bot.bus.BusUnavailable` before
    the turn (nothing is done, the request can be repeated); a lock that cannot be
    released after the turn is left to expire, since the turn is committed by then.
    """

    def __init__(
        self,
        redis,
        *,
        timeout: float = 30.0,
        prefix: str = "sapa:lock:",
        health: "RedisBus | None" = None,
    ) -> None:
        self._redis = redis
        self._timeout = timeout
        self._prefix = prefix
        self._local = LocalLocks()  # keeps one process's own waiters off Redis
        self._health = health  # told when Redis stops and starts answering (it logs that once)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        from bot.bus import BusUnavailable, redis_errors

        async with self._local.hold(key):
            lock = self._redis.lock(
                self._prefix + key, timeout=self._timeout, sleep=0.005, blocking_timeout=self._timeout
            )
            try:
                acquired = await lock.acquire()
            except redis_errors() as exc:
                if self._health is not None:
                    self._health.went_away(exc)
                raise BusUnavailable(str(exc)) from exc
            if not acquired:
                from redis.exceptions import LockError

                raise LockError("Unable to acquire lock within the time specified")
            if self._health is not None:
                self._health.came_back()
            try:
                yield
            finally:
                try:
                    await lock.release()
                except redis_errors() as exc:
                    if self._health is not None:
                        self._health.went_away(exc)
