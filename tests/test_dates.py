"""The one UK date parser every dialog uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.dates import DateNotUnderstood, format_uk, parse_uk_datetime

WINTER = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # Wednesday, GMT
SUMMER = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # Wednesday, BST (UTC+1)


@pytest.mark.parametrize(
    ("typed", "now", "expected"),
    [
        ("03/04/2026", WINTER, datetime(2026, 4, 2, 23, 0, tzinfo=UTC)),  # 3 April, not 4 March; BST midnight
        ("03/04/2026 14:30", WINTER, datetime(2026, 4, 3, 13, 30, tzinfo=UTC)),
        ("12/11", WINTER, datetime(2026, 11, 12, 0, 0, tzinfo=UTC)),
        ("today 9:15", WINTER, datetime(2026, 11, 25, 9, 15, tzinfo=UTC)),
        ("today 9:15", SUMMER, datetime(2026, 7, 1, 8, 15, tzinfo=UTC)),
        ("yesterday at 3pm", WINTER, datetime(2026, 11, 24, 15, 0, tzinfo=UTC)),
        ("this morning", WINTER, datetime(2026, 11, 25, 9, 0, tzinfo=UTC)),
        ("last Friday", WINTER, datetime(2026, 11, 20, 0, 0, tzinfo=UTC)),
        ("2 hours ago", WINTER, datetime(2026, 11, 25, 12, 30, tzinfo=UTC)),
        ("25/12/2026 14:00", WINTER, datetime(2026, 12, 25, 14, 0, tzinfo=UTC)),
    ],
)
def test_uk_dates(typed: str, now: datetime, expected: datetime) -> None:
    assert parse_uk_datetime(typed, now=now) == expected


@pytest.mark.parametrize("typed", ["31/02/2026", "13/13/2026", "banana", "", "   ", "x" * 100])
def test_impossible_or_unreadable_dates_ask_again_with_an_example(typed: str) -> None:
    with pytest.raises(DateNotUnderstood) as error:
        parse_uk_datetime(typed, now=WINTER)
    assert "03/04/2026" in str(error.value)


def test_future_preference_for_bookings() -> None:
    assert parse_uk_datetime("friday 10am", now=WINTER, prefer="future") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_shown_in_uk_time() -> None:
    assert format_uk(datetime(2026, 7, 1, 8, 15, tzinfo=UTC)) == "Wed 01 Jul 2026, 09:15"
