"""The SAR due-date rules, table-driven (bank holidays: England, from the `holidays` package)."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from services.sar.dates import add_school_days, due_date
from services.school.calendar import bank_holidays


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 9, 3), date(2026, 10, 5)),  # 3 Oct 2026 is a Saturday -> Monday
    (date(2026, 11, 25), date(2026, 12, 29)),  # 25 Dec Fri; 26, 27 weekend; 28 Boxing Day (observed) -> Tue 29th
    (date(2026, 11, 24), date(2026, 12, 24)),  # a Thursday: as it is
    (date(2027, 1, 31), date(2027, 3, 1)),  # no 31 Feb: 28 Feb 2027 is a Sunday -> Monday 1 March
    (date(2028, 1, 31), date(2028, 2, 29)),  # leap year: 29 Feb 2028, a Tuesday
    (date(2026, 3, 31), date(2026, 4, 30)),  # no 31 April: the last day of April
    (date(2026, 3, 6), date(2026, 4, 7)),  # 6 April 2026 is Easter Monday -> Tuesday
    (date(2026, 12, 31), date(2027, 2, 1)),  # over the year end: 31 Jan 2027 is a Sunday -> Monday
])
def test_one_calendar_month_then_the_next_working_day(received: date, due: date) -> None:
    assert due_date(received) == due


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)), (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 10, 31), 2, date(2026, 12, 31)),
])
def test_corresponding_date_or_the_last_day_of_that_month(day: date, months: int, expected: date) -> None:
    assert day + relativedelta(months=months) == expected  # the rule due_date relies on


@pytest.mark.parametrize(("received", "months", "due"), [
    (date(2026, 9, 3), 1, date(2026, 11, 3)),  # Tuesday
    (date(2026, 9, 3), 2, date(2026, 12, 3)),  # Thursday
    (date(2026, 11, 30), 2, date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday
    (date(2027, 11, 30), 2, date(2028, 2, 29)),  # leap year
])
def test_an_extension_adds_whole_months_from_receipt(received: date, months: int, due: date) -> None:
    assert due_date(received, extension_months=months) == due


@pytest.mark.parametrize(("received", "paused_days", "due"), [
    (date(2026, 9, 3), 0, date(2026, 10, 5)),
    (date(2026, 9, 3), 4, date(2026, 10, 7)),  # 3 Oct + 4 days = Wednesday 7th
    (date(2026, 1, 31), 2, date(2026, 3, 2)),  # 28 Feb + 2 days = Monday 2 March
])
def test_days_stopped_for_clarification_move_the_due_date_on(received: date, paused_days: int, due: date) -> None:
    assert due_date(received, paused_days=paused_days) == due


@pytest.mark.parametrize(("received", "paused_days", "due"), [
    (date(2026, 11, 25), 0, date(2026, 12, 16)),  # Wed -> 15 weekdays later, no bank holiday
    (date(2026, 12, 14), 0, date(2027, 1, 7)),  # 25, 28 Dec and 1 Jan are not school days
    (date(2026, 3, 30), 0, date(2026, 4, 22)),  # Good Friday and Easter Monday skipped
    (date(2026, 11, 25), 5, date(2026, 12, 21)),  # paused Wed -> Mon: the count starts again from Monday 30th
])
def test_educational_records_take_15_school_days(received: date, paused_days: int, due: date) -> None:
    assert due_date(received, educational=True, paused_days=paused_days) == due


def test_school_days_skip_weekends_and_bank_holidays() -> None:
    assert add_school_days(date(2026, 4, 2), 1, bank_holidays("ENG")) == date(2026, 4, 7)  # Thu -> Tue after Easter
    assert add_school_days(date(2026, 11, 27), 1, set()) == date(2026, 11, 30)  # Fri -> Mon
