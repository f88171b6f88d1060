"""People leave: `left staff Name` or Teams' teamMemberRemoved gives the DPO a task per account they could post to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.runtime import Runtime
from services.accounts.leavers import KIND_LEAVER
from services.clock import SettableClock
from storage.account_models import AccountAccessTask, SocialAccount
from storage.reminder_models import Reminder
from tests.accounts.test_accounts import add
from tests.conftest import SCHOOL_A
from tests.support.consent import button, rows
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel


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


async def test_a_leaver_reaches_the_dpo_as_a_reminder_each_school_morning_until_done(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, dpo_a: TeamsUser,
    staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "hello")
    await add(teams, dpo_a, owner="Sam Patel", access=f"Sam Patel, {staff_a.name}", backup_admin="Sam Patel",
              dpia_on="01/10/2026")
    before = len(channel.to(dpo_a.conversation_id))
    await teams.send(member_removed(teams, dpo_a, staff_a))  # Wed 25/11/2026 10:00: told at once
    await runtime.sweep_reminders()
    sent = channel.to(dpo_a.conversation_id)[before:]
    assert f"Remove {staff_a.name}'s access to social media account 1" in texts(sent)
    assert "Change the password" in texts(sent) and "Mark done" not in texts(sent)
    done = button(sent, "Done")
    assert done["school"] == SCHOOL_A

    clock.set(datetime(2026, 11, 26, 9, 1, tzinfo=UTC))  # the next school morning: told again
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    assert f"Remove {staff_a.name}'s access" in texts(channel.to(dpo_a.conversation_id)[before:])

    assert "Only your school's DPO" in texts(await teams.press(staff_a, done))
    assert "account 1 is updated" in texts(await teams.press(dpo_a, done))
    assert not [r for r in await rows(runtime, Reminder) if r.kind == KIND_LEAVER and r.state == "pending"]
    clock.advance(timedelta(days=7))
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    assert "access to social media account" not in texts(channel.to(dpo_a.conversation_id)[before:])
    [account] = await rows(runtime, SocialAccount)
    assert account.access == "Sam Patel"


async def test_the_dpo_who_said_left_staff_is_not_told_again_at_once_but_is_the_next_morning(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    await add(teams, dpo_a, access="Megan Smith", owner="Sam Patel", backup_admin="Sam Patel", dpia_on="01/10/2026")
    await teams.say(dpo_a, "left staff Megan Smith")
    chain = sorted((r for r in await rows(runtime, Reminder) if r.kind == KIND_LEAVER), key=lambda r: r.due_at)
    assert [r.recipient_aad_id for r in chain] == [dpo_a.aad_id] * 5
    assert chain[0].due_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday 09:00, not now
