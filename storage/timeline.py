"""The shapes breaches and subject access requests share: a timeline of events and a yearly reference counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_ignore, table_of
from storage.types import id_field, text_field, utc_field


class TimelineEvent(SQLModel):
    """One line of an item's timeline: who, when, what changed (each table adds the id of its item)."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    at: datetime = utc_field()
    actor_aad_id: str = Field(max_length=64)
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=30)
    detail: str = text_field()


class YearCounter(SQLModel):
    """The last reference number handed out per school and year (BR-2026-0007, SAR-2026-0003)."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    last: int = 0


async def next_number(session: AsyncSession, counter: type[YearCounter], *, tenant_id: str, year: int) -> int:
    """Take the next number of `counter` for (school, year); the row stays locked until the caller commits."""
    await insert_ignore(session, counter, {"tenant_id": tenant_id, "year": year, "last": 0}, ["tenant_id", "year"])
    table = table_of(counter)
    bumped = await session.execute(
        update(table).where(table.c.tenant_id == tenant_id, table.c.year == year)
        .values(last=table.c.last + 1).returning(table.c.last))
    return int(bumped.scalar_one())
