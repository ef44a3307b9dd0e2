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
from sqlalchemy import Connection, inspect
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
    current = current_revision(connection)
    if current == head_revision():
        return  # already current: skip Alembic's script loading and logging
    _refuse_foreign_schema(connection, current)
    config = alembic_config()
    # env.py picks this connection up instead of creating an engine of its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _refuse_foreign_schema(connection: Connection, current: str | None) -> None:
    """Raise :class:`engines.DatabaseUnavailable` for the databases an operator can point
    ``DATABASE_URL`` at by mistake, which Alembic reported as a traceback:

    - one migrated by a newer Sapa (a deploy rolled back): "Can't locate revision";
    - one with tables named like Sapa's but no Sapa revision (another application's, or a
      copy restored without ``alembic_version``): "table orders already exists".
    """
    shown = engines.shown_url(connection.engine.url)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None:
        if current not in {revision.revision for revision in script.walk_revisions()}:
            raise engines.DatabaseUnavailable(
                f"the database at DATABASE_URL {shown!r} has schema revision {current!r}, which this "
                f"Sapa does not know (its newest is {script.get_current_head()!r}): it was migrated by a "
                "newer Sapa. Run that version again, or restore a backup made before the upgrade"
            )
        return
    from bot.store.models import Base  # the tables Sapa's migrations create

    taken = sorted(set(inspect(connection).get_table_names()) & set(Base.metadata.tables))
    if taken:
        raise engines.DatabaseUnavailable(
            f"the database at DATABASE_URL {shown!r} already has tables named like Sapa's "
            f"({', '.join(taken[:5])}{', …' if len(taken) > 5 else ''}) but no Sapa schema version: "
            "point DATABASE_URL at an empty database or at Sapa's own"
        )


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
