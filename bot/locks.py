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

    A lock is a lease of ``lease`` seconds that its holder renews every third of
    that while the turn runs, so a slow turn keeps its conversation however long it
    takes, and a worker that dies (OOM-killed, SIGKILL) keeps it only until the
    lease runs out, not for the whole ``wait``. ``wait`` bounds how long a turn waits
    for the lock. When Redis does not answer, :meth:`hold` raises
    :class:`bot.bus.BusUnavailable` before the turn (nothing is done, the request can
    be repeated); a lock that cannot be renewed or released during or after the
    turn is left to expire, since the turn commits on its own.
    """

    def __init__(
        self,
        redis,
        *,
        wait: float = 30.0,
        lease: float = 5.0,
        prefix: str = "sapa:lock:",
        health: "RedisBus | None" = None,
    ) -> None:
        self._redis = redis
        self._wait = wait
        self._lease = lease
        self._prefix = prefix
        self._local = LocalLocks()  # keeps one process's own waiters off Redis
        self._health = health  # told when Redis stops and starts answering (it logs that once)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        from redis.exceptions import LockNotOwnedError

        from bot.bus import BusUnavailable, redis_errors

        async with self._local.hold(key):
            lock = self._redis.lock(self._prefix + key, timeout=self._lease, sleep=0.005, blocking_timeout=self._wait)
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
            renewing = asyncio.create_task(self._renew(lock))
            try:
                yield
            finally:
                renewing.cancel()
                # before the release, so no renewal is still on its way to Redis after it
                await asyncio.gather(renewing, return_exceptions=True)
                try:
                    await lock.release()
                except LockNotOwnedError:
                    pass  # the lease ran out while Redis was away; the turn is committed anyway
                except redis_errors() as exc:
                    if self._health is not None:
                        self._health.went_away(exc)

    async def _renew(self, lock) -> None:
        """Extend the lease every third of it until cancelled; stop quietly when Redis or
        the lock is gone (the bus's health check reports Redis itself)."""
        from redis.exceptions import LockError

        from bot.bus import redis_errors

        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await lock.reacquire()
            except (LockError, *redis_errors()):
                return
