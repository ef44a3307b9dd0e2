"""The Alembic migrations: applied on open, idempotent, and in step with the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Store
from bot.store.engines import normalize_url
from bot.store.migrate import alembic_config, current_revision, head_revision
from bot.store.models import Base


async def _run(url: str, fn):  # type: ignore[no-untyped-def]
    engine = create_async_engine(normalize_url(url))
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_open_migrates_to_head_and_is_idempotent(db_url: str) -> None:
    first = await Store.open(db_url)
    await first.close()
    assert await _run(db_url, current_revision) == head_revision()
    # Second open: nothing left to do, and the data survives.
    second = await Store.open(db_url)
    conversation = await second.open_conversation("rest", "abc", "en")
    await second.close()
    third = await Store.open(db_url)
    assert await third.conversation(conversation.id) == conversation
    await third.close()
    assert await _run(db_url, current_revision) == head_revision()


async def test_models_and_migrations_agree(db_url: str) -> None:
    store = await Store.open(db_url)
    await store.close()
    assert await _run(db_url, _diff) == []


async def test_open_conversation_index_is_partial_and_unique(db_url: str) -> None:
    store = await Store.open(db_url)
    await store.close()

    def indexes(conn: Connection) -> dict[str, dict]:  # type: ignore[type-arg]
        return {ix["name"]: ix for ix in inspect(conn).get_indexes("conversations")}

    index = (await _run(db_url, indexes))["uq_conversations_open"]
    assert index["unique"]
    assert index["column_names"] == ["channel", "external_id"]
    where = index.get("dialect_options", {})
    assert "resolved" in str(where.get("sqlite_where", where.get("postgresql_where", "")))


async def test_downgrade_and_upgrade_again(db_url: str) -> None:
    store = await Store.open(db_url)
    await store.close()

    def downgrade(conn: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")

    await _run(db_url, downgrade)
    assert await _run(db_url, lambda c: sorted(inspect(c).get_table_names())) == ["alembic_version"]
    store = await Store.open(db_url)
    assert (await store.open_conversation("rest", "x", None)).id == 1
    await store.close()
