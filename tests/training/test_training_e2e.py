"""Training booking end to end: Teams activities over HTTP, the fake Teams channel, a settable clock."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from storage.training_models import BookingStatus
from tests.conftest import SCHOOL_A
from tests.support.training import (
    JOIN_URL,
    ORGANISER,
    assert_valid_card,
    book_via_chat,
    bookings_of,
    calendars,
    session_by_key,
    session_titled,
    training_settings,
)
from tests.teams.client import FILE_CONSENT, TeamsClient, TeamsUser, attachments_of, texts
from tests.teams.fake_channel import FakeTeamsChannel

COLLEAGUE_A = TeamsUser("Adele Vance", "7a7a7a7a-0000-4000-8000-0000000000a3", SCHOOL_A)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


def sent_since(channel: FakeTeamsChannel, user: TeamsUser, before: int) -> str:
    """Everything sent to `user` after the first `before` messages, as text."""
    return texts(channel.to(user.conversation_id)[before:])


async def test_list_book_and_get_the_invite(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "book training")
    (catalogue,) = [card for reply in replies for card in reply.cards]
    assert_valid_card(catalogue)
    shown = json.dumps(catalogue)
    assert "AI for senior leaders (online)" in shown and "3 of 3 left" in shown
    assert "Past session" not in shown and "Closed session" not in shown  # past / booking closed: not offered
    online = await session_by_key(runtime, "online")

    await teams.press(staff_a, {"cmd": "training.book", "session_id": online.id})
    role = await teams.press(staff_a, {"role": "dinner lady"})
    assert "Please choose your role" in texts(role)
    confirm = await teams.press(staff_a, {"role": "senior_leader"})
    assert "Book my seat" in texts(confirm) and "Senior leader" in texts(confirm)
    replies = await teams.press(staff_a, {"confirm": "yes"})
    assert "You're booked" in texts(replies)

    (invite,) = await calendars(teams, staff_a, replies)
    (event,) = invite.walk("VEVENT")
    (row,) = await bookings_of(runtime, online.id or 0)
    assert invite["METHOD"] == "REQUEST" and str(event["UID"]) == row.ical_uid
    assert event.decoded("DTSTART") == online.starts_at and str(event["SUMMARY"]) == online.title
    assert str(event["URL"]) == JOIN_URL
    assert (row.tenant_id, row.aad_id, row.name, row.role, row.status) == (
        SCHOOL_A, staff_a.aad_id, "Megan Bowen", "senior_leader", BookingStatus.BOOKED,
    )

    again = await teams.press(staff_a, {"cmd": "training.book", "session_id": online.id})
    assert "already have a seat" in texts(again)
    assert len(await bookings_of(runtime, online.id or 0)) == 1
    mine = await teams.say(staff_a, "my bookings")
    assert "AI for senior leaders (online)" in texts(mine) and "training.cancel" in texts(mine)


async def test_in_person_invite_names_the_venue(teams: TeamsClient, runtime: Runtime, staff_b: TeamsUser) -> None:
    await teams.say(staff_b, "book training")
    venue = await session_by_key(runtime, "venue")
    (invite,) = await calendars(teams, staff_b, await book_via_chat(teams, staff_b, venue.id or 0, role="governor"))
    (event,) = invite.walk("VEVENT")
    assert str(event["LOCATION"]) == "The Quad, Chesterfield" and "URL" not in event
    assert event.decoded("DTSTART") == venue.starts_at


async def test_past_and_closed_sessions_cannot_be_booked_by_replaying_a_button(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "book training")
    for key, why in (("past", "already taken place"), ("closed", "closed on")):
        replies = await teams.press(staff_a, {"cmd": "training.book", "session_id": (await session_by_key(runtime, key)).id})
        assert why in texts(replies)
    assert "can't find" in texts(await teams.press(staff_a, {"cmd": "training.book", "session_id": 99999}))


async def test_waiting_list_and_promotion_when_someone_cancels(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, staff_b: TeamsUser
) -> None:
    await teams.say(staff_a, "book training")
    tiny = await session_by_key(runtime, "tiny")
    await book_via_chat(teams, staff_a, tiny.id or 0)

    await teams.press(staff_b, {"cmd": "training.book", "session_id": tiny.id})
    confirm = await teams.press(staff_b, {"role": "other"})
    assert "This session is full" in texts(confirm) and "number 1" in texts(confirm)
    waiting = await teams.press(staff_b, {"confirm": "yes"})
    assert "waiting list \u2014 number 1" in texts(waiting) and not await calendars(teams, staff_b, waiting)

    await teams.say(staff_a, "cancel booking")  # only one booking: straight to "are you sure?"
    replies = await teams.say(staff_a, "yes")
    assert "Booking cancelled" in texts(replies)
    (removal,) = await calendars(teams, staff_a, replies)
    assert removal["METHOD"] == "CANCEL"

    before = len(channel.to(staff_b.conversation_id))
    await runtime.sweep_reminders()
    told = sent_since(channel, staff_b, before)
    assert "Good news: you have a seat" in told and "You have a seat on a training session" in told
    (a_row, b_row) = await bookings_of(runtime, tiny.id or 0)
    assert (a_row.status, b_row.status) == (BookingStatus.CANCELLED, BookingStatus.BOOKED)
    (invite,) = await calendars(teams, staff_b, await teams.press(staff_b, {"cmd": "training.ics", "booking_id": b_row.id}))
    (event,) = invite.walk("VEVENT")
    assert invite["METHOD"] == "REQUEST" and str(event["UID"]) == b_row.ical_uid
    assert (await runtime.sweep_reminders()).sent == 0  # told once


async def test_another_school_cannot_see_or_cancel_a_booking_by_replaying_its_button(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, staff_b: TeamsUser
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, online.id or 0)
    (booking,) = await bookings_of(runtime, online.id or 0)
    for intruder in (staff_b, COLLEAGUE_A):
        for cmd in ("training.cancel", "training.ics"):
            replies = await teams.press(intruder, {"cmd": cmd, "booking_id": booking.id})
            assert "can't find that booking among yours" in texts(replies)
            assert not await calendars(teams, intruder, replies) and "AI for senior leaders" not in texts(replies)
        assert "Booking cancelled" not in texts(await teams.say(intruder, "yes"))
        assert "no upcoming training bookings" in texts(await teams.say(intruder, "my bookings"))
        replies = await teams.press(intruder, {"cmd": "training.attendees", "session_id": online.id})
        assert "only training organisers" in texts(replies) and "Megan" not in texts(replies)
    (still,) = await bookings_of(runtime, online.id or 0)
    assert still.status == BookingStatus.BOOKED


async def test_reminders_before_the_session_and_for_organisers(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(ORGANISER, "help")  # organisers are seeded from ORGANISER_AAD_IDS on their first message
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, online.id or 0)
    start = online.starts_at  # Wed 9 Dec 2026, 15:30 UK

    assert online.booking_closes_at == start - timedelta(days=1)  # closing and the 1-day reminder go together
    steps = [
        (start - timedelta(days=7), 1, "Training is on Wed 09 Dec 2026, 15:30"),
        (start - timedelta(days=1), 2, "Training is tomorrow at 15:30"),
        (start - timedelta(hours=1), 1, "Training starts in 60 minutes"),
    ]
    for due, count, expected in steps:
        clock.set(due - timedelta(minutes=1))
        assert (await runtime.sweep_reminders()).sent == 0
        before = len(channel.to(staff_a.conversation_id))
        clock.set(due)
        assert (await runtime.sweep_reminders()).sent == count
        told = sent_since(channel, staff_a, before)
        assert expected in told
    assert JOIN_URL in told and "Join on Teams" in told
    closing = texts(channel.to(ORGANISER.conversation_id))
    assert "Booking has closed" in closing and "Megan Bowen" in closing and "school aaaaaaaa" in closing
    assert "Head teacher" in closing


async def test_the_one_hour_reminder_arrives_before_an_early_start(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(ORGANISER, "add session")
    await teams.press(ORGANISER, {
        "form": "training.session", "title": "Breakfast briefing", "start": "10/12/2026 08:30", "end": "09:15",
        "format": "online", "join_url": JOIN_URL, "capacity": "10", "organiser_email": "training@example.org",
    })
    assert "Breakfast briefing" in texts(await teams.say(staff_a, "book training"))
    await book_via_chat(teams, staff_a, (await session_titled(runtime, "Breakfast briefing")).id or 0)
    before = len(channel.to(staff_a.conversation_id))
    clock.set(clock().replace(year=2026, month=12, day=10, hour=7, minute=30))  # 07:30 UK: quiet hours, urgent kind
    await runtime.sweep_reminders()
    assert "Training starts in 60 minutes" in sent_since(channel, staff_a, before)


async def test_staff_cannot_use_organiser_commands(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    for said in ("add session", "edit session 1", "cancel session 1", "attendees 1"):
        assert "only training organisers" in texts(await teams.say(staff_a, said))
    for cmd in ("training.edit", "training.cancel_session", "training.attendees"):
        assert "only training organisers" in texts(await teams.press(staff_a, {"cmd": cmd, "session_id": 1}))
    assert "Which session?" in texts(await teams.say(ORGANISER, "edit session"))  # organisers may
    past = await session_by_key(runtime, "past")
    for said in (f"edit session {past.id}", f"cancel session {past.id}"):
        assert "can't be changed" in texts(await teams.say(ORGANISER, said))


async def test_organiser_adds_edits_lists_and_cancels_a_session(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, staff_b: TeamsUser
) -> None:
    form = await teams.say(ORGANISER, "add session")
    assert_valid_card(form[0].cards[0])
    fields = {"form": "training.session", "title": "DPIAs for AI tools", "description": "Bring a tool you use.",
              "start": "13/01/2027 15:30", "end": "17:00", "format": "online", "join_url": JOIN_URL, "capacity": "0",
              "closes": "", "organiser_name": "Clare Wilson", "organiser_email": "training@example.org"}
    retry = await teams.press(ORGANISER, fields)
    assert "whole number of seats" in texts(retry) and "DPIAs for AI tools" in texts(retry)  # typed values kept
    added = await teams.press(ORGANISER, {**fields, "capacity": "12"})
    assert "Session added" in texts(added) and "12 of 12 left" in texts(added)
    session_id = (await session_titled(runtime, "DPIAs for AI tools")).id or 0

    await teams.say(staff_a, "book training")
    await book_via_chat(teams, staff_a, session_id)
    await book_via_chat(teams, staff_b, session_id, role="governor")
    listing = texts(await teams.say(ORGANISER, f"attendees {session_id}"))
    assert "Megan Bowen" in listing and "Ben Carter" in listing and "Governor" in listing and "2 of 12" in listing

    edit_form = await teams.say(ORGANISER, f"edit session #{session_id}")
    assert "13/01/2027 15:30" in texts(edit_form)
    saved = await teams.press(ORGANISER, {**fields, "capacity": "12", "start": "20/01/2027 15:30"})
    assert "Session saved" in texts(saved) and "Wed 20 Jan 2027, 15:30" in texts(saved)
    before_a = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    assert "has changed" in sent_since(channel, staff_a, before_a)

    await teams.say(ORGANISER, f"edit session {session_id}")
    assert "can't go below 2" in texts(await teams.press(ORGANISER, {**fields, "capacity": "1", "start": "20/01/2027 15:30"}))

    await teams.say(ORGANISER, f"cancel session {session_id}")
    done = await teams.say(ORGANISER, "yes")
    assert "is cancelled" in texts(done) and "2 people" in texts(done)
    before_a, before_b = len(channel.to(staff_a.conversation_id)), len(channel.to(staff_b.conversation_id))
    await runtime.sweep_reminders()
    for user, before in ((staff_a, before_a), (staff_b, before_b)):
        assert "Training cancelled" in sent_since(channel, user, before)
    (booking_a, _) = await bookings_of(runtime, session_id)
    (removal,) = await calendars(teams, staff_a, await teams.press(staff_a, {"cmd": "training.ics", "booking_id": booking_a.id}))
    (event,) = removal.walk("VEVENT")
    assert removal["METHOD"] == "CANCEL" and str(event["UID"]) == booking_a.ical_uid and event.decoded("SEQUENCE") == 2
    assert "DPIAs for AI tools" not in texts(await teams.say(staff_a, "book training"))


async def test_status_shows_bookings_to_staff_and_seats_to_organisers(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, online.id or 0)
    mine = texts(await teams.say(staff_a, "status"))
    assert "AI for senior leaders (online)" in mine and "booked" in mine and "seats left" not in mine
    theirs = texts(await teams.say(ORGANISER, "status"))
    assert f"#{online.id} AI for senior leaders (online)" in theirs and "2 seats left, 0 waiting" in theirs


async def test_last_seats_raced_over_http(teams: TeamsClient, runtime: Runtime) -> None:
    people = [TeamsUser(f"Racer {n}", f"5e5e5e5e-0000-4000-8000-{n:012d}", SCHOOL_A) for n in range(8)]
    await teams.say(people[0], "book training")
    online = await session_by_key(runtime, "online")
    for person in people:
        await teams.press(person, {"cmd": "training.book", "session_id": online.id})
        await teams.press(person, {"role": "other"})
    answers = await asyncio.gather(*(teams.press(person, {"confirm": "yes"}) for person in people))
    rows = await bookings_of(runtime, online.id or 0)
    assert [r.status for r in rows].count(BookingStatus.BOOKED) == 3
    assert [r.status for r in rows].count(BookingStatus.WAITING) == 5
    assert sum(bool(attachments_of(a, FILE_CONSENT)) for a in answers) == 3
    assert sum("The last seat went just before you" in texts(a) for a in answers) == 5


async def test_logs_carry_ids_not_names(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await teams.say(staff_a, "book training")
    await book_via_chat(teams, staff_a, (await session_by_key(runtime, "online")).id or 0)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "training booking" in logged
    assert "Megan" not in logged and "senior leaders" not in logged


async def test_a_broken_seed_file_is_logged_not_fatal(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                      tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    runtime.settings.training_seed_file = str(broken)
    assert "no sessions open for booking" in texts(await teams.say(staff_a, "book training"))
    assert any("training seed file not loaded" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
