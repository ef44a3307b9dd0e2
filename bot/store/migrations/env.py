"""Alembic environment for Sapa's store.

At runtime :func:`bot.store.migrate.upgrade` passes an open connection in
``config.attributes["connection"]``. When run from the ``alembic`` command
(``alembic -c bot/store/alembic.ini ...``) this file builds an async engine
from ``DATABASE_URL`` or the ini's ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from bot.store import engines
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("connection") is None:
    # Only when run by hand: inside the application logging is the app's business.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    return os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or ""


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit the SQL to stdout (``alembic upgrade head --sql``)."""
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_migrations_online_async() -> None:
    url = engines.normalize_url(_database_url())
    engine = (
        engines.sqlite_async_engine(url)
        if engines.is_sqlite(url)
        else engines.postgres_engine(url)
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate through the connection the store handed over, or a new engine."""
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_migrations_online_async())
    else:
        _run_with(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
