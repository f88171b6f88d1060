"""Roles in chat: DPOs grant and revoke DPO / organiser roles within their own school."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from dialogs.dpo.roles import parse_change
from dialogs.kit.cards import plain
from storage.models import AuditEvent, RoleGrant
from tests.teams.client import TeamsClient, TeamsUser, texts


def test_parse_change_phrasings() -> None:
    assert parse_change("make Sam Jones a DPO") == (True, "dpo", "sam jones")
    assert parse_change("grant organiser role to Sam") == (True, "organiser", "sam")
    assert parse_change("give <at>Sam Jones</at> the organizer role") == (True, "organizer", "sam jones")
    assert parse_change("remove dpo from Sam Jones") == (False, "dpo", "sam jones")
    assert parse_change("revoke Sam as organiser") == (False, "organiser", "sam")
    assert parse_change("make a cup of tea") is None


async def active(runtime: Runtime, tenant: str) -> set[tuple[str, str]]:
    async with runtime.deps.sessions() as session:
        query = select(RoleGrant).where(col(RoleGrant.tenant_id) == tenant, col(RoleGrant.revoked_at).is_(None))
        rows = await session.execute(query)
        return {(g.aad_id, g.role) for g in rows.scalars()}


async def test_dpo_grants_and_revokes_by_name_and_it_is_audited(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    reply = await teams.say(dpo_a, "make megan  bowen a DPO")  # the name exactly (case and spacing aside)
    assert "Megan Bowen** is now a DPO" in texts(reply)
    assert (staff_a.aad_id, "dpo") in await active(runtime, staff_a.tenant_id)
    reply = await teams.say(dpo_a, "remove dpo from Megan Bowen")
    assert "no longer a DPO" in texts(reply)
    assert (staff_a.aad_id, "dpo") not in await active(runtime, staff_a.tenant_id)
    async with runtime.deps.sessions() as session:
        actions = [e.action for e in (await session.execute(select(AuditEvent).order_by(col(AuditEvent.id)))).scalars()]
    assert actions == ["role.granted.dpo", "role.revoked.dpo"]


async def test_a_near_match_is_granted_only_once_the_dpo_confirms_who(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser, staff_b: TeamsUser,
) -> None:
    teams.channel.members[staff_a.conversation_id] = [{"id": staff_a.teams_id, "name": staff_a.name, "userRole": "user",
                                                       "aadObjectId": staff_a.aad_id, "tenantId": staff_a.tenant_id,
                                                       "userPrincipalName": "megan.bowen@stmarys.example"}]
    await teams.say(staff_a, "check consent")  # Teams tells the bot how Megan signs in
    asked = await teams.say(dpo_a, "make Megan Bowan a DPO")  # a typo
    shown = texts(asked)
    assert "Is this the right person?" in shown and "Megan Bowen" in shown
    assert plain("megan.bowen@stmarys.example") in shown  # shown as text, never a live mailto link
    assert "is now a DPO" not in shown
    assert (staff_a.aad_id, "dpo") not in await active(runtime, staff_a.tenant_id)
    [yes] = [a["data"] for r in asked for c in r.cards for a in c["actions"] if a["title"].startswith("Yes")]
    for stranger in (staff_a, staff_b, TeamsUser(dpo_a.name, dpo_a.aad_id, staff_b.tenant_id)):
        assert "is now a DPO" not in texts(await teams.press(stranger, yes))  # a replayed button grants nothing
    assert (staff_a.aad_id, "dpo") not in await active(runtime, staff_a.tenant_id)
    assert "Megan Bowen** is now a DPO" in texts(await teams.press(dpo_a, yes))
    assert (staff_a.aad_id, "dpo") in await active(runtime, staff_a.tenant_id)


async def test_staff_cannot_grant_roles(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser) -> None:
    await teams.say(dpo_a, "hello")
    reply = await teams.say(staff_a, "make Megan Bowen a DPO")
    assert "Only a DPO" in texts(reply)
    assert (staff_a.aad_id, "dpo") not in await active(runtime, staff_a.tenant_id)


async def test_last_dpo_cannot_remove_themselves(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    reply = await teams.say(dpo_a, "remove dpo from Dana Price")
    assert "only DPO" in texts(reply)
    await teams.say(dpo_a, "make Megan Bowen a DPO")
    reply = await teams.say(dpo_a, "remove dpo from Dana Price")
    assert "no longer a DPO" in texts(reply)
    assert await active(runtime, dpo_a.tenant_id) == {(staff_a.aad_id, "dpo")}


async def test_cannot_reach_another_schools_people(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_b: TeamsUser
) -> None:
    await teams.say(staff_b, "hello")
    reply = await teams.say(dpo_a, "make Ben Carter a DPO")
    assert "don't know anyone" in texts(reply)
    assert (staff_b.aad_id, "dpo") not in await active(runtime, staff_b.tenant_id)


async def test_grant_by_mention_in_group_chat(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser) -> None:
    await teams.say(staff_a, "hello")
    activity = teams.from_file("message_channel_thread_reply_with_bot_mention_teamsnet_capture.json", dpo_a)
    activity["conversation"] = {"id": "19:group@thread.v2", "conversationType": "groupChat", "isGroup": True}
    activity["text"] = "<at>ridotest</at> make <at>Megan Bowen</at> a DPO"
    activity["entities"] = [
        {"type": "mention", "text": "<at>ridotest</at>", "mentioned": {"id": activity["recipient"]["id"], "name": "ridotest"}},
        {"type": "mention", "text": "<at>Megan Bowen</at>", "mentioned": {"id": staff_a.teams_id, "name": "Megan Bowen"}},
    ]
    reply = await teams.send(activity)
    assert "Megan Bowen** is now a DPO" in texts(reply)
    assert (staff_a.aad_id, "dpo") in await active(runtime, staff_a.tenant_id)


async def test_roles_list(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    reply = await teams.say(dpo_a, "roles")
    assert "Dana Price" in texts(reply)


async def test_revoked_settings_dpo_stays_revoked(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    await teams.say(dpo_a, "make Megan Bowen a DPO")
    await teams.say(staff_a, "remove dpo from Dana Price")
    await teams.say(dpo_a, "hello again")
    assert await active(runtime, dpo_a.tenant_id) == {(staff_a.aad_id, "dpo")}


async def test_an_unknown_role_is_answered_with_the_roles_there_are(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    reply = texts(await teams.say(dpo_a, "make Sam Jones a governor"))
    assert "no \u201cgovernor\u201d role" in reply and "**make Sam Jones a DPO**" in reply
