"""``Store.ping`` for /healthz: true when the database answers, false otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store, WriterClosed


async def test_ping_open_store(store: Store) -> None:
    assert await store.ping() is True


async def test_ping_after_close_is_false_and_writes_are_refused(db_url: str) -> None:
    store = await Store.open(db_url)
    await store.close()
    assert await store.ping() is False
    await store.close()  # closing twice is harmless
    with pytest.raises(WriterClosed):
        await store.record_turn(1, None, [])


async def test_ping_on_unopenable_sqlite_file_is_false(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'sapa.db'}"
    store = await Store.open(url, migrate=False)
    try:
        assert await store.ping() is False
    finally:
        await store.close()


@pytest.mark.postgres
async def test_ping_on_missing_postgres_database_is_false(postgres_database: str) -> None:
    url = postgres_database.rsplit("/", 1)[0] + "/sapa_no_such_database"
    store = await Store.open(url, migrate=False)
    try:
        assert await store.ping() is False
    finally:
        await store.close()


def test_in_memory_sqlite_is_refused() -> None:
    import asyncio

    with pytest.raises(ValueError, match="SQLite file"):
        asyncio.run(Store.open("sqlite+aiosqlite://"))
