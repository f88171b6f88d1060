"""The school calendar: England's typical dates, typed and uploaded term dates, and the reminders that wait for a school
day while the ICO's 72-hour clock does not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.runtime import Runtime
from services.breach.alerts import DEADLINE
from services.consent.removals import KIND_REMOVAL_DAILY
from services.errors import DomainError
from services.school.calendar import SchoolCalendar, Span
from services.school.calendar_dates import read_csv, read_ics, read_typed
from storage.calendar_models import DayKind, SchoolDates
from storage.reminder_models import Reminder, ReminderState
from tests.consent.test_consent_import import FileServer, files  # noqa: F401  (the fixture)
from tests.support.breach import file_report
from tests.support.consent import check_and_post, csv_message, import_sample, rows
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 12, 6)
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example Council//Term dates//EN\r
BEGIN:VEVENT\r
UID:1@example\r
SUMMARY:Spring half term\r
DTSTART;VALUE=DATE:20270222\r
DTEND;VALUE=DATE:20270227\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2@example\r
SUMMARY:INSET day\r
DTSTART;VALUE=DATE:20270104\r
DTEND;VALUE=DATE:20270105\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3@example\r
SUMMARY:Parents' evening\r
DTSTART:20270128T160000Z\r
DTEND:20270128T190000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_the_typical_english_year_closes_christmas_and_the_bank_holidays() -> None:
    calendar = SchoolCalendar()
    assert calendar.closed(date(2026, 12, 24)) == "Christmas holiday" and calendar.closed(date(2026, 12, 25)) is not None
    assert calendar.closed(date(2026, 12, 28)) == "Boxing Day (observed) (bank holiday)"
    assert calendar.closed(date(2026, 10, 28)) == "October half term" and calendar.closed(date(2027, 2, 16)) is not None
    assert calendar.closed(date(2027, 5, 31)) == "Spring Bank Holiday (bank holiday)"
    assert calendar.closed(date(2026, 12, 5)) == "Saturday" and calendar.closed(date(2026, 12, 7)) is None
    mornings = calendar.school_mornings(datetime(2026, 12, 18, 15, 0, tzinfo=UTC), 2)  # Fri: term ends
    assert mornings == [datetime(2027, 1, 4, 9, 0, tzinfo=UTC), datetime(2027, 1, 5, 9, 0, tzinfo=UTC)]
    assert SchoolCalendar(region="SCT").closed(date(2027, 1, 4)) == "New Year Holiday (observed) (bank holiday)"  # by nation


def test_school_mornings_skip_bank_holidays_and_follow_uk_time() -> None:
    own = (Span(DayKind.HOLIDAY, "Easter holiday", date(2027, 4, 5), date(2027, 4, 16)),)  # replaces the typical one
    mornings = SchoolCalendar(own).school_mornings(datetime(2027, 3, 25, 15, 0, tzinfo=UTC), 3)  # Thu; BST from 28 Mar
    assert mornings == [datetime(2027, 3, 30, 8, 0, tzinfo=UTC), datetime(2027, 3, 31, 8, 0, tzinfo=UTC),
                        datetime(2027, 4, 1, 8, 0, tzinfo=UTC)]  # not Good Friday 26/03 nor Easter Monday 29/03


def test_term_dates_make_the_gaps_holidays_and_inset_days_stay_school_days() -> None:
    terms = (Span(DayKind.TERM, "Spring term", date(2027, 1, 5), date(2027, 3, 26)),
             Span(DayKind.TERM, "Summer term", date(2027, 4, 12), date(2027, 7, 21)),
             Span(DayKind.INSET, "INSET", date(2027, 1, 4), date(2027, 1, 4)))
    calendar = SchoolCalendar(terms)
    assert calendar.closed(date(2027, 1, 4)) is None and calendar.closed(date(2027, 4, 6)) == "between terms"
    assert calendar.closed(date(2027, 2, 16)) is None  # the typical February half term is not this school's
    assert calendar.on_school_day(datetime(2027, 4, 6, 13, 0, tzinfo=UTC)) == datetime(2027, 4, 12, 13, 0, tzinfo=UTC)
    assert calendar.closed(date(2027, 7, 26)) == "Summer holiday"  # after the last term given: typical again
    shut = datetime(2027, 12, 24, 14, 0, tzinfo=UTC)  # a remove-by date in the (typical) Christmas holiday
    assert SchoolCalendar().on_school_day(shut) == datetime(2028, 1, 4, 14, 0, tzinfo=UTC)  # Mon 3rd: observed bank holiday


def test_typed_csv_and_ics_dates_are_read_fully_or_refused() -> None:
    typed = read_typed("half term 15/02/2027 to 19/02/2027; INSET 01/09/2027 Christmas holiday 21/12/2026 - 01/01/2027",
                       today=TODAY)
    assert [(s.kind, s.starts_on, s.ends_on) for s in typed.spans] == [
        (DayKind.HOLIDAY, date(2027, 2, 15), date(2027, 2, 19)), (DayKind.INSET, date(2027, 9, 1), date(2027, 9, 1)),
        (DayKind.HOLIDAY, date(2026, 12, 21), date(2027, 1, 1))]
    for bad, why in (("half term 19/02/2027 to 15/02/2027", "ends"), ("parents evening 15/02/2027", "term, a holiday"),
                     ("half term 15/02/2027 to 19/02", "couldn't read"), ("summer holiday 01/01/2027 to 31/12/2027", "too long"),
                     ("half term 31/02/2027", "as a date"), ("half term 15/02/2037", "too far")):
        with pytest.raises(DomainError, match=why):
            read_typed(bad, today=TODAY)
    csv = read_csv("Event,Start date,End date\nAutumn half term,26/10/2026,30/10/2026\nFlu jabs,03/11/2026,\n", today=TODAY)
    assert [s.label for s in csv.spans] == ["Autumn half term"] and csv.not_used == ("Row 3: Flu jabs",)
    with pytest.raises(DomainError, match="Row 2"):
        read_csv("Event,Start,End\nHalf term,26/10/26,30/10/2026\n", today=TODAY)
    ics = read_ics(ICS, today=TODAY)  # an all-day DTEND is the day after (RFC 5545)
    assert [(s.kind, s.starts_on, s.ends_on) for s in ics.spans] == [
        (DayKind.HOLIDAY, date(2027, 2, 22), date(2027, 2, 26)), (DayKind.INSET, date(2027, 1, 4), date(2027, 1, 4))]
    assert ics.not_used == ("Event 3: Parents' evening",)


async def test_dpo_types_and_uploads_term_dates_staff_only_see_them(
    teams: TeamsClient, runtime: Runtime, files: FileServer, dpo_a: TeamsUser, staff_a: TeamsUser,  # noqa: F811
) -> None:
    shown = texts(await teams.say(staff_a, "term dates"))
    assert "England's typical term dates" in shown and "Christmas holiday" in shown and "ICO's 72 hours include" in shown
    assert "To change them" not in shown
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "term dates half term 15/02/2027 to 19/02/2027"))
    saved = texts(await teams.say(dpo_a, "term dates half term 15/02/2027 to 19/02/2027"))
    assert "Term dates saved: 1 range" in saved and "half term (holiday)" in saved
    refused = texts(await teams.say(dpo_a, "term dates half term 19/02/2027 to 15/02/2027"))
    assert "ends (15/02/2027) before it starts" in refused
    upload = csv_message(teams, dpo_a, files.url("dates.ics", ICS), text="term dates", name="term-dates.ics", teams_file=True)
    uploaded = texts(await teams.send(upload))
    assert "Term dates saved: 2 ranges" in uploaded and "Not used (not a term, holiday or INSET day): Event 3" in uploaded
    stored = sorted((r.label, r.source) for r in await rows(runtime, SchoolDates))
    assert stored == [("INSET day", "upload"), ("Spring half term", "upload"), ("half term", "typed")]
    assert "your school's own dates" in texts(await teams.say(dpo_a, "term dates"))
    assert "Back to typical term dates" in texts(await teams.say(dpo_a, "term dates clear"))
    assert await rows(runtime, SchoolDates) == []


async def sweep_at(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser, local: datetime) -> list[Received]:
    """Set the clock to a UK time, run the reminder engine; what reached `user`."""
    runtime.deps.clock.set(local.replace(tzinfo=LONDON).astimezone(UTC))  # type: ignore[attr-defined]
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


async def test_removal_nags_skip_a_bank_holiday_and_half_term_while_the_ico_clock_runs_on(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    runtime.deps.clock.set(datetime(2027, 5, 28, 10, 0, tzinfo=UTC))  # type: ignore[attr-defined]  # Fri 11:00 BST
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones")
    assert "Term dates saved" in texts(await teams.say(dpo_a, "term dates half term 07/06/2027 to 11/06/2027"))
    assert "Removal #1" in texts(await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media"))
    daily = sorted(r.due_at.astimezone(LONDON) for r in await rows(runtime, Reminder)
                   if r.kind == KIND_REMOVAL_DAILY and r.recipient_aad_id == staff_a.aad_id)
    # Not Mon 31/05 (Spring bank holiday) nor 07-11/06 (the school's half term); 09:00 each school morning.
    assert [d.date() for d in daily[:5]] == [date(2027, 6, d) for d in (1, 2, 3, 4, 14)] and daily[0].hour == 9
    await file_report(teams, staff_a)  # aware Fri 28/05 11:00 BST: the 71-hour reminder is due Mon 31/05 10:00
    await sweep_at(runtime, channel, dpo_a, datetime(2027, 5, 28, 11, 5))  # the alert and the first removal notice
    assert "Term dates saved" in texts(await teams.say(dpo_a, "term dates school closed 02/06/2027"))  # after scheduling

    bank_holiday = await sweep_at(runtime, channel, dpo_a, datetime(2027, 5, 31, 10, 0, 30))
    [last_hour] = [r for r in await rows(runtime, Reminder) if r.kind == DEADLINE and r.payload.get("hours") == 71]
    assert last_hour.state == ReminderState.SENT and bank_holiday and "Please take down" not in texts(bank_holiday)
    assert await sweep_at(runtime, channel, staff_a, datetime(2027, 6, 1, 9, 0, 30)) != []  # Tue: a school day
    assert await sweep_at(runtime, channel, staff_a, datetime(2027, 6, 2, 9, 0, 30)) == []  # closed: held
    thursday = await sweep_at(runtime, channel, staff_a, datetime(2027, 6, 3, 9, 0, 30))
    assert len(thursday) == 1 and "Please take down post #1" in texts(thursday)  # Wednesday's and Thursday's as one
    assert len(await sweep_at(runtime, channel, staff_a, datetime(2027, 6, 4, 9, 0, 30))) == 1
    for day in range(7, 12):
        assert await sweep_at(runtime, channel, staff_a, datetime(2027, 6, day, 9, 0, 30)) == [], day
    assert len(await sweep_at(runtime, channel, staff_a, datetime(2027, 6, 14, 9, 0, 30))) == 1
    held = [r for r in await rows(runtime, Reminder) if r.last_error and r.last_error.startswith("superseded")]
    assert [r.due_at.astimezone(LONDON).date() for r in held if r.recipient_aad_id == staff_a.aad_id] == [date(2027, 6, 2)]
