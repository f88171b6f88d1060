"""Files through Teams' file-consent flow, against the fake channel: Allow uploads the held bytes, Decline and
expiry forget them, and a file Teams won't take never undoes (or hides) the work already saved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from storage.file_models import HeldFile
from storage.models import AuditEvent
from storage.training_models import BookingStatus
from tests.conftest import SCHOOL_A
from tests.support.breach import file_report
from tests.support.training import JOIN_URL, book_via_chat, bookings_of, calendars, session_by_key, training_settings
from tests.teams.client import FILE_CONSENT, FILE_INFO, TeamsClient, TeamsUser, attachments_of, texts
from tests.teams.fake_channel import FakeTeamsChannel

SORRY = "something went wrong"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


async def held(runtime: Runtime) -> int:
    async with runtime.deps.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(HeldFile))).scalar_one())


async def exports_audited(runtime: Runtime) -> int:
    async with runtime.deps.sessions() as session:
        found = await session.execute(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.tenant_id) == SCHOOL_A, col(AuditEvent.action) == "breach.log_exported"))
        return int(found.scalar_one())


async def test_allow_uploads_the_held_csv_then_forgets_it_and_audits_the_export(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    offer = await teams.say(dpo_a, "export breaches")
    [consent] = attachments_of(offer, FILE_CONSENT)
    assert consent["name"].startswith("breach-log-") and consent["name"].endswith(".csv")
    card = consent["content"]
    assert card["acceptContext"] == card["declineContext"] and set(card["acceptContext"]) == {"file"}
    assert "BR-2026-0001" not in str(consent)  # the bytes stay on the server, never in the card
    assert await held(runtime) == 1 and await exports_audited(runtime) == 0

    [(name, content)] = await teams.files(dpo_a, offer)
    assert name == consent["name"] and len(content) == card["sizeInBytes"]
    assert b"BR-2026-0001" in content
    assert await held(runtime) == 0 and await exports_audited(runtime) == 1

    again = await teams.allow(dpo_a, consent)  # the same card pressed again: the file is gone
    assert "expired" in texts(again) and not attachments_of(again, FILE_INFO)


async def test_decline_says_so_and_keeps_nothing(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, dpo_a: TeamsUser,
) -> None:
    [consent] = attachments_of(await teams.say(dpo_a, "export breaches"), FILE_CONSENT)
    replies = await teams.decline(dpo_a, consent)
    assert "haven't sent breach-log-" in texts(replies) and "haven't kept it" in texts(replies)
    assert await held(runtime) == 0 and await exports_audited(runtime) == 0 and not channel.uploads


async def test_a_consent_pressed_after_a_day_gets_that_file_has_expired(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    [consent] = attachments_of(await teams.say(dpo_a, "export breaches"), FILE_CONSENT)
    clock.advance(timedelta(hours=24, minutes=1))
    replies = await teams.allow(dpo_a, consent)
    assert "That file has expired" in texts(replies) and SORRY not in texts(replies).lower()
    assert not channel.uploads and await held(runtime) == 0 and await exports_audited(runtime) == 0


async def test_expired_files_nobody_collected_are_purged_by_retention(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "export breaches")
    await runtime.apply_retention(clock() + timedelta(hours=23))
    assert await held(runtime) == 1
    removed = await runtime.apply_retention(clock() + timedelta(hours=25))
    assert removed["expired_files"] == 1 and await held(runtime) == 0


async def test_someone_else_cannot_collect_my_file(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, dpo_a: TeamsUser, staff_a: TeamsUser,
) -> None:
    [consent] = attachments_of(await teams.say(dpo_a, "export breaches"), FILE_CONSENT)
    replies = await teams.allow(staff_a, consent)
    assert "expired" in texts(replies) and not channel.uploads and await held(runtime) == 1


async def test_a_failed_upload_is_said_and_the_file_kept_for_another_try(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, dpo_a: TeamsUser,
) -> None:
    offer = await teams.say(dpo_a, "export breaches")
    [consent] = attachments_of(offer, FILE_CONSENT)
    channel.upload_status = 500
    replies = await teams.allow(dpo_a, consent)
    assert "couldn't put breach-log-" in texts(replies) and not attachments_of(replies, FILE_INFO)
    assert await held(runtime) == 1 and await exports_audited(runtime) == 0
    channel.upload_status = None
    assert [name for name, _ in await teams.files(dpo_a, offer)] == [consent["name"]]


async def test_booking_survives_a_channel_that_answers_202_with_no_body(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    channel.empty_answers = True  # as the Agents Playground answers an attachment it cannot show
    replies = await book_via_chat(teams, staff_a, online.id or 0)
    assert "You're booked" in texts(replies) and SORRY not in texts(replies).lower()
    assert attachments_of(replies, FILE_CONSENT)
    channel.empty_answers = False
    (invite,) = await calendars(teams, staff_a, replies)
    assert invite["METHOD"] == "REQUEST"


@pytest.mark.parametrize("code", [None, "ServiceError"])
async def test_an_invite_teams_refuses_never_unbooks_the_seat_and_is_offered_again(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, code: str | None,
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    channel.fail_next(502, content_type=FILE_CONSENT, code=code)  # with and without an error body
    replies = await book_via_chat(teams, staff_a, online.id or 0)
    said = texts(replies)
    assert said.index("You're booked") < said.index("couldn't be sent")
    assert "Your seat is booked. Ask for the calendar file again with **my bookings**." in said
    assert SORRY not in said.lower() and not attachments_of(replies, FILE_CONSENT)
    assert [b.status for b in await bookings_of(runtime, online.id or 0)] == [BookingStatus.BOOKED]
    assert await held(runtime) == 0

    booked = [card for reply in replies for card in reply.cards if "You're booked" in str(card)]
    assert JOIN_URL in str(booked) and "(UK time)" in str(booked)  # act without the file: when, and the link

    (row,) = await bookings_of(runtime, online.id or 0)
    (invite,) = await calendars(teams, staff_a, await teams.press(staff_a, {"cmd": "training.ics", "booking_id": row.id}))
    assert invite["METHOD"] == "REQUEST"
