"""Creating engines, with the SQLite settings Sapa relies on.

Every SQLite connection gets WAL, ``synchronous=NORMAL``, a busy timeout and
foreign keys, and has BEGIN taken over by SQLAlchemy (see
:func:`_sqlite_connect`). Engines that write begin with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///./sapa.db"

# How long a SQLite connection waits for another process's write lock before
# failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000
# Read connections on PostgreSQL. No overflow: under load, overflow connections
# are opened and closed again for every burst, and a new PostgreSQL backend
# costs far more than waiting a moment for a pooled one.
PG_READ_POOL_SIZE = 10


class DatabaseUnavailable(Exception):
    """The database cannot be used: a URL Sapa does not support, or nothing usable answers there.

    The message names the URL (without its password) and is meant for the operator as it is.
    """


log = logging.getLogger(__name__)

# While the database does not answer: one log line per this many seconds and process,
# not a traceback per request or per background round.
UNAVAILABLE_LOG_EVERY_SECONDS = 30.0
_unavailable_logged_at: float | None = None


def note_database_unavailable(exc: DatabaseUnavailable) -> None:
    """Log that something was refused or postponed because the database does not answer (throttled)."""
    global _unavailable_logged_at
    now = time.monotonic()
    if _unavailable_logged_at is None or now - _unavailable_logged_at >= UNAVAILABLE_LOG_EVERY_SECONDS:
        _unavailable_logged_at = now
        log.warning("%s; requests are answered 503 (try again) until it does", exc)


class UnsupportedDatabaseUrl(DatabaseUnavailable, ValueError):
    """``DATABASE_URL`` is not a SQLite file or PostgreSQL URL."""


def normalize_url(url: str | URL) -> URL:
    """Pick the async driver for the URLs people actually write.

    ``postgres://`` and ``postgresql://`` (as hosting providers hand them out)
    become ``postgresql+asyncpg://``; ``sqlite://`` becomes ``sqlite+aiosqlite://``.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedDatabaseUrl(
            f"DATABASE_URL {str(url)!r} is not a database URL; write sqlite:///path/to/sapa.db "
            "or postgresql://user@host/db"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed):
            # Reads and writes use different connections, and each in-memory
            # connection is its own database.
            raise UnsupportedDatabaseUrl(
                f"DATABASE_URL {shown_url(parsed)!r}: the store needs a SQLite file, not an in-memory database"
            )
        return parsed.set(drivername="sqlite+aiosqlite")
    raise UnsupportedDatabaseUrl(
        f"DATABASE_URL {shown_url(parsed)!r} is not supported; use sqlite:///path/to/sapa.db "
        "or postgresql://user@host/db"
    )


def shown_url(url: URL) -> str:
    """``url`` for the operator's eyes: without the driver Sapa picked and with the password masked."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    """Whether ``url`` names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def postgres_engine(url: URL, *, pool_size: int = 1, echo: bool = False) -> AsyncEngine:
    """An asyncpg engine with a fixed pool of ``pool_size`` connections."""
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=0)


def sqlite_async_engine(url: URL, *, echo: bool = False) -> AsyncEngine:
    """A one-connection aiosqlite engine that writes (used for migrations)."""
    engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0)
    _configure_sqlite(engine.sync_engine, immediate=True)
    return engine


def sqlite_sync_engine(url: URL, *, pool_size: int, writes: bool, echo: bool = False) -> Engine:
    """A plain sqlite3 engine for the store's own worker threads.

    ``writes`` engines begin transactions with ``BEGIN IMMEDIATE``. Read-only
    engines run each statement in autocommit and skip the rollback on
    returning a connection, since there is never a transaction to undo.
    """
    engine = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        echo=echo,
        pool_size=pool_size,
        max_overflow=0,
        pool_reset_on_return="rollback" if writes else None,
    )
    _configure_sqlite(engine, immediate=writes)
    return engine


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    event.listen(engine, "connect", _sqlite_connect)
    if immediate:
        event.listen(engine, "begin", _begin_immediate)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings (run on every new connection)."""
    # Take BEGIN away from the sqlite3 module: its legacy mode skips BEGIN before
    # SELECT/DDL/SAVEPOINT, which breaks savepoints and transactional DDL.
    # Statements outside a SQLAlchemy transaction then simply autocommit.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer and vice versa. NORMAL is durable
    # against application crashes and only risks the last commits on power loss,
    # which is SQLite's recommended pairing with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    # Take the write lock up front: a deferred transaction that reads and then
    # writes fails at once (SQLITE_BUSY_SNAPSHOT) when another process committed
    # in between, and busy_timeout cannot help it.
    conn.exec_driver_sql("BEGIN IMMEDIATE")
