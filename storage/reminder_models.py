"""The reminder ledger: the durable truth about what is due, sent, or given up on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from storage.types import id_field, utc_field


class ReminderState(StrEnum):
    """Where a reminder is in its life."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a sweep; stamped before the send, reconciled after a crash
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class Reminder(SQLModel, table=True):
    """One proactive message to one person about one thing, due at one time."""

    __table_args__ = (Index("ix_reminder_due", "state", "due_at"),)

    id: int | None = id_field()
    # Unique per logical reminder (e.g. "breach:12:deadline-24h:<aad>") so scheduling twice is harmless.
    key: str = Field(max_length=200, unique=True)
    tenant_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=40)
    recipient_aad_id: str = Field(max_length=64)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64, index=True)
    due_at: datetime = utc_field()
    state: str = Field(default=ReminderState.PENDING, max_length=12)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    next_attempt_at: datetime | None = utc_field(nullable=True, default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = utc_field(nullable=True, default=None)
    sent_at: datetime | None = utc_field(nullable=True, default=None)
    # The id Teams gave the sent message (ResourceResponse.id): its card is updated in place when the subject changes.
    activity_id: str | None = Field(default=None, max_length=256)
    created_at: datetime = utc_field()
    # Small, non-personal extras for the renderer (e.g. {"stage": "48h"}).
    payload: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
