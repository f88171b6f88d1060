"""The one place that decides whether a day is a school day: weekends, the nation's bank holidays, and the school's
own holidays (its term dates, or England's typical pattern when it has given none). Teams-free; callers pass the day."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.calendar_models import DayKind, SchoolDates

Region = Literal["ENG", "WLS", "SCT", "NIR"]
NATIONS: dict[str, str] = {"ENG": "England", "WLS": "Wales", "SCT": "Scotland", "NIR": "Northern Ireland"}
MORNING = time(9)  # when a non-urgent reminder planned for a school day goes (UK time)
SAME_BREAK = timedelta(days=21)  # a school's own holiday starting this close to a typical one replaces it
_LOOK_AHEAD = 400  # days searched for the next school day (a calendar that closes for longer is not believed)


@dataclass(frozen=True)
class Span:
    """A range of days (first and last included) with what it is for the school."""

    kind: DayKind
    label: str
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        """True when `day` is in the range."""
        return self.starts_on <= day <= self.ends_on


def school_year(day: date) -> int:
    """The year its school year started (September to August)."""
    return day.year if day.month >= 9 else day.year - 1


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _week(label: str, monday: date) -> Span:
    return Span(DayKind.HOLIDAY, label, monday, monday + timedelta(days=4))


@cache
def typical_holidays(year: int) -> tuple[Span, ...]:
    """England's typical holidays in the school year starting September `year` (used until the school gives its own)."""
    spring = year + 1
    christmas = _monday_on_or_after(date(year, 12, 18))
    easter_sunday = easter(spring)
    return (
        _week("October half term", _monday_on_or_after(date(year, 10, 25))),
        Span(DayKind.HOLIDAY, "Christmas holiday", christmas, christmas + timedelta(days=13)),
        _week("February half term", _monday_on_or_after(date(spring, 2, 15))),
        Span(DayKind.HOLIDAY, "Easter holiday", easter_sunday - timedelta(days=6), easter_sunday + timedelta(days=7)),
        _week("May half term", _monday_on_or_after(date(spring, 5, 25))),
        Span(DayKind.HOLIDAY, "Summer holiday", date(spring, 7, 23), date(spring, 8, 31)),
    )


@cache
def bank_holidays(region: Region) -> holidays.HolidayBase:
    """The nation's bank holidays (the maintained `holidays` package; years are filled in as they are asked for)."""
    return holidays.country_holidays("GB", subdiv=region)


@dataclass(frozen=True)
class SchoolCalendar:
    """A school's days: its own ranges (typed or uploaded) over England's typical pattern and the bank holidays.

    Between the first and last term a school gives, days outside its terms are holidays and the typical pattern is
    not used; a holiday it gives replaces the typical one starting within SAME_BREAK of it."""

    own: tuple[Span, ...] = ()
    region: Region = "ENG"
    _years: dict[int, tuple[Span, ...]] = field(default_factory=dict, compare=False, repr=False)

    def closed(self, day: date) -> str | None:
        """Why staff reminders wait on `day` (e.g. "Saturday", "Christmas Day (bank holiday)"), or None on a school day."""
        if day.weekday() >= 5:
            return f"{day:%A}"
        if name := bank_holidays(self.region).get(day):
            return f"{name} (bank holiday)"
        year = self.year(school_year(day))
        if any(s.kind is DayKind.INSET and s.covers(day) for s in year):
            return None  # staff are in
        if shut := next((s for s in year if s.kind is DayKind.HOLIDAY and s.covers(day)), None):
            return shut.label
        terms = [s for s in year if s.kind is DayKind.TERM]
        inside = terms and min(t.starts_on for t in terms) <= day <= max(t.ends_on for t in terms)
        return "between terms" if inside and not any(t.covers(day) for t in terms) else None

    def year(self, start: int) -> tuple[Span, ...]:
        """Every range that counts in the school year starting September `start`."""
        if start not in self._years:
            first, last = date(start, 9, 1), date(start + 1, 8, 31)
            own = [s for s in self.own if s.starts_on <= last and s.ends_on >= first]
            mine = [s for s in own if s.kind is DayKind.HOLIDAY]
            terms = [s for s in own if s.kind is DayKind.TERM]
            given = (min(t.starts_on for t in terms), max(t.ends_on for t in terms)) if terms else None
            typical = [t for t in typical_holidays(start)
                       if not any(abs(s.starts_on - t.starts_on) <= SAME_BREAK for s in mine)
                       and (given is None or t.ends_on < given[0] or t.starts_on > given[1])]
            self._years[start] = tuple(sorted(own + typical, key=lambda s: s.starts_on))
        return self._years[start]

    def is_typical(self, start: int) -> bool:
        """True when the school has given no dates of its own for that school year."""
        first, last = date(start, 9, 1), date(start + 1, 8, 31)
        return not any(s.starts_on <= last and s.ends_on >= first for s in self.own)

    def next_school_day(self, day: date) -> date:
        """`day` itself if it is a school day, else the first school day after it."""
        for offset in range(_LOOK_AHEAD):
            if self.closed(candidate := day + timedelta(days=offset)) is None:
                return candidate
        return day

    def school_mornings(self, after: datetime, count: int, tz: str = "Europe/London") -> list[datetime]:
        """09:00 school time on each of the next `count` school days after `after`, in UTC."""
        zone, day = ZoneInfo(tz), after.astimezone(ZoneInfo(tz)).date()
        mornings: list[datetime] = []
        while len(mornings) < count:
            day = self.next_school_day(day + timedelta(days=1))
            mornings.append(datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC))
        return mornings

    def on_school_day(self, moment: datetime, tz: str = "Europe/London") -> datetime:
        """`moment` moved, at the same clock time, to the first school day on or after its day (remove-by dates)."""
        local = moment.astimezone(ZoneInfo(tz))
        day = self.next_school_day(local.date())
        return moment if day == local.date() else datetime.combine(day, local.time(), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def spans_of(rows: Iterable[SchoolDates]) -> tuple[Span, ...]:
    """Stored rows as spans, earliest first."""
    return tuple(sorted((Span(DayKind(r.kind), r.label, r.starts_on, r.ends_on) for r in rows), key=lambda s: s.starts_on))


async def stored_dates(session: AsyncSession, tenant_id: str) -> list[SchoolDates]:
    """A school's own ranges, earliest first."""
    rows = await session.execute(select(SchoolDates).where(col(SchoolDates.tenant_id) == tenant_id)
                                 .order_by(col(SchoolDates.starts_on), col(SchoolDates.id)))
    return list(rows.scalars())


async def calendar_for(session: AsyncSession, tenant_id: str, region: Region = "ENG") -> SchoolCalendar:
    """A school's calendar (its own ranges; England's typical pattern where it has none)."""
    return SchoolCalendar(spans_of(await stored_dates(session, tenant_id)), region)


async def closed_schools(session: AsyncSession, tenant_ids: Collection[str], day: date, region: Region) -> set[str]:
    """Of these schools, the ones where `day` is not a school day."""
    wanted = sorted(tenant_ids)
    rows = await session.execute(select(SchoolDates).where(col(SchoolDates.tenant_id).in_(wanted))) if wanted else None
    by_school: dict[str, list[SchoolDates]] = {tenant: [] for tenant in wanted}
    for row in rows.scalars() if rows is not None else ():
        by_school[row.tenant_id].append(row)
    return {tenant for tenant, own in by_school.items() if SchoolCalendar(spans_of(own), region).closed(day) is not None}


def holidays_between(calendar: SchoolCalendar, first: date, last: date) -> Sequence[tuple[date, date, str]]:
    """The closures from `first` to `last` as (from, to, why), weekends aside: closed weekdays are joined up across a
    weekend, and a run is named by its school holiday rather than a bank holiday inside it."""
    found: list[tuple[date, date, str]] = []
    day = first
    while day <= last:
        if day.weekday() >= 5 or calendar.closed(day) is None:
            day += timedelta(days=1)
            continue
        start = end = day
        why: list[str] = []
        while day <= last and (why_closed := calendar.closed(day)) is not None:
            if day.weekday() < 5:
                end, why = day, [*why, why_closed]
            day += timedelta(days=1)
        found.append((start, end, next((w for w in why if not w.endswith("(bank holiday)")), why[0])))
    return found
