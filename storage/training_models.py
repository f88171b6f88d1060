"""Training catalogue and bookings: sessions are shared by every school, bookings belong to one school."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from storage.types import id_field, ref_field, utc_field


class TrainingFormat(StrEnum):
    """Where a session happens."""

    ONLINE = "online"  # Microsoft Teams, with a join link
    IN_PERSON = "in_person"  # at a venue


class TrainingStatus(StrEnum):
    """Whether a session is still on."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    """A person's place on a session."""

    BOOKED = "booked"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class AttendeeRole(StrEnum):
    """What the attendee does at their school (asked when booking)."""

    HEAD_TEACHER = "head_teacher"
    SENIOR_LEADER = "senior_leader"
    GOVERNOR = "governor"
    OTHER = "other"


class TrainingSession(SQLModel, table=True):
    """One dated session in the shared catalogue (times stored in UTC)."""

    __tablename__ = "training_session"

    id: int | None = id_field()
    # Set for rows loaded from the seed file, so loading twice adds nothing.
    seed_key: str | None = Field(default=None, max_length=80, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    starts_at: datetime = utc_field(index=True)
    ends_at: datetime = utc_field()
    booking_closes_at: datetime = utc_field()
    format: str = Field(max_length=12)
    join_url: str = Field(default="", max_length=1000)
    venue: str = Field(default="", max_length=300)
    capacity: int
    organiser_name: str = Field(default="", max_length=200)
    organiser_email: str = Field(default="", max_length=200)
    status: str = Field(default=TrainingStatus.SCHEDULED, max_length=12)
    is_example: bool = False
    # iCalendar SEQUENCE: goes up whenever the time or place changes.
    sequence: int = 0
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


_ACTIVE = "status != 'cancelled'"


class TrainingBooking(SQLModel, table=True):
    """One person's seat (or waiting-list place) on a session, with their school."""

    __tablename__ = "training_booking"
    __table_args__ = (
        # One live booking per person per session; cancelled rows are kept as history.
        Index(
            "ux_training_booking_active", "session_id", "tenant_id", "aad_id", unique=True,
            sqlite_where=text(_ACTIVE), postgresql_where=text(_ACTIVE),
        ),
    )

    id: int | None = id_field()
    session_id: int = ref_field("training_session.id", index=True)
    tenant_id: str = Field(index=True, max_length=64)
    aad_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    status: str = Field(max_length=12)
    ical_uid: str = Field(max_length=100, unique=True)
    created_at: datetime = utc_field()
    promoted_at: datetime | None = utc_field(nullable=True, default=None)
    cancelled_at: datetime | None = utc_field(nullable=True, default=None)
    # Marked by an organiser after the session: True came, False did not, None not marked yet.
    attended: bool | None = None
