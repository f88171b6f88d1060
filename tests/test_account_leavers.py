"""People leave: `left staff Name` or Teams' teamMemberRemoved gives the DPO a task per account they could post to."""

from __future__ import annotations

from typing import Any

from bot.runtime import Runtime
from storage.account_models import AccountAccessTask, SocialAccount
from tests.conftest import SCHOOL_A
from tests.consent_support import rows
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.test_accounts import add


def status_button(replies: list, words: str) -> dict[str, Any]:
    """The data of the status line containing `words`."""
    [line] = [item for card in replies[0].cards for item in card["body"] if words in str(item) and item.get("selectAction")]
    return dict(line["selectAction"]["data"])


def member_removed(teams: TeamsClient, remover: TeamsUser, leaver: TeamsUser) -> dict[str, Any]:
    """Teams' conversationUpdate when `leaver` is removed from a team the bot is in (as Microsoft documents it)."""
    activity = teams.from_file("conversationUpdate_bot_installed_team_docs.json")
    del activity["membersAdded"]
    activity["membersRemoved"] = [{"id": leaver.teams_id, "aadObjectId": leaver.aad_id}]
    activity["from"] = {"id": remover.teams_id, "aadObjectId": remover.aad_id}
    activity["conversation"]["tenantId"] = SCHOOL_A
    activity["channelData"] = {**activity["channelData"], "eventType": "teamMemberRemoved", "tenant": {"id": SCHOOL_A}}
    return activity


async def test_left_staff_gives_the_dpo_an_access_task_until_done(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await add(teams, dpo_a, access="Megan Smith", owner="Megan Smith", backup_admin="Sam Patel", dpia_on="01/10/2026")
    await add(teams, dpo_a, platform="X", handle="@stmarys", access="Sam Patel", owner="Sam Patel")
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "left staff Megan Smith"))
    assert "Who left?" in texts(await teams.say(dpo_a, "left staff"))
    assert "No live account names Jo Bloggs" in texts(await teams.say(dpo_a, "left staff Jo Bloggs"))
    replies = await teams.say(dpo_a, "left staff megan  smith")
    assert "is named on account(s) 1" in texts(replies)
    await teams.say(dpo_a, "left staff Megan Smith")  # said twice: still one task
    assert len(await rows(runtime, AccountAccessTask)) == 1

    status = await teams.say(dpo_a, "status")
    assert "Remove Megan Smith's access to account 1 (Facebook" in texts(status)
    done = status_button(status, "Remove Megan Smith")
    assert "Only your school's DPO" in texts(await teams.press(staff_a, done))
    assert "account 1 is updated" in texts(await teams.press(dpo_a, done))
    assert "already done" in texts(await teams.press(dpo_a, done))
    first = (await rows(runtime, SocialAccount))[0]
    assert (first.owner, first.access, first.backup_admin) == ("", "", "Sam Patel")
    assert "Remove Megan" not in texts(await teams.say(dpo_a, "status"))


async def test_teams_member_removed_opens_the_task_and_an_account_left_with_no_one_is_flagged(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")  # the bot knows Megan by the name Teams gives
    await add(teams, dpo_a, owner="", access=staff_a.name, backup_admin="", dpia_on="01/10/2026")
    await teams.send(member_removed(teams, dpo_a, staff_a))
    status = await teams.say(dpo_a, "status")
    assert f"Remove {staff_a.name}'s access to account 1" in texts(status)
    await teams.press(dpo_a, status_button(status, "Remove"))
    assert "no one left with access (no contingency)" in texts(await teams.say(dpo_a, "status"))
