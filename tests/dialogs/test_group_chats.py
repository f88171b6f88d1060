"""Group chats and channels (issue 16, item 9): buttons with personal data are refused there as typed commands are,
and a dialog belongs to the member who started it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime
from config import Settings
from dialogs.router import GROUP_REFUSAL
from tests.conftest import SCHOOL_A
from tests.support.breach import file_report
from tests.support.training import bookings_of, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import Received

COLLEAGUE_A = TeamsUser("Adele Vance", "7a7a7a7a-0000-4000-8000-0000000000a3", SCHOOL_A)
GROUP = {"id": "19:staffroom@thread.v2", "conversationType": "groupChat", "isGroup": True}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


async def in_group(teams: TeamsClient, user: TeamsUser, text: str = "", value: dict[str, Any] | None = None) -> list[Received]:
    """`user` writes (or presses a button) in the school's staff-room group chat."""
    activity = teams.message(user, text, value)
    activity["conversation"] = {**GROUP}
    return await teams.send(activity)


async def test_buttons_with_personal_data_are_refused_in_a_group_chat(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    assert GROUP_REFUSAL in texts(await in_group(teams, dpo_a, "open breaches"))  # typed: refused, as before
    for data in ({"cmd": "breach.show", "id": 1}, {"cmd": "breach.show", "id": 1, "school": SCHOOL_A},
                 {"cmd": "consent.show_task", "task": 1}, {"cmd": "training.attendees", "session_id": 1}):
        replies = texts(await in_group(teams, dpo_a, value=data))
        assert GROUP_REFUSAL in replies and "wrong parent" not in replies, data
    assert "AI for senior leaders" in texts(await in_group(teams, staff_a, "book training"))  # no personal data: fine


async def test_a_dialog_in_a_group_chat_belongs_to_whoever_started_it(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
) -> None:
    await in_group(teams, staff_a, "book training")
    online = await session_by_key(runtime, "online")
    asked = await in_group(teams, staff_a, value={"cmd": "training.book", "session_id": online.id})
    assert "role" in texts(asked).lower()
    for value in ({"role": "governor"}, {"confirm": "yes"}):  # a colleague tries to answer Megan's questions
        await in_group(teams, COLLEAGUE_A, value=value)
    assert await bookings_of(runtime, online.id or 0) == []
    await in_group(teams, staff_a, value={"role": "senior_leader"})
    assert "You're booked" in texts(await in_group(teams, staff_a, value={"confirm": "yes"}))
    [booking] = await bookings_of(runtime, online.id or 0)
    assert (booking.aad_id, booking.role) == (staff_a.aad_id, "senior_leader")
