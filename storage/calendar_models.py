"""A school's own calendar: term dates, holidays and INSET days, as typed or uploaded by its DPO."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from storage.types import id_field, utc_field


class DayKind(StrEnum):
    """What a range of dates is for the school."""

    TERM = "term"  # pupils in: the days between two terms are holidays
    HOLIDAY = "holiday"  # school closed (half term, Christmas, a local closure)
    INSET = "inset"  # staff training day: staff are in, so staff reminders still go


class SchoolDates(SQLModel, table=True):
    """One range of a school's calendar (first and last day included)."""

    __tablename__ = "school_dates"

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=10)
    label: str = Field(max_length=100)
    starts_on: date
    ends_on: date
    source: str = Field(max_length=10)  # "typed" | "upload"
    created_at: datetime = utc_field()
    created_by: str = Field(max_length=64)
