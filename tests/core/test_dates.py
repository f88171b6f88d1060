"""The one UK date parser every dialog uses: a table of the phrasings staff type, each with the instant it must mean.

Every row runs against a fixed clock. Expected times are UK wall-clock times (Europe/London), or UTC when they end in Z
(only where the UK time happened twice, when the clocks went back).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pytest

from services.dates import DateNotUnderstood, format_uk, parse_uk_datetime

UK = ZoneInfo("Europe/London")


def uk(text: str) -> datetime:
    """'2026-12-02 10:15' as a UK wall-clock time (unambiguous) in UTC; '... Z' as UTC."""
    if text.endswith("Z"):
        return datetime.fromisoformat(text[:-1].strip()).replace(tzinfo=UTC)
    naive = datetime.fromisoformat(text)
    first, second = naive.replace(tzinfo=UK, fold=0), naive.replace(tzinfo=UK, fold=1)
    assert first.utcoffset() == second.utcoffset(), f"{text} is ambiguous in the UK: give it in UTC"
    return first.astimezone(UTC)


CLOCKS = {
    "WED": uk("2026-12-02 14:30"),  # Wednesday afternoon, GMT
    "SUMMER": uk("2026-07-01 13:00"),  # Wednesday lunchtime, BST
    "AFTER_MIDNIGHT": uk("2026-12-03 00:20"),  # Thursday just after midnight, GMT
    "AFTER_MIDNIGHT_BST": uk("2026-08-01 00:20"),  # Saturday just after midnight, BST (still Friday in UTC)
    "SPRING_NIGHT": uk("2026-03-29 03:00"),  # an hour after the clocks went forward (01:00 GMT -> 02:00 BST)
    "SPRING_MONDAY": uk("2026-03-30 09:00"),  # the morning after the clocks went forward
    "AUTUMN_NIGHT": uk("2026-10-25 03:00"),  # two hours after the clocks went back (02:00 BST -> 01:00 GMT)
    "AUTUMN_MONDAY": uk("2026-10-26 10:00"),  # the morning after the clocks went back
}

# clock | typed | expected.  Times read in the past unless the clock's name says FUTURE (training dates).
TABLE = """
WED | today at 10.15 | 2026-12-02 10:15
WED | today 10.15 | 2026-12-02 10:15
WED | today at 10:15 | 2026-12-02 10:15
WED | 10.15 | 2026-12-02 10:15
WED | 10.15am | 2026-12-02 10:15
WED | 10:15am | 2026-12-02 10:15
WED | 10.15 am | 2026-12-02 10:15
WED | 10.15 a.m. | 2026-12-02 10:15
WED | yesterday 4.30pm | 2026-12-01 16:30
WED | yesterday at 4.30pm | 2026-12-01 16:30
WED | Yesterday 4.30 PM | 2026-12-01 16:30
WED | yesterday 4.30 | 2026-12-01 16:30
WED | yesterday at 16:30 | 2026-12-01 16:30
WED | this morning about 8.45 | 2026-12-02 08:45
WED | this morning at about 8.45 | 2026-12-02 08:45
WED | this morning around 8.45 | 2026-12-02 08:45
WED | about 8.45 this morning | 2026-12-02 08:45
WED | 8.45 this morning | 2026-12-02 08:45
WED | this morning 8:45 | 2026-12-02 08:45
WED | 8.45am | 2026-12-02 08:45
WED | 8.45ish | 2026-12-02 08:45
WED | at 8.45ish this morning | 2026-12-02 08:45
WED | half past nine | 2026-12-02 09:30
WED | half past 9 | 2026-12-02 09:30
WED | at half past nine | 2026-12-02 09:30
WED | half past nine this morning | 2026-12-02 09:30
WED | yesterday at half past nine | 2026-12-01 09:30
WED | half nine | 2026-12-02 09:30
WED | quarter past ten | 2026-12-02 10:15
WED | quarter to eleven | 2026-12-02 10:45
WED | quarter to three | 2026-12-01 14:45
WED | twenty past two | 2026-12-02 14:20
WED | ten to nine | 2026-12-02 08:50
WED | five past nine | 2026-12-02 09:05
WED | twenty-five past eleven | 2026-12-02 11:25
WED | twenty five to twelve | 2026-12-02 11:35
WED | 25 past 10 | 2026-12-02 10:25
WED | 10 to 4 | 2026-12-01 15:50
WED | 9.30pm | 2026-12-01 21:30
WED | yesterday 9.30pm | 2026-12-01 21:30
WED | last night at 9.30 | 2026-12-01 21:30
WED | last night at 9.30pm | 2026-12-01 21:30
WED | last night 11pm | 2026-12-01 23:00
WED | last night at 2am | 2026-12-02 02:00
WED | last night about half past eleven | 2026-12-01 23:30
WED | at 3 | 2026-12-01 15:00
WED | today at 3 | 2026-12-02 15:00
WED | at 3pm | 2026-12-01 15:00
WED | at 2 | 2026-12-02 14:00
WED | at 2pm | 2026-12-02 14:00
WED | 2pm | 2026-12-02 14:00
WED | at 10 | 2026-12-02 10:00
WED | at 10am | 2026-12-02 10:00
WED | 10am | 2026-12-02 10:00
WED | at 12 | 2026-12-02 12:00
WED | 12pm | 2026-12-02 12:00
WED | 12am | 2026-12-02 00:00
WED | at 7 | 2026-12-02 07:00
WED | at 6 | 2026-12-01 18:00
WED | at 3 o'clock | 2026-12-01 15:00
WED | 3 o'clock yesterday | 2026-12-01 15:00
WED | yesterday 3 | 2026-12-01 15:00
WED | yesterday at 3 | 2026-12-01 15:00
WED | yesterday 15:00 | 2026-12-01 15:00
WED | 14:00 | 2026-12-02 14:00
WED | 14.00 | 2026-12-02 14:00
WED | 08:45 | 2026-12-02 08:45
WED | 8:45 | 2026-12-02 08:45
WED | 9.05 | 2026-12-02 09:05
WED | 09.05 | 2026-12-02 09:05
WED | 12.30 | 2026-12-02 12:30
WED | 12:30pm | 2026-12-02 12:30
WED | 12.30am | 2026-12-02 00:30
WED | 00:30 | 2026-12-02 00:30
WED | 23:59 | 2026-12-01 23:59
WED | yesterday 23:59 | 2026-12-01 23:59
WED | 1.30pm today | 2026-12-02 13:30
WED | today 1.30pm | 2026-12-02 13:30
WED | today at 13:30 | 2026-12-02 13:30
WED | today 9 | 2026-12-02 09:00
WED | noon | 2026-12-02 12:00
WED | midday | 2026-12-02 12:00
WED | 12 noon | 2026-12-02 12:00
WED | midday yesterday | 2026-12-01 12:00
WED | yesterday at noon | 2026-12-01 12:00
WED | midnight | 2026-12-02 00:00
WED | midnight last night | 2026-12-02 00:00
WED | last night at midnight | 2026-12-02 00:00
WED | at midnight | 2026-12-02 00:00
WED | this afternoon at 2 | 2026-12-02 14:00
WED | this afternoon at 2.15 | 2026-12-02 14:15
WED | this afternoon 1.45 | 2026-12-02 13:45
WED | this afternoon about 3 | 2026-12-02 15:00
WED | this evening at 6 | 2026-12-02 18:00
WED | tonight at 7 | 2026-12-02 19:00
WED | yesterday afternoon at 3 | 2026-12-01 15:00
WED | yesterday afternoon about 2.30 | 2026-12-01 14:30
WED | yesterday morning 9am | 2026-12-01 09:00
WED | yesterday morning at 11 | 2026-12-01 11:00
WED | yesterday evening at 7 | 2026-12-01 19:00
WED | yesterday evening 7.30 | 2026-12-01 19:30
WED | monday 9am | 2026-11-30 09:00
WED | monday at 9 | 2026-11-30 09:00
WED | on monday at 9:00 | 2026-11-30 09:00
WED | Monday morning at 8.50 | 2026-11-30 08:50
WED | monday afternoon at 3.15 | 2026-11-30 15:15
WED | last monday 9am | 2026-11-30 09:00
WED | tuesday 4.30pm | 2026-12-01 16:30
WED | tues 4.30pm | 2026-12-01 16:30
WED | weds 9.15 | 2026-12-02 09:15
WED | wednesday 9am | 2026-12-02 09:00
WED | thurs 10am | 2026-11-26 10:00
WED | thursday at 10 | 2026-11-26 10:00
WED | friday 3pm | 2026-11-27 15:00
WED | last friday 3pm | 2026-11-27 15:00
WED | friday afternoon at 2 | 2026-11-27 14:00
WED | saturday 11am | 2026-11-28 11:00
WED | sunday at 10 | 2026-11-29 10:00
WED | the day before yesterday at 9 | 2026-11-30 09:00
WED | day before yesterday 9am | 2026-11-30 09:00
WED | 2 days ago at 10am | 2026-11-30 10:00
WED | 3 days ago | 2026-11-29 00:00
WED | about 3 days ago | 2026-11-29 00:00
WED | yesterday around 3 | 2026-12-01 15:00
WED | yesterday | 2026-12-01 00:00
WED | today | 2026-12-02 00:00
WED | tuesday | 2026-12-01 00:00
WED | friday | 2026-11-27 00:00
WED | last friday | 2026-11-27 00:00
WED | 03/04/2026 | 2026-04-03 00:00
WED | 03/04/2026 14:30 | 2026-04-03 14:30
WED | 02/12/2026 08:45 | 2026-12-02 08:45
WED | 02/12/2026 8.45 | 2026-12-02 08:45
WED | 02/12/26 08:45 | 2026-12-02 08:45
WED | 2/12/2026 8:45am | 2026-12-02 08:45
WED | 02.12.2026 10.15 | 2026-12-02 10:15
WED | 02/12 8.45 | 2026-12-02 08:45
WED | 1/12 at 4.30pm | 2026-12-01 16:30
WED | 30/11/2026 | 2026-11-30 00:00
WED | the 1st | 2026-12-01 00:00
WED | 5th at 9am | 2026-11-05 09:00
WED | 31st | 2026-10-31 00:00
WED | 0845 | 2026-12-02 08:45
WED | 1430hrs | 2026-12-02 14:30
WED | 8:45:30 | 2026-12-02 08:45
WED | 9 o clock | 2026-12-02 09:00
WED | 9 in the morning | 2026-12-02 09:00
WED | yesterday 3 in the afternoon | 2026-12-01 15:00
WED | 11 at night | 2026-12-01 23:00
WED | around 9ish | 2026-12-02 09:00
WED | now | 2026-12-02 14:30
WED | just now | 2026-12-02 14:30
WED | 03/04/2022 10:00 | 2022-04-03 10:00
WED | 12/11 | 2026-11-12 00:00
WED | 25/12/2025 14:00 | 2025-12-25 14:00
WED | 2 dec 8.45 | 2026-12-02 08:45
WED | 2 december 08:45 | 2026-12-02 08:45
WED | 2nd December at 8.45am | 2026-12-02 08:45
WED | Wed 2 Dec 08:45 | 2026-12-02 08:45
WED | wednesday 2nd december 2026 at 8.45 | 2026-12-02 08:45
WED | 1 dec 16:30 | 2026-12-01 16:30
WED | 1st december 4.30pm | 2026-12-01 16:30
WED | tue 1 dec 4.30pm | 2026-12-01 16:30
WED | 28 nov 10am | 2026-11-28 10:00
WED | 1 july 2026 9am | 2026-07-01 09:00
WED | 15/07/2026 10:00 | 2026-07-15 10:00
WED | 24/10/2026 10:00 | 2026-10-24 10:00
WED | 31/10/2026 10:00 | 2026-10-31 10:00
WED | 20 minutes ago | 2026-12-02 14:10
WED | 20 mins ago | 2026-12-02 14:10
WED | about 20 minutes ago | 2026-12-02 14:10
WED | 5 minutes ago | 2026-12-02 14:25
WED | 2 hours ago | 2026-12-02 12:30
WED | an hour ago | 2026-12-02 13:30
WED | 1 hour ago | 2026-12-02 13:30
WED | half an hour ago | 2026-12-02 14:00
WED | 2 hrs ago | 2026-12-02 12:30
WED | 90 minutes ago | 2026-12-02 13:00
WED | around 2 hours ago | 2026-12-02 12:30
WED | today 9:15. | 2026-12-02 09:15
WED | yesterday at 3pm? | 2026-12-01 15:00
SUMMER | today 9:15 | 2026-07-01 09:15
SUMMER | today at 10.15 | 2026-07-01 10:15
SUMMER | yesterday 4.30pm | 2026-06-30 16:30
SUMMER | this morning about 8.45 | 2026-07-01 08:45
SUMMER | half past nine | 2026-07-01 09:30
SUMMER | at 3 | 2026-06-30 15:00
SUMMER | at 1 | 2026-07-01 13:00
SUMMER | 2 hours ago | 2026-07-01 11:00
SUMMER | last friday 3pm | 2026-06-26 15:00
SUMMER | monday 9am | 2026-06-29 09:00
SUMMER | 03/04/2026 | 2026-04-03 00:00
SUMMER | 25/12/2026 14:00 | 2026-12-25 14:00
SUMMER | midnight | 2026-07-01 00:00
SUMMER | yesterday | 2026-06-30 00:00
SUMMER | 1/7 8.45 | 2026-07-01 08:45
SUMMER | noon | 2026-07-01 12:00
AFTER_MIDNIGHT | yesterday 11pm | 2026-12-02 23:00
AFTER_MIDNIGHT | yesterday at 11.30pm | 2026-12-02 23:30
AFTER_MIDNIGHT | last night at 11pm | 2026-12-02 23:00
AFTER_MIDNIGHT | last night at 10 | 2026-12-02 22:00
AFTER_MIDNIGHT | 11.45pm | 2026-12-02 23:45
AFTER_MIDNIGHT | 23:45 | 2026-12-02 23:45
AFTER_MIDNIGHT | 00:10 | 2026-12-03 00:10
AFTER_MIDNIGHT | today 00:10 | 2026-12-03 00:10
AFTER_MIDNIGHT | 10 minutes ago | 2026-12-03 00:10
AFTER_MIDNIGHT | an hour ago | 2026-12-02 23:20
AFTER_MIDNIGHT | midnight | 2026-12-03 00:00
AFTER_MIDNIGHT | yesterday | 2026-12-02 00:00
AFTER_MIDNIGHT | today | 2026-12-03 00:00
AFTER_MIDNIGHT | yesterday 9am | 2026-12-02 09:00
AFTER_MIDNIGHT | 12.05am | 2026-12-03 00:05
AFTER_MIDNIGHT | at 9 | 2026-12-02 09:00
AFTER_MIDNIGHT | wednesday 3pm | 2026-12-02 15:00
AFTER_MIDNIGHT | tuesday 3pm | 2026-12-01 15:00
AFTER_MIDNIGHT | thursday 00:05 | 2026-12-03 00:05
AFTER_MIDNIGHT_BST | yesterday 9pm | 2026-07-31 21:00
AFTER_MIDNIGHT_BST | last night at 11 | 2026-07-31 23:00
AFTER_MIDNIGHT_BST | friday 9pm | 2026-07-31 21:00
AFTER_MIDNIGHT_BST | today 00:10 | 2026-08-01 00:10
AFTER_MIDNIGHT_BST | midnight | 2026-08-01 00:00
AFTER_MIDNIGHT_BST | yesterday | 2026-07-31 00:00
AFTER_MIDNIGHT_BST | 30 minutes ago | 2026-07-31 23:50
AFTER_MIDNIGHT_BST | 01/08/2026 00:05 | 2026-08-01 00:05
SPRING_NIGHT | today 00:30 | 2026-03-29 00:30
SPRING_NIGHT | today 02:30 | 2026-03-29 02:30
SPRING_NIGHT | 2 hours ago | 2026-03-29 00:00
SPRING_NIGHT | an hour ago | 2026-03-29 02:00
SPRING_NIGHT | today 03:00 | 2026-03-29 03:00
SPRING_NIGHT | yesterday 9am | 2026-03-28 09:00
SPRING_MONDAY | yesterday 00:30 | 2026-03-29 00:30
SPRING_MONDAY | yesterday 3am | 2026-03-29 03:00
SPRING_MONDAY | yesterday 9am | 2026-03-29 09:00
SPRING_MONDAY | saturday 9am | 2026-03-28 09:00
SPRING_MONDAY | friday 4pm | 2026-03-27 16:00
AUTUMN_MONDAY | yesterday 1.30am bst | 2026-10-25 00:30 Z
AUTUMN_MONDAY | yesterday 1.30am GMT | 2026-10-25 01:30 Z
AUTUMN_MONDAY | 25/10/2026 01:30 BST | 2026-10-25 00:30 Z
AUTUMN_MONDAY | yesterday 00:30 | 2026-10-25 00:30
AUTUMN_MONDAY | yesterday 2.30am | 2026-10-25 02:30
AUTUMN_MONDAY | yesterday 9am | 2026-10-25 09:00
AUTUMN_MONDAY | friday 9am | 2026-10-23 09:00
AUTUMN_MONDAY | saturday 11pm | 2026-10-24 23:00
AUTUMN_MONDAY | today 9am | 2026-10-26 09:00
AUTUMN_NIGHT | 3 hours ago | 2026-10-25 00:00 Z
AUTUMN_NIGHT | 2 hours ago | 2026-10-25 01:00 Z
AUTUMN_NIGHT | today 00:30 | 2026-10-25 00:30
WED_FUTURE | friday 10am | 2026-12-04 10:00
WED_FUTURE | monday at 9 | 2026-12-07 09:00
WED_FUTURE | at 3 | 2026-12-02 15:00
WED_FUTURE | 10am | 2026-12-03 10:00
WED_FUTURE | tomorrow 9.30 | 2026-12-03 09:30
WED_FUTURE | tomorrow | 2026-12-03 00:00
WED_FUTURE | 14/01/2027 09:00 | 2027-01-14 09:00
WED_FUTURE | next tuesday at 2 | 2026-12-08 14:00
WED_FUTURE | the 1st at 10am | 2027-01-01 10:00
WED_FUTURE | 5th | 2026-12-05 00:00
"""
ROWS = [tuple(part.strip() for part in line.split("|")) for line in TABLE.strip().splitlines()]

REFUSED = [
    "just before lunch", "at lunch", "lunchtime", "after school", "before school", "at break", "during assembly",
    "earlier", "earlier today", "this morning", "last night", "yesterday morning", "this afternoon", "sometime yesterday",
    "a few days ago", "last week", "the other day", "yesterday banana 3pm", "banana", "", "   ", "x" * 100,
    "31/02/2026", "13/13/2026", "25:00", "10.75", "today 3pm or 4pm", "between 2 and 3", "9am and 10am",
    "monday 2 dec", "yesterday at midnight", "today at midnight", "tonight at midnight", "this morning at 3pm",
    "this afternoon at 9am", "after 3", "around lunchtime", "home time", "10", "ten", "1430", "8 45", "2 dec 10",
    "2 dec in the morning", "8.45 or 9",
]


def test_the_table_is_big_enough() -> None:
    assert len(ROWS) >= 150 and len({(clock, typed) for clock, typed, _ in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("clock", "typed", "expected"), ROWS, ids=[f"{c}:{t}" for c, t, _ in ROWS])
def test_uk_phrasings(clock: str, typed: str, expected: str) -> None:
    prefer: Literal["past", "future"] = "future" if clock.endswith("_FUTURE") else "past"
    now = CLOCKS[clock.removesuffix("_FUTURE")]
    assert parse_uk_datetime(typed, now=now, prefer=prefer) == uk(expected)


@pytest.mark.parametrize("typed", REFUSED)
def test_what_cannot_be_read_fully_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(DateNotUnderstood) as error:
        parse_uk_datetime(typed, now=CLOCKS["WED"])
    assert "03/04/2026" in str(error.value)


@pytest.mark.parametrize(("clock", "typed", "why"), [
    ("SPRING_MONDAY", "yesterday 1.30am", "There was no 01:30 on Sun 29 Mar 2026: the clocks went forward"),
    ("SPRING_MONDAY", "29/03/2026 01:30", "There was no 01:30"),
    ("AUTUMN_MONDAY", "yesterday 01:30", "01:30 on Sun 25 Oct 2026 happened twice"),
    ("AUTUMN_MONDAY", "25/10/2026 1.30am", "Please add BST (the first) or GMT (the second)"),
    ("AUTUMN_MONDAY", "today 9am bst", "UK clocks were not on BST"),
    ("WED", "24/10/2026 10:00 gmt", "UK clocks were not on GMT"),
    ("WED", "monday 2 dec", "02/12/2026 is a Wednesday"),
    ("WED", "just before lunch", "I need the clock time"),
])
def test_clock_changes_and_contradictions_are_explained(clock: str, typed: str, why: str) -> None:
    with pytest.raises(DateNotUnderstood) as error:
        parse_uk_datetime(typed, now=CLOCKS[clock])
    assert why in str(error.value)


def test_shown_in_uk_time() -> None:
    assert format_uk(datetime(2026, 7, 1, 8, 15, tzinfo=UTC)) == "Wed 01 Jul 2026, 09:15"
