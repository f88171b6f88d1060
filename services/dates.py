"""One parser for the dates and times staff type, read the UK way (dd/mm, Europe/London), fully or not at all."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import dateparser

from services.uk_time import EXAMPLES, DateNotUnderstood, read_phrase, refuse

__all__ = ["EXAMPLES", "DateNotUnderstood", "format_uk", "parse_uk_datetime", "to_local", "warm_up"]
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NOW = frozenset({"now", "just now", "right now"})
MAX_YEARS = 10  # a year further than this from today is a misreading ("2 dec 10" is not 2010)
_NUMBER = re.compile(r"^(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)$")
_ORDINAL = re.compile(r"^(?:the )?(\d{1,2})(?:st|nd|rd|th)$")
_RELATIVE = re.compile(r"\b(?:today|yesterday|tomorrow|ago|now)\b")


def parse_uk_datetime(
    text: str,
    *,
    now: datetime,
    tz: str = "Europe/London",
    prefer: Literal["past", "future"] = "past",
) -> datetime:
    """Parse `text` as a UK date/time relative to `now`; return it in UTC.

    A day without a time is that day's start (00:00); a time without a day is the nearest one in the preferred
    direction; anything not read fully raises DateNotUnderstood with an example.
    """
    cleaned = " ".join(text.strip().split())
    if not cleaned or len(cleaned) > 60:
        raise DateNotUnderstood(f"Please give a date and time, {EXAMPLES}.")
    if cleaned.lower() in _NOW:
        return now
    phrase = read_phrase(cleaned)
    if phrase.elapsed:  # "20 minutes ago": counted in real (UTC) time, right across a clock change
        return _dateparser(phrase.day, now.astimezone(UTC), prefer, cleaned).replace(tzinfo=UTC)
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if not phrase.day and phrase.at is None:
        raise refuse(cleaned)
    day = _day(phrase.day, local_now, prefer, cleaned) if phrase.day else local_now.date()
    moment = datetime.combine(day, phrase.at or time(0))
    if not phrase.day and prefer == "past" and moment > local_now:
        moment -= timedelta(days=1)
    elif not phrase.day and prefer == "future" and moment < local_now:
        moment += timedelta(days=1)
    return _localise(moment, zone, phrase.zone, cleaned)


def _day(words: str, local_now: datetime, prefer: str, typed: str) -> date:
    if words in _WEEKDAYS and _WEEKDAYS.index(words) == local_now.weekday():
        return local_now.date()  # "Wednesday 9am" said on a Wednesday is today
    if _NUMBER.match(words):
        raise refuse(typed, "Is that a time or a date? Write e.g. at 10 or 10/12.")
    if ordinal := _ORDINAL.match(words):
        return _nearest_day_of_month(int(ordinal[1]), local_now.date(), prefer, typed)
    parsed = _dateparser(words, local_now, prefer, typed)
    if parsed.time() != time(0) and not _RELATIVE.search(words):
        raise refuse(typed)  # dateparser found a time this module could not read: never drop it
    if abs(parsed.year - local_now.year) > MAX_YEARS:
        raise refuse(typed, f"That would be {parsed.year}.")
    day = parsed.date()
    named = [i for i, name in enumerate(_WEEKDAYS) if name in words or f"{name[:3]} " in f"{words} "]
    if named and named != [day.weekday()]:
        raise refuse(typed, f"{day:%d/%m/%Y} is a {_WEEKDAYS[day.weekday()].title()}.")
    return day


def _nearest_day_of_month(day: int, today: date, prefer: str, typed: str) -> date:
    """"the 5th": the nearest month with that day, in the preferred direction (this month if it fits)."""
    step = -1 if prefer == "past" else 1
    months = today.year * 12 + today.month - 1
    for offset in range(12):
        year, month = divmod(months + step * offset, 12)
        try:
            candidate = date(year, month + 1, day)
        except ValueError:
            continue
        if (candidate <= today) if prefer == "past" else (candidate >= today):
            return candidate
    raise refuse(typed, "There's no such day.")


def _dateparser(words: str, base: datetime, prefer: str, typed: str) -> datetime:
    settings: dict[str, Any] = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": prefer, "PREFER_DAY_OF_MONTH": "first",
                                "RELATIVE_BASE": base.replace(tzinfo=None), "RETURN_AS_TIMEZONE_AWARE": False}
    parsed = dateparser.parse(words, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if parsed is None:
        raise refuse(typed)
    return parsed


def _localise(moment: datetime, zone: ZoneInfo, hint: str, typed: str) -> datetime:
    """A UK wall-clock time as UTC; refused if the clocks skipped it, or passed it twice and BST/GMT wasn't said."""
    first, second = moment.replace(tzinfo=zone, fold=0), moment.replace(tzinfo=zone, fold=1)
    when = f"{moment:%H:%M} on {moment:%a} {moment.day} {moment:%b %Y}"
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise DateNotUnderstood(f"There was no {when}: the clocks went forward an hour. Please check the time, {EXAMPLES}.")
    summer = [m for m in (first, second) if m.dst()]
    winter = [m for m in (first, second) if not m.dst()]
    if first.utcoffset() != second.utcoffset() and not hint:
        raise DateNotUnderstood(f"{when} happened twice: the clocks went back an hour. Please add BST (the first) "
                                f"or GMT (the second), e.g. {moment:%d/%m/%Y %H:%M} BST.")
    chosen = {"bst": summer, "gmt": winter}.get(hint, [first])
    if not chosen:
        raise DateNotUnderstood(f"UK clocks were not on {hint.upper()} at {when}. Please check the time, {EXAMPLES}.")
    return chosen[0].astimezone(UTC)


def to_local(moment: datetime, tz: str = "Europe/London") -> datetime:
    """A stored UTC instant in the school's time zone."""
    return moment.astimezone(ZoneInfo(tz))


def format_uk(moment: datetime, tz: str = "Europe/London") -> str:
    """E.g. 'Wed 25 Nov 2026, 14:30' in UK time."""
    return to_local(moment, tz).strftime("%a %d %b %Y, %H:%M")


def format_uk_day(moment: datetime, tz: str = "Europe/London") -> str:
    """E.g. 'Wed 25 Nov 2026': the day of `format_uk`, in UK time."""
    return to_local(moment, tz).strftime("%a %d %b %Y")


def warm_up() -> None:
    """dateparser loads its language data on first use (~100 ms); do it at start-up."""
    dateparser.parse("01/01/2026", languages=["en"])
