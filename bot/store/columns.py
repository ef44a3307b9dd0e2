"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments a column declared exactly "INTEGER PRIMARY KEY";
# PostgreSQL gets 64-bit ids because messages grow without bound.
Id = BigInteger().with_variant(Integer(), "sqlite")
# The largest id both backends can even be asked about (SQLite and BIGINT are
# signed 64-bit); a bigger number in a URL or a form names nothing, and binding
# it would fail the query rather than find no row.
MAX_ID = 2**63 - 1
# Plain integer columns (a conversation's ``seq``) are 32-bit on PostgreSQL.
MAX_INT = 2**31 - 1

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")

# For nullable JSON columns: Python None is SQL NULL, not the JSON literal null.
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are
    stored as naive UTC and the zone is put back on the way out. Naive input is
    refused because guessing its zone is how reports end up hours off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
