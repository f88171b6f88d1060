"""Breach drills: practice breaches a DPO works on a (possibly compressed) clock. Never part of the breach log."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import id_field, text_field, utc_field


class BreachDrill(SQLModel, table=True):
    """One practice breach: its scenario, its clock, and when (in drill seconds) each step was taken."""

    __tablename__ = "breach_drill"

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    started_by: str = Field(max_length=64)  # the DPO who runs it (gets its alert and reminders)
    scenario: str = Field(max_length=30)
    started_at: datetime = utc_field()
    # The drill clock: `clock_drill_s` drill seconds had passed at `clock_real_at`; since then `speed` per real second.
    speed: int = 1
    clock_real_at: datetime = utc_field()
    clock_drill_s: int = 0
    reminder_round: int = 0  # bumped when the reminders are re-armed for a new speed, so their keys are new
    # Drill seconds after the alert at which each step was first taken (None: not taken).
    first_look_s: int | None = None
    decided_s: int | None = None
    decision: str | None = Field(default=None, max_length=20)
    individuals: str | None = Field(default=None, max_length=30)
    contained_s: int | None = None
    containment: str = text_field()
    ico_pack_s: int | None = None
    ended_at: datetime | None = utc_field(nullable=True, default=None)
    ended_s: int | None = None
