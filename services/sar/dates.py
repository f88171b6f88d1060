"""The subject access request clock (UK GDPR Art. 12(3), ICO guidance; Education (Pupil Information) (England)
Regulations 2005 for educational records). Pure: dates in, dates out."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from services.school.calendar import bank_holidays

SCHOOL_DAYS = 15  # an educational record: 15 school days
MAX_EXTENSION_MONTHS = 2


def is_working_day(day: date, closed: Container[date]) -> bool:
    """A weekday that is not a bank holiday."""
    return day.weekday() < 5 and day not in closed


def next_working_day(day: date, closed: Container[date]) -> date:
    """`day` itself if it is a working day, else the next one."""
    while not is_working_day(day, closed):
        day += timedelta(days=1)
    return day


def add_school_days(day: date, count: int, closed: Container[date]) -> date:
    """The `count`-th school day after `day` (weekdays minus bank holidays until a school calendar exists)."""
    while count > 0:
        day += timedelta(days=1)
        count -= is_working_day(day, closed)
    return day


def due_date(clock_start: date, *, educational: bool = False, extension_months: int = 0, paused_days: int = 0,
             closed: Container[date] | None = None) -> date:
    """When the answer is due: one calendar month (plus any extension) from the start of the clock, moved on by the days
    the clock was stopped for clarification, then to the next working day; 15 school days for an educational record."""
    closed = bank_holidays("ENG") if closed is None else closed
    if educational:
        return add_school_days(clock_start + timedelta(days=paused_days), SCHOOL_DAYS, closed)
    return next_working_day(clock_start + relativedelta(months=1 + extension_months) + timedelta(days=paused_days), closed)
