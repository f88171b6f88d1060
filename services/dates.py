"""One parser for the dates and times staff type, read the UK way (dd/mm, Europe/London)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import dateparser

from services.errors import DomainError

EXAMPLES = "for example 03/04/2026 14:30, today 9:15, yesterday at 3pm or last Friday"


class DateNotUnderstood(DomainError):
    """The text is not a date we can be sure of."""


def parse_uk_datetime(
    text: str,
    *,
    now: datetime,
    tz: str = "Europe/London",
    prefer: Literal["past", "future"] = "past",
) -> datetime:
    """Parse `text` as a UK date/time relative to `now`; return it in UTC."""
    cleaned = " ".join(text.strip().split())
    if not cleaned or len(cleaned) > 60:
        raise DateNotUnderstood(f"Please give a date and time, {EXAMPLES}.")
    zone = ZoneInfo(tz)
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": prefer,
        "PREFER_DAY_OF_MONTH": "first",
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        "TIMEZONE": tz,
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
    }
    parsed = dateparser.parse(cleaned, languages=["en"], settings=settings)  # type: ignore[arg-type]
    if parsed is None:
        raise DateNotUnderstood(f"Sorry, I couldn't read \u201c{cleaned}\u201d as a date. Try again, {EXAMPLES}.")
    return parsed.astimezone(UTC)


def to_local(moment: datetime, tz: str = "Europe/London") -> datetime:
    """A stored UTC instant in the school's time zone."""
    return moment.astimezone(ZoneInfo(tz))


def format_uk(moment: datetime, tz: str = "Europe/London") -> str:
    """E.g. 'Wed 25 Nov 2026, 14:30' in UK time."""
    return to_local(moment, tz).strftime("%a %d %b %Y, %H:%M")


def warm_up() -> None:
    """dateparser loads its language data on first use (~100 ms); do it at start-up."""
    dateparser.parse("01/01/2026", languages=["en"])
