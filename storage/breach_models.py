"""The breach log (Art. 33(5)): breaches, their timelines, and per-school reference counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint, delete, select
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import rowcount
from storage.timeline import TimelineEvent, YearCounter
from storage.types import id_field, ref_field, text_field, utc_field


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
    what_happened: str = text_field()
    how_discovered: str = text_field()
    happened_at: datetime | None = utc_field(nullable=True, default=None)
    aware_at: datetime = utc_field()
    deadline_at: datetime = utc_field(index=True)  # aware_at + 72 clock hours
    subjects: list[str] = Field(default_factory=list, sa_column=_json())
    people_count: int | None = None
    records_count: int | None = None
    data_categories: list[str] = Field(default_factory=list, sa_column=_json())
    contained: str = Field(max_length=10)
    actions_taken: str = text_field()
    actions_planned: str = text_field()
    others_informed: list[str] = Field(default_factory=list, sa_column=_json())
    # The suggestion shown to the DPO (never a decision).
    suggested_risk: str = Field(max_length=10)
    suggested_reasons: list[str] = Field(default_factory=list, sa_column=_json())
    # The DPO's decision and the ICO report.
    decision: str | None = Field(default=None, max_length=20)
    decision_reason: str = text_field()
    individuals: str | None = Field(default=None, max_length=30)
    individuals_note: str = text_field()
    decided_at: datetime | None = utc_field(nullable=True, default=None)
    ico_reported_at: datetime | None = utc_field(nullable=True, default=None)
    ico_reference: str = Field(default="", max_length=60)
    late_reason: str = text_field()
    # Bumped when deadline reminders are re-armed, so their keys are new.
    reminder_round: int = 0
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    lessons_learned: str = text_field()
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class BreachEvent(TimelineEvent, table=True):
    """One line of a breach's timeline: who, when, what changed."""

    __tablename__ = "breach_event"

    breach_id: int = ref_field("breach.id", index=True)


class BreachCounter(YearCounter, table=True):
    """The last reference number handed out per school and year."""

    __tablename__ = "breach_counter"


async def purge_closed_breaches(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Delete one school's breaches closed before `cutoff`, with their timelines; returns how many."""
    closed = select(col(Breach.id)).where(col(Breach.tenant_id) == tenant_id, col(Breach.closed_at) < cutoff)
    await session.execute(delete(BreachEvent).where(col(BreachEvent.breach_id).in_(closed)))
    result = await session.execute(delete(Breach).where(col(Breach.id).in_(closed)))
    return rowcount(result)
