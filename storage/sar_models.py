"""Subject access requests (UK GDPR Art. 15; educational records): requests, their timelines, per-school references."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.timeline import TimelineEvent, YearCounter
from storage.types import id_field, ref_field, text_field, utc_field


class SubjectAccessRequest(SQLModel, table=True):
    """One request to see personal data, from receipt to the answer sent. Never deleted by the bot."""

    __tablename__ = "subject_access_request"
    __table_args__ = (UniqueConstraint("tenant_id", "reference"),)

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    reference: str = Field(max_length=20)  # SAR-2026-0003, per school and year
    logged_by_aad_id: str = Field(max_length=64, index=True)
    logged_by_name: str = Field(default="", max_length=200)
    handler_aad_id: str | None = Field(default=None, max_length=64)  # the member of staff the DPO asked to handle it
    handler_name: str = Field(default="", max_length=200)
    requester_type: str = Field(max_length=20)  # parent, pupil, staff, former_staff, other
    requester_name: str = Field(default="", max_length=200)  # personal data: shown in cards and the export, never logged
    subject_kind: str = Field(max_length=10)  # pupil (from the register) or person
    pupil_id: int | None = ref_field(default=None, nullable=True)
    subject_name: str = Field(default="", max_length=200)
    received_on: date
    channel: str = Field(max_length=10)  # email, letter, verbal, other
    id_verified: bool = False
    educational_record: bool = False
    # The clock: due = clock_start + 1 month (+ extension) + days stopped for clarification, on a working day.
    clock_start: date
    paused_days: int = 0
    paused_on: date | None = None
    pause_kind: str = Field(default="", max_length=15)  # "id" or "clarification" while paused
    extension_months: int = 0
    extension_reason: str = text_field()
    extension_told_on: date | None = None
    due_on: date = Field(index=True)
    checklist: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # step -> who/when
    # Bumped whenever the due date changes, so the re-armed reminders get new keys.
    reminder_round: int = 0
    outcome: str = Field(default="", max_length=12)  # full, partial, refused, withdrawn
    outcome_note: str = text_field()  # exemptions used / reason refused
    disclosed: str = text_field()  # the disclosure record: what was sent
    sent_on: date | None = None
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class SarEvent(TimelineEvent, table=True):
    """One line of a request's timeline: who, when, what changed."""

    __tablename__ = "sar_event"

    sar_id: int = ref_field("subject_access_request.id", index=True)


class SarCounter(YearCounter, table=True):
    """The last request number handed out per school and year."""

    __tablename__ = "sar_counter"


