"""The breach log (Art. 33(5)): breaches, their timelines, and per-school reference counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint, bindparam, delete, select, update
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_ignore, rowcount
from storage.types import id_field, ref_field, utc_field


def _text() -> Column[str]:
    return Column(Text, nullable=False, default="")


def _json() -> Column[list[str]]:
    return Column(JSON, nullable=False)


class Breach(SQLModel, table=True):
    """One personal-data breach as reported, assessed and decided. Never deleted."""

    __table_args__ = (UniqueConstraint("tenant_id", "reference"),)

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    reference: str = Field(max_length=20)  # BR-2026-0007, per school and year
    reporter_aad_id: str = Field(max_length=64, index=True)
    reporter_name: str = Field(default="", max_length=200)
    # The facts (what the ICO's report form asks).
    kind: str = Field(max_length=30)
    what_happened: str = Field(default="", sa_column=_text())
    how_discovered: str = Field(default="", sa_column=_text())
    happened_at: datetime | None = utc_field(nullable=True, default=None)
    aware_at: datetime = utc_field()
    deadline_at: datetime = utc_field(index=True)  # aware_at + 72 clock hours
    subjects: list[str] = Field(default_factory=list, sa_column=_json())
    people_count: int | None = None
    records_count: int | None = None
    data_categories: list[str] = Field(default_factory=list, sa_column=_json())
    contained: str = Field(max_length=10)
    actions_taken: str = Field(default="", sa_column=_text())
    actions_planned: str = Field(default="", sa_column=_text())
    others_informed: list[str] = Field(default_factory=list, sa_column=_json())
    # The suggestion shown to the DPO (never a decision).
    suggested_risk: str = Field(max_length=10)
    suggested_reasons: list[str] = Field(default_factory=list, sa_column=_json())
    # The DPO's decision and the ICO report.
    decision: str | None = Field(default=None, max_length=20)
    decision_reason: str = Field(default="", sa_column=_text())
    individuals: str | None = Field(default=None, max_length=30)
    individuals_note: str = Field(default="", sa_column=_text())
    decided_at: datetime | None = utc_field(nullable=True, default=None)
    ico_reported_at: datetime | None = utc_field(nullable=True, default=None)
    ico_reference: str = Field(default="", max_length=60)
    late_reason: str = Field(default="", sa_column=_text())
    # Bumped when deadline reminders are re-armed, so their keys are new.
    reminder_round: int = 0
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    lessons_learned: str = Field(default="", sa_column=_text())
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class BreachEvent(SQLModel, table=True):
    """One line of a breach's timeline: who, when, what changed."""

    __tablename__ = "breach_event"

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    breach_id: int = ref_field("breach.id", index=True)
    at: datetime = utc_field()
    actor_aad_id: str = Field(max_length=64)
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=30)
    detail: str = Field(default="", sa_column=_text())


class BreachCounter(SQLModel, table=True):
    """The last reference number handed out per school and year."""

    __tablename__ = "breach_counter"

    tenant_id: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    last: int = 0


_BUMP = (
    update(BreachCounter)
    .where(col(BreachCounter.tenant_id) == bindparam("b_tenant"), col(BreachCounter.year) == bindparam("b_year"))
    .values(last=col(BreachCounter.last) + 1)
    .returning(col(BreachCounter.last))
)


async def next_breach_number(session: AsyncSession, *, tenant_id: str, year: int) -> int:
    """Take the next number for (school, year); the row stays locked until the caller commits."""
    await insert_ignore(session, BreachCounter, {"tenant_id": tenant_id, "year": year, "last": 0}, ["tenant_id", "year"])
    bumped = await session.execute(_BUMP, {"b_tenant": tenant_id, "b_year": year})
    return int(bumped.scalar_one())


async def purge_closed_breaches(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Delete one school's breaches closed before `cutoff`, with their timelines; returns how many."""
    closed = select(col(Breach.id)).where(col(Breach.tenant_id) == tenant_id, col(Breach.closed_at) < cutoff)
    await session.execute(delete(BreachEvent).where(col(BreachEvent.breach_id).in_(closed)))
    result = await session.execute(delete(Breach).where(col(Breach.id).in_(closed)))
    return rowcount(result)
