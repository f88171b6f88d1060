"""A school's term dates as its DPO gives them: typed ranges, or the local authority's CSV or ICS file, read fully
(a date that can't be read stops the whole change), then saved in place of the ranges they overlap."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.consent.pupil_csv import parse_date
from services.consent.pupil_files import decode_csv
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.school.calendar import Span
from storage.calendar_models import DayKind, SchoolDates

MAX_LINES = 200
MAX_DAYS = {DayKind.TERM: 200, DayKind.HOLIDAY: 120, DayKind.INSET: 5}  # longer is a typing slip
_DATE = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}"
_TO = r"\s*(?:to|until|till|-|\u2013|\u2014)\s*"
_TYPED = re.compile(rf"\s*(?P<label>[^\d;]*?)[\s:,]*(?P<start>{_DATE})(?:{_TO}(?P<end>{_DATE}))?[\s.,;]*", re.IGNORECASE)
_INSET = re.compile(r"\b(inset|training day|staff (?:training|development)|teacher day|pd day|professional development)\b", re.I)
_HOLIDAY = re.compile(r"\b(holidays?|half[- ]?term|closed|closure|break|bank holiday|christmas|easter|summer|whitsun|may day)\b",
                      re.I)
_TERM = re.compile(r"\bterm\b", re.I)
_LABEL = ("label", "description", "event", "name", "title", "summary", "holiday", "term", "what", "occasion")
_START = ("start", "start date", "from", "begins", "first day", "date", "start_date", "date from")
_END = ("end", "end date", "to", "until", "ends", "last day", "end_date", "date to")
EXAMPLE = "for example **half term 15/02/2027 to 19/02/2027**, **autumn term 02/09/2026 to 18/12/2026** or **INSET 01/09/2026**"


@dataclass(frozen=True)
class Reading:
    """What a message or file gave: the ranges read, and lines not used (not a term, holiday or INSET day)."""

    spans: tuple[Span, ...]
    not_used: tuple[str, ...] = ()


def kind_of(label: str) -> DayKind | None:
    """INSET day, holiday or term from its name ("half term" is a holiday), or None."""
    if _INSET.search(label):
        return DayKind.INSET
    if _HOLIDAY.search(label):
        return DayKind.HOLIDAY
    return DayKind.TERM if _TERM.search(label) else None


def _span(label: str, start: date, end: date | None, today: date, where: str) -> Span | None:
    """One range, checked; None when its name is not a term, holiday or INSET day."""
    label = " ".join(label.split()).strip(" -:,")[:100]
    kind = kind_of(label)
    if kind is None:
        return None
    end = end or start
    if end < start:
        raise DomainError(f"{where}: the range ends ({end:%d/%m/%Y}) before it starts ({start:%d/%m/%Y}).")
    if not today.year - 2 <= start.year <= today.year + 3:
        raise DomainError(f"{where}: {start:%d/%m/%Y} is too far from today. Please check the year.")
    if (end - start).days + 1 > MAX_DAYS[kind]:
        raise DomainError(f"{where}: {(end - start).days + 1} days is too long for a {kind.value}. Please check the dates.")
    return Span(kind, label or kind.value.title(), start, end)


def _date(value: str, where: str) -> date:
    try:
        return parse_date(value)
    except ValueError as error:
        raise DomainError(f"{where}: I couldn't read \u201c{value.strip()[:20]}\u201d as a date (use dd/mm/yyyy).") from error


def _collect(found: Sequence[tuple[str, Span | None]]) -> Reading:
    spans = tuple(span for _, span in found if span is not None)
    if not spans:
        raise DomainError(f"I found no term, holiday or INSET dates in that. Type them, {EXAMPLE}.")
    return Reading(spans, tuple(line for line, span in found if span is None))


def read_typed(text: str, *, today: date) -> Reading:
    """Ranges typed one after another (Teams joins lines), e.g. "half term 15/02/2027 to 19/02/2027; INSET 01/09/2027"."""
    found: list[tuple[str, Span | None]] = []
    position, said = 0, " ".join(text.split())
    while position < len(said) and len(found) < MAX_LINES:
        match = _TYPED.match(said, position)
        if match is None:
            raise DomainError(f"I couldn't read \u201c{said[position:position + 80]}\u201d. Give a name and dates for "
                              f"each range, {EXAMPLE}.")
        line, position = match[0].strip(" ;,."), match.end()
        where = f"\u201c{line[:80]}\u201d"
        end = _date(match["end"], where) if match["end"] else None
        span = _span(match["label"], _date(match["start"], where), end, today, where)
        if span is None:
            raise DomainError(f"{where}: is that a term, a holiday or an INSET day? Start with its name, {EXAMPLE}.")
        found.append((line, span))
    return _collect(found)


def read_csv(text: str, *, today: date) -> Reading:
    """A CSV with a name column (event, description ...), a start date and (optionally) an end date."""
    rows = list(csv.reader(io.StringIO(text)))[: MAX_LINES + 1]
    if not rows:
        raise DomainError("That file is empty.")
    headers = [h.strip().lower() for h in rows[0]]
    label, start = _column(headers, _LABEL), _column(headers, _START)
    end = _column(headers, _END, not_in=(start,))
    if label is None or start is None:
        raise DomainError("I need a column naming each range (e.g. Event or Description) and a Start date column. "
                          "The first row must be the column names.")
    found: list[tuple[str, Span | None]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = dict(enumerate(row)).get
        where = f"Row {number}"
        ends = (cell(end) or "").strip() if end is not None else ""
        span = _span(cell(label) or "", _date(cell(start) or "", where), _date(ends, where) if ends else None, today, where)
        found.append((f"{where}: {(cell(label) or '').strip()[:60]}", span))
    return _collect(found)


def _column(headers: list[str], names: Sequence[str], not_in: Sequence[int | None] = ()) -> int | None:
    return next((headers.index(n) for n in names if n in headers and headers.index(n) not in not_in), None)


def read_ics(data: bytes, *, today: date) -> Reading:
    """An iCalendar file: each event's summary, first day and last day (an all-day DTEND is the day after, RFC 5545)."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise DomainError("I couldn't read that calendar file. Please send the .ics file as your local authority "
                          "published it.") from error
    found: list[tuple[str, Span | None]] = []
    for number, event in enumerate(calendar.walk("VEVENT")[:MAX_LINES], start=1):
        summary, where = str(event.get("SUMMARY") or ""), f"Event {number}"
        if event.get("DTSTART") is None:
            raise DomainError(f"{where} ({summary[:60]}) has no start date.")
        start = _day(event.decoded("DTSTART"))
        ends = event.decoded("DTEND") if event.get("DTEND") is not None else None
        last = start if ends is None else _day(ends) - timedelta(days=1 if _all_day_end(ends) else 0)
        found.append((f"{where}: {summary[:60]}", _span(summary, start, max(last, start), today, where)))
    return _collect(found)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _all_day_end(value: date | datetime) -> bool:
    """An exclusive end: a date, or midnight."""
    return not isinstance(value, datetime) or (value.hour, value.minute, value.second) == (0, 0, 0)


def read_file(name: str, data: bytes, *, today: date) -> Reading:
    """A term-dates file by its kind: .ics, or CSV (UTF-8) otherwise."""
    if name.lower().endswith((".ics", ".ical", ".ifb")) or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        return read_ics(data, today=today)
    return read_csv(decode_csv(data), today=today)


async def save(session: AsyncSession, *, actor: Actor, reading: Reading, source: str, now: datetime) -> None:
    """DPO only: store the ranges, each replacing the school's ranges of the same kind that it overlaps. Commits."""
    dpo_only(actor)
    for span in reading.spans:
        await session.execute(delete(SchoolDates).where(
            col(SchoolDates.tenant_id) == actor.tenant_id, col(SchoolDates.kind) == span.kind.value,
            col(SchoolDates.starts_on) <= span.ends_on, col(SchoolDates.ends_on) >= span.starts_on))
    session.add_all([SchoolDates(tenant_id=actor.tenant_id, kind=s.kind.value, label=s.label, starts_on=s.starts_on,
                                 ends_on=s.ends_on, source=source, created_at=now, created_by=actor.aad_id)
                     for s in reading.spans])
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="calendar.saved", now=now,
                 subject_type="school_dates", subject_id=len(reading.spans))
    await session.commit()


async def clear(session: AsyncSession, *, actor: Actor, now: datetime) -> int:
    """DPO only: forget the school's own dates (England's typical pattern applies again). Commits."""
    dpo_only(actor)
    result = await session.execute(delete(SchoolDates).where(col(SchoolDates.tenant_id) == actor.tenant_id))
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="calendar.cleared", now=now,
                 subject_type="school_dates", subject_id=0)
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def dpo_only(actor: Actor) -> None:
    """Refuse anyone but the school's DPO."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can change the term dates. Type **term dates** to see them.")
