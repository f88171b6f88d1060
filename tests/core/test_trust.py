"""Trust boundaries (issue 16): which channel may talk to the bot, and every entry point counts against the rate limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from bot.ratelimit import SLOW_DOWN
from bot.runtime import Runtime
from config import Settings
from storage.models import Person
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.breach import ANSWERS, answer, breaches, ledger
from tests.support.consent import button, check_and_post, import_sample, tasks
from tests.teams.client import TeamsClient, TeamsUser, texts


async def person(runtime: Runtime, user: TeamsUser) -> Person | None:
    async with runtime.deps.sessions() as session:
        query = select(Person).where(col(Person.tenant_id) == user.tenant_id, col(Person.aad_id) == user.aad_id)
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
    seeded = await person(runtime, dpo_a)  # known as the school's DPO (settings), but nothing of this activity kept
    assert seeded is not None and (seeded.name, seeded.conversation_reference) == ("", None)


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


async def test_a_breach_reported_from_another_schools_task_is_filed_and_alerted_in_that_school(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, dpo_b: TeamsUser, staff_b: TeamsUser,
) -> None:
    """Dana is DPO of A and B; from her chat in school A she reports a breach from school B's removal task."""
    await teams.say(dpo_a, "hello")
    dana_in_b = TeamsUser(dpo_a.name, dpo_a.aad_id, SCHOOL_B)
    await teams.say(dana_in_b, "hello")
    await teams.say(dpo_b, "hello")
    await import_sample(teams, dpo_b)
    await check_and_post(teams, staff_b, "Olivia Smith")
    await teams.say(dpo_b, "consent withdrawn for Olivia Smith social media")
    [task] = await tasks(runtime)
    shown = await teams.press(dpo_a, {"cmd": "consent.show_task", "task": task.id, "school": SCHOOL_B})
    started = await teams.press(dpo_a, button(shown, "Report a breach"))
    assert "I've noted what happened" in texts(started)
    for key, (how, value) in ANSWERS.items():
        if key != "what_happened":
            await answer(teams, dpo_a, key, how, value)
    await teams.press(dpo_a, {"q": "summary", "nav": "confirm"})
    [breach] = await breaches(runtime)
    assert (breach.tenant_id, breach.reporter_aad_id) == (SCHOOL_B, dpo_a.aad_id)
    alerts = await ledger(runtime, breach.id)
    recipients = {(r.tenant_id, r.recipient_aad_id) for r in alerts}
    assert (SCHOOL_B, dpo_b.aad_id) in recipients <= {(SCHOOL_B, dpo_a.aad_id), (SCHOOL_B, dpo_b.aad_id)}
    assert breach.reference in texts(await teams.say(dpo_b, "open breaches"))


async def test_a_flow_in_another_school_stops_when_the_role_there_is_removed(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, dpo_b: TeamsUser, staff_b: TeamsUser,
) -> None:
    dana_in_b = TeamsUser(dpo_a.name, dpo_a.aad_id, SCHOOL_B)
    for user in (dpo_a, dana_in_b, dpo_b):
        await teams.say(user, "hello")
    await import_sample(teams, dpo_b)
    await check_and_post(teams, staff_b, "Olivia Smith")
    await teams.say(dpo_b, "consent withdrawn for Olivia Smith social media")
    [task] = await tasks(runtime)
    started = await teams.press(dpo_a, {"cmd": "consent.report_breach", "task": task.id, "school": SCHOOL_B})
    assert "I've noted what happened" in texts(started)
    assert "no longer a DPO" in texts(await teams.say(dpo_b, "remove dpo from Dana Price"))
    refused = texts(await answer(teams, dpo_a, "kind", *ANSWERS["kind"]))
    assert "access" in refused
    assert "I've noted" not in texts(await teams.say(dpo_a, "yes")) and await breaches(runtime) == []


def from_env(**env: Any) -> Settings:
    """Settings as read from these environment variables only."""
    return Settings(_env_file=None, **env)


def test_role_seeds_name_their_school() -> None:
    with pytest.raises(ValidationError, match="names no school"):
        from_env(DPO_AAD_IDS="d0d0d0d0-0000-4000-8000-0000000000a1")
    with pytest.raises(ValidationError, match="names no school"):
        from_env(ORGANISER_AAD_IDS="0c0c", ALLOWED_TENANTS=f"{SCHOOL_A},{SCHOOL_B}")
    one = from_env(DPO_AAD_IDS="D0D0, " + SCHOOL_B + ":B1", ALLOWED_TENANTS=SCHOOL_A)
    assert one.role_seeds(one.dpo_aad_ids) == {(SCHOOL_A, "d0d0"), (SCHOOL_B, "b1")}


async def test_a_seeded_dpo_is_a_dpo_only_in_their_school(teams: TeamsClient, staff_a: TeamsUser, dpo_b: TeamsUser) -> None:
    await teams.say(staff_a, "hello")
    priya_in_a = TeamsUser(dpo_b.name, dpo_b.aad_id, SCHOOL_A)  # seeded as DPO of school B only
    assert "Only a DPO" in texts(await teams.say(priya_in_a, "make Megan Bowen a DPO"))
    roles = texts(await teams.say(priya_in_a, "roles"))
    assert "DPOs:** one who has not opened Custodian yet" in roles and dpo_b.name not in roles  # school A's own DPO


GUEST = TeamsUser("Gus Guest (Guest)", "9e9e9e9e-0000-4000-8000-0000000000a7", SCHOOL_A)


def member(user: TeamsUser, role: str, tenant: str) -> dict[str, Any]:
    """A TeamsChannelAccount as Teams answers GET /v3/conversations/{id}/members/{id}."""
    return {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_id, "userRole": role, "tenantId": tenant,
            "userPrincipalName": "gus_partner.org#EXT#@stmarys.onmicrosoft.com"}


@pytest.mark.parametrize(("answer", "refusal"), [
    ([member(GUEST, "guest", SCHOOL_A)], "only for your school's own staff"),
    ([member(GUEST, "anonymous", SCHOOL_A)], "only for your school's own staff"),
    ([member(GUEST, "user", SCHOOL_B)], "only for your school's own staff"),  # a member of another tenant
    ([], "couldn't check with Teams"),  # Teams did not know them: no guess
])
async def test_guests_and_outsiders_do_not_see_the_pupil_register(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, answer: list[dict[str, Any]], refusal: str,
) -> None:
    await teams.say(dpo_a, "hello")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith")
    teams.channel.members[GUEST.conversation_id] = answer
    for replies in (await teams.say(GUEST, "check consent"), await teams.press(GUEST, {"cmd": "consent.show_post", "post": 1})):
        assert refusal in texts(replies) and "Olivia" not in texts(replies)
    assert "Olivia" not in texts(await teams.say(GUEST, "Olivia Smith"))  # no dialog was started
    assert "Olivia" in texts(await teams.say(staff_a, "check consent") + await teams.say(staff_a, "Olivia Smith"))
