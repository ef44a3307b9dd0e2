"""Fixtures for the store tests: every test runs on a SQLite file and on PostgreSQL.

PostgreSQL tests use a database of their own, ``sapa_test_<hex>``, created
for the test session from the ``test`` database on 127.0.0.1:5432 (override
with ``SAPA_TEST_POSTGRES``, an asyncpg DSN of any database on the server)
and dropped at the end. Each test starts from an empty ``public`` schema. When
the server does not answer, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Store
from bot.store.engines import normalize_url
from bot.store.models import Base
from bot.store.testing import FakeClock

# What the count_rows fixture is: ``await count_rows("messages")``.
RowCount = Callable[[str], Awaitable[int]]

ADMIN_DSN = os.environ.get("SAPA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _dsn_for(database: str) -> str:
    return str(normalize_url(ADMIN_DSN).set(database=database).set(drivername="postgresql"))


def _blocking(coro_fn, *args):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even under a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn(*args)).result()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its asyncpg DSN."""
    name = f"sapa_test_{uuid.uuid4().hex[:12]}"
    try:
        _blocking(_admin, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
        pytest.skip(f"PostgreSQL not available at {ADMIN_DSN}: {exc!r}")
    try:
        yield _dsn_for(name)
    finally:
        _blocking(_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _reset_schema(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=3)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a clean PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"
    dsn: str = request.getfixturevalue("postgres_database")
    _blocking(_reset_schema, dsn)
    return dsn


@pytest.fixture
def clock() -> FakeClock:
    """The store's clock in these tests."""
    return FakeClock()


@pytest.fixture
async def store(db_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """An open, migrated store on the test database."""
    opened = await Store.open(db_url, now=clock)
    try:
        yield opened
    finally:
        await opened.close()


class RowCounter:
    """Counts rows behind the store's back, to check what it really wrote."""

    def __init__(self, url: str) -> None:
        self._url = normalize_url(url)

    async def __call__(self, table: str) -> int:
        engine = create_async_engine(self._url)
        try:
            async with engine.connect() as conn:
                t = Base.metadata.tables[table]
                return (await conn.execute(select(func.count()).select_from(t))).scalar_one()
        finally:
            await engine.dispose()


@pytest.fixture
def count_rows(db_url: str) -> RowCounter:
    """``await count_rows("messages")``: the number of rows in a table."""
    return RowCounter(db_url)
