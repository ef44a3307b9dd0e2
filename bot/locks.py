"""Per-conversation locks, so one conversation's turns run one at a time.

In one process an :class:`asyncio.Lock` per key is enough; several worker
processes share a Redis lock instead (``REDIS_URL``).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Protocol


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

    ``timeout`` bounds how long a crashed worker can keep a conversation locked.
    """

    def __init__(self, redis, *, timeout: float = 30.0, prefix: str = "sapa:lock:") -> None:
        self._redis = redis
        self._timeout = timeout
        self._prefix = prefix
        self._local = LocalLocks()  # keeps one process's own waiters off Redis

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            lock = self._redis.lock(
                self._prefix + key, timeout=self._timeout, sleep=0.005, blocking_timeout=self._timeout
            )
            async with lock:
                yield
