"""A turn runs once per activity: a duplicated or retried delivery makes one item and one confirmation."""

from __future__ import annotations

import asyncio
import json

from bot.runtime import Runtime
from tests.support.breach import ANSWERS, answer, breaches, ledger
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received


async def test_a_duplicated_submit_makes_one_breach_one_receipt_and_one_alert(
    teams: TeamsClient, channel: FakeTeamsChannel, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await teams.say(staff_a, "report a breach")
    for key, (how, value) in ANSWERS.items():
        replies = await answer(teams, staff_a, key, how, value)
    assert "Please check your report" in texts(replies)
    send = teams.message(staff_a, None, {"q": "summary", "nav": "confirm"})
    before = len(channel.to(staff_a.conversation_id))
    statuses = await asyncio.gather(*(teams.post(send) for _ in range(3)))  # delivered three times at once
    assert [status for status, _ in statuses] == [201, 201, 201]
    retried, _ = await teams.post(send)  # and once more later, as a retry
    assert retried == 201
    said = texts(channel.to(staff_a.conversation_id)[before:])
    assert said.count("Your reference is BR-2026-0001") == 1, said
    assert "went wrong" not in said
    [breach] = await breaches(runtime)
    assert breach.reference == "BR-2026-0001"
    assert len([r for r in await ledger(runtime, breach.id) if r.kind == "breach.alert"]) == 1
    alerts = [r for r in await _sweep_to(runtime, channel, dpo_a) if "New breach reported: BR-2026-0001" in texts([r])]
    assert len(alerts) == 1


async def test_a_redelivered_card_action_is_answered_but_not_run_again(
    teams: TeamsClient, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    invoke = teams.from_file("invoke_adaptiveCard_action_personal_teamsnet_capture.json", staff_a)
    invoke["value"]["action"]["data"] = {"cmd": "training.mine"}
    before = len(channel.to(staff_a.conversation_id))
    first, again = [await teams.post(invoke) for _ in range(2)]
    assert first[0] == again[0] == 200 and json.loads(again[1]) == json.loads(first[1])
    assert len(channel.to(staff_a.conversation_id)) - before == 1  # the one answer, once


async def _sweep_to(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]
