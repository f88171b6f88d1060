"""Training organisers are the hub's (issue 16, item 1): who may appoint them, whose bookings they see, what an edited
session may link to, and what bookers are told when it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from services.training.catalogue import form_values
from tests.conftest import SCHOOL_A
from tests.dpo.test_roles import active
from tests.support.training import HUB, JOIN_URL, ORGANISER, book_via_chat, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel

HUB_DPO = TeamsUser("Harriet Hub", "d0d0d0d0-0000-4000-8000-0000000000c2", HUB)
HUB_COLLEAGUE = TeamsUser("Colin Hub", "0c0c0c0c-0000-4000-8000-0000000000c3", HUB)
SCHOOL_ORGANISER = TeamsUser("Adele Vance", "7a7a7a7a-0000-4000-8000-0000000000a3", SCHOOL_A)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Harriet is the hub's DPO; Adele (school A) was made an organiser by the hub in her own school's tenant."""
    base = training_settings(settings, tmp_path)
    return base.model_copy(update={
        "dpo_aad_ids": [*base.dpo_aad_ids, f"{HUB}:{HUB_DPO.aad_id}"],
        "organiser_aad_ids": [*base.organiser_aad_ids, f"{SCHOOL_A}:{SCHOOL_ORGANISER.aad_id}"],
    })


async def test_only_the_hubs_dpos_appoint_organisers(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "hello")
    refused = texts(await teams.say(dpo_a, "make Megan Bowen an organiser"))
    assert "appointed by the data hub" in refused
    assert (staff_a.aad_id, "organiser") not in await active(runtime, SCHOOL_A)
    assert "is now a DPO" in texts(await teams.say(dpo_a, "make Megan Bowen a DPO"))  # school roles stay the school's
    await teams.say(HUB_COLLEAGUE, "hello")
    assert "Colin Hub** is now a training organiser" in texts(await teams.say(HUB_DPO, "make Colin Hub an organiser"))
    assert (HUB_COLLEAGUE.aad_id, "organiser") in await active(runtime, HUB)


async def test_an_organiser_in_a_school_sees_only_that_schools_attendees(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    staff_b: TeamsUser,
) -> None:
    for organiser in (ORGANISER, SCHOOL_ORGANISER):
        await teams.say(organiser, "hello")  # seeded organisers: told when booking closes
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, online.id or 0)
    await book_via_chat(teams, staff_b, online.id or 0)
    school = texts(await teams.say(SCHOOL_ORGANISER, f"attendees {online.id}"))
    assert "Megan Bowen" in school and "Ben Carter" not in school
    school = texts(await teams.press(SCHOOL_ORGANISER, {"cmd": "training.attendees", "session_id": online.id}))
    assert "Megan Bowen" in school and "Ben Carter" not in school
    hub = texts(await teams.say(ORGANISER, f"attendees {online.id}"))
    assert "Megan Bowen" in hub and "Ben Carter" in hub
    clock.set(online.booking_closes_at)
    await runtime.sweep_reminders()
    school = texts(channel.to(SCHOOL_ORGANISER.conversation_id))
    assert "Booking has closed" in school and school.count("Ben Carter") == 0
    assert "Ben Carter" in texts(channel.to(ORGANISER.conversation_id))


@pytest.mark.parametrize("link", [
    "http://teams.microsoft.com/l/meetup-join/1", "https://teams.microsoft.com.evil.example/l/meetup-join/1",
    "https://teams.microsoft.com@evil.example/l/meetup-join/1", "https://evil.example/teams.microsoft.com",
    "https://teams.microsoft.com:8443/l/meetup-join/1", "javascript:alert(1)",
])
async def test_an_edited_join_link_must_be_a_teams_meeting(teams: TeamsClient, runtime: Runtime, link: str) -> None:
    await teams.say(ORGANISER, "book training")  # the catalogue is loaded on first use
    online = await session_by_key(runtime, "online")
    await teams.say(ORGANISER, f"edit session {online.id}")
    refused = await teams.press(ORGANISER, {**form_values(online), "form": "training.session", "join_url": link})
    assert "https://teams.microsoft.com/" in texts(refused) and "Session saved" not in texts(refused)
    assert (await session_by_key(runtime, "online")).join_url == JOIN_URL


async def test_bookers_are_told_which_fields_changed(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, online.id or 0)
    await teams.say(ORGANISER, f"edit session {online.id}")
    new_link = JOIN_URL.replace("meeting_test", "meeting_moved")
    edited = {**form_values(online), "form": "training.session", "title": "AI for heads", "join_url": new_link}
    saved = await teams.press(ORGANISER, edited)
    assert "told what changed (title, join link)" in texts(saved)
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    told = texts(channel.to(staff_a.conversation_id)[before:])
    assert "has changed" in told and "Changed: title, join link." in told
