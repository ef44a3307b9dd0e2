"""Running synchronous SQLAlchemy functions from asyncio, per backend.

The store's queries and writes are plain synchronous Core functions over a
:class:`~sqlalchemy.Connection`. A :class:`Database` runs them without
blocking the event loop:

- PostgreSQL: through asyncpg, ``AsyncConnection.run_sync`` (SQLAlchemy's
  greenlet bridge: the function's statements are awaited on the loop).
- SQLite: in worker threads with the standard ``sqlite3`` driver. sqlite3
  calls are short and release the GIL, so what matters is the number of
  thread hand-offs: aiosqlite makes about four per statement, a worker thread
  one per *function*, i.e. one per group-commit batch or per read. Writes use
  one dedicated thread and connection (SQLite has a single writer anyway),
  reads a small pool of threads, which WAL lets run beside the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import engines

T = TypeVar("T")

SQLITE_READ_THREADS = 4


class Database(Protocol):
    """Runs a ``fn(connection, *args)`` against the database."""

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        ...

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on a connection outside any explicit transaction."""
        ...

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` in a transaction; commit if it returns, roll back if it raises."""
        ...

    async def dispose(self) -> None:
        """Close all connections (and threads)."""
        ...


def open_database(url: URL, *, echo: bool = False) -> Database:
    """The :class:`Database` for a normalized URL (see :func:`engines.normalize_url`)."""
    if engines.is_sqlite(url):
        return SQLiteDatabase(url, echo=echo)
    return AsyncEngineDatabase(
        read=engines.postgres_engine(url, pool_size=engines.PG_READ_POOL_SIZE, echo=echo),
        write=engines.postgres_engine(url, pool_size=1, echo=echo),
    )


class AsyncEngineDatabase:
    """A :class:`Database` over async engines (used for PostgreSQL).

    Transactions get an engine of their own, so the group-commit writer never
    queues for a connection behind a burst of reads.
    """

    def __init__(self, *, read: AsyncEngine, write: AsyncEngine) -> None:
        self._read = read
        self._write = write

    @property
    def dialect(self) -> str:
        return self._write.dialect.name

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(2):
            conn = await _connect(self._read)
            try:
                return await conn.run_sync(fn, *args)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                if attempt:
                    raise _unreachable(self._read, exc) from exc
                # The pooled connection had died (PostgreSQL restarted, or an administrator
                # ended it); SQLAlchemy has dropped it and every pooled connection as old, so
                # a new one answers. A read is always safe to repeat.
            finally:
                await conn.close()
        raise AssertionError("unreachable")

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(2):
            conn = await _connect(self._write)
            committing = False
            try:
                async with conn.begin():
                    result = await conn.run_sync(fn, *args)
                    committing = True
                return result
            except DBAPIError as exc:
                # Lost before COMMIT was sent: PostgreSQL rolled the transaction back with the
                # connection, so running it again on a new one writes it once. Lost during the
                # COMMIT, the outcome is unknown and the error goes to the caller as it is.
                if committing or not exc.connection_invalidated:
                    raise
                if attempt:
                    raise _unreachable(self._write, exc) from exc
            finally:
                await conn.close()
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self._write.dispose()
        await self._read.dispose()


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    """A connection of ``engine``'s pool, or :class:`engines.DatabaseUnavailable` when none can
    be opened (PostgreSQL down or restarting, refusing connections, too many of them)."""
    try:
        return await engine.connect()
    except (OSError, asyncio.TimeoutError, DBAPIError) as exc:
        raise _unreachable(engine, exc) from exc


def _unreachable(engine: AsyncEngine, exc: BaseException) -> engines.DatabaseUnavailable:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return engines.DatabaseUnavailable(
        f"the database at DATABASE_URL {engines.shown_url(engine.url)!r} does not answer: {reason}"
    )


class SQLiteDatabase:
    """A :class:`Database` over sqlite3 in worker threads: one writer, a few readers."""

    def __init__(self, url: URL, *, echo: bool = False) -> None:
        self._write_engine = engines.sqlite_sync_engine(url, pool_size=1, writes=True, echo=echo)
        self._read_engine = engines.sqlite_sync_engine(
            url, pool_size=SQLITE_READ_THREADS, writes=False, echo=echo
        )
        self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="sapa-sqlite-write")
        self._read_threads = ThreadPoolExecutor(
            SQLITE_READ_THREADS, thread_name_prefix="sapa-sqlite-read"
        )

    @property
    def dialect(self) -> str:
        return "sqlite"

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._read_threads, partial(_run_connected, self._read_engine, fn, args)
        )

    async def transaction(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._write_thread, partial(_run_in_transaction, self._write_engine, fn, args)
        )

    async def dispose(self) -> None:
        loop = asyncio.get_running_loop()
        # Shut the threads down off the loop: shutdown(wait=True) blocks.
        await loop.run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._write_thread.shutdown(wait=True)
        self._read_threads.shutdown(wait=True)
        self._write_engine.dispose()
        self._read_engine.dispose()


def _run_connected(engine: Engine, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    with engine.connect() as conn:
        return fn(conn, *args)


def _run_in_transaction(engine: Engine, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    with engine.begin() as conn:
        return fn(conn, *args)
