"""Bringing a database to the current schema with Alembic.

The Alembic environment lives in ``bot/store/migrations`` and is configured in
code, so ``sapa run`` needs no ``alembic.ini``: :func:`upgrade` runs
``alembic upgrade head`` on a connection of an async engine, handing it to
``env.py`` through ``config.attributes["connection"]``.

Developers writing a new migration can use the ``alembic`` command with the
shipped ini file (it honours ``DATABASE_URL``)::

    alembic -c bot/store/alembic.ini revision --autogenerate -m "add tickets"
    alembic -c bot/store/alembic.ini upgrade head
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import engines

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same for every Sapa process, so two
# workers starting together migrate one after the other.
_PG_MIGRATION_LOCK_KEY = 0x5A9A_0001


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations, no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (``None`` for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade_sync(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until this transaction ends; SQLite needs nothing here because the
        # write engine's BEGIN IMMEDIATE already excludes other writers.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK_KEY})")
    if current_revision(connection) == head_revision():
        return  # already current: skip Alembic's script loading and logging
    config = alembic_config()
    # env.py picks this connection up instead of creating an engine of its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Run ``upgrade head`` in one transaction; a no-op on a current database.

    Raises :class:`engines.DatabaseUnavailable` when no connection can be made (the
    usual DATABASE_URL mistakes); errors of the migration itself pass unchanged.
    """
    try:
        connection = await engine.connect()
    except (SQLAlchemyError, OSError) as exc:
        raise engines.DatabaseUnavailable(
            f"cannot open the database at DATABASE_URL {engines.shown_url(engine.url)!r}: {_reason(exc)}"
        ) from exc
    try:
        async with connection.begin():
            await connection.run_sync(_upgrade_sync)
    finally:
        await connection.close()


def _reason(exc: BaseException) -> str:
    """The driver's own words for a failed connection, without SQLAlchemy's wrapping."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    if "unable to open database file" in reason:
        reason += " (may Sapa write in its folder?)"
    return reason


async def migrate(url: URL, *, echo: bool = False) -> None:
    """Upgrade the database at a normalized ``url`` with a short-lived engine.

    On SQLite the engine begins with ``BEGIN IMMEDIATE``, so processes starting
    together take turns; on PostgreSQL an advisory lock does the same.
    """
    engine = (
        engines.sqlite_async_engine(url, echo=echo)
        if engines.is_sqlite(url)
        else engines.postgres_engine(url, echo=echo)
    )
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
