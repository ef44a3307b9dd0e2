"""Fixtures for the store tests: every test runs on a SQLite file and on PostgreSQL.

PostgreSQL tests use the session's own database (``postgres_database`` in
tests/conftest.py); each test starts from an empty ``public`` schema. When the
server does not answer, the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Store
from bot.store.engines import normalize_url
from bot.store.models import Base
from bot.store.testing import FakeClock
from tests.conftest import blocking

# What the count_rows fixture is: ``await count_rows("messages")``.
RowCount = Callable[[str], Awaitable[int]]

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
    blocking(_reset_schema, dsn)
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
