"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out (SQLite forgets the zone, PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_field(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    """A sqlmodel Field stored as UTCDateTime."""
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index, **kwargs)


# Ids are BIGINT on PostgreSQL (any id of up to 18 digits fits); on SQLite an INTEGER primary key is the rowid,
# already 64-bit, and only that type numbers new rows by itself.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def id_field(**kwargs: Any) -> Any:
    """A table's own id: numbered by the database, BIGINT."""
    return Field(default=None, primary_key=True, sa_type=BIG_ID, **kwargs)


def ref_field(foreign_key: str | None = None, **kwargs: Any) -> Any:
    """Another row's id (BIGINT, like the ids it points to)."""
    if foreign_key is not None:
        kwargs["foreign_key"] = foreign_key
    return Field(sa_type=BIG_ID, **kwargs)


def text_field() -> Any:
    """Free text of any length, never NULL ("" when not given, by the ORM and by plain INSERTs alike)."""
    return Field(default="", sa_type=Text, nullable=False, sa_column_kwargs={"default": ""})
