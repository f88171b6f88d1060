"""Trust boundaries (issue 16): which channel may talk to the bot, and every entry point counts against the rate limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.ratelimit import SLOW_DOWN
from bot.runtime import Runtime
from storage.models import Person
from tests.teams.client import TeamsClient, TeamsUser, texts


async def person(runtime: Runtime, user: TeamsUser) -> Person | None:
    async with runtime.deps.sessions() as session:
        query = select(Person).where(Person.tenant_id == user.tenant_id, Person.aad_id == user.aad_id)
        return (await session.execute(query)).scalar_one_or_none()


@pytest.mark.parametrize("channel_id", ["webchat", "directline", "emulator", "MSTeams", ""])
async def test_only_teams_may_talk_to_the_bot(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser, channel_id: str,
) -> None:
    await teams.say(staff_a, "hello")
    before = await person(runtime, staff_a)
    assert before is not None and before.conversation_reference
    for user in (staff_a, dpo_a):  # a known person (reference kept) and a new one (nothing stored)
        activity = {**teams.message(user, "help"), "channelId": channel_id,
                    "serviceUrl": teams.channel.url + "elsewhere/", "from": {
                        "id": user.teams_id, "name": "Renamed", "aadObjectId": user.aad_id}}
        activity["conversation"]["id"] = "webchat-conversation"
        sent = len(teams.channel.received)
        status, _ = await teams.post(activity)
        assert status == 403
        assert len(teams.channel.received) == sent
    after = await person(runtime, staff_a)
    assert after is not None and (after.name, after.conversation_reference) == (staff_a.name, before.conversation_reference)
    assert await person(runtime, dpo_a) is None


def invoke(teams: TeamsClient, user: TeamsUser, data: dict[str, Any]) -> dict[str, Any]:
    """An Action.Execute button press, as Teams sends it."""
    activity = teams.from_file("invoke_adaptiveCard_action_personal_teamsnet_capture.json", user)
    activity["value"] = {"action": {"type": "Action.Execute", "data": data}, "trigger": "manual"}
    return activity


async def test_card_invokes_and_submits_count_against_the_rate_limit(
    teams: TeamsClient, staff_a: TeamsUser, staff_b: TeamsUser,
) -> None:
    for n in range(30):
        if n % 2:
            status, body = await teams.post(invoke(teams, staff_a, {"cmd": "training.mine"}))
            assert (status, json.loads(body)["value"]) == (200, "Done")
        else:
            await teams.press(staff_a, {"cmd": "training.mine"})
    status, body = await teams.post(invoke(teams, staff_a, {"cmd": "training.mine"}))
    assert (status, json.loads(body)["value"]) == (200, SLOW_DOWN)
    assert await teams.say(staff_a, "help") == []  # told once; the rest is dropped
    assert "Custodian can help you with" in texts(await teams.say(staff_b, "help"))
