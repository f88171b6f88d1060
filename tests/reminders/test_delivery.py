"""Proactive sends as Teams defines them, end to end through the fake channel: every rate window, what each 403
and 404 means, 500 not retried, notification text, and a chat opened (POST /v3/conversations) for a DPO who never
wrote to the bot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botbuilder.core import MessageFactory
from sqlalchemy import select
from sqlmodel import col

from bot.proactive import Fate, ProactiveSender, SendLimiter
from bot.runtime import Runtime
from services.clock import SettableClock
from services.reminders import ledger as reminders
from storage.consent_models import Post, PostPupil
from storage.models import Organisation, Person
from storage.reminder_models import Reminder, ReminderState
from tests.conftest import SCHOOL_A
from tests.consent.test_consent_removals import THU_9AM, posted
from tests.reminders.test_proactive import FakeTime, Waits, reference
from tests.reminders.test_reminders import add
from tests.support.breach import file_report
from tests.support.consent import tasks
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Limits


async def person(runtime: Runtime, user: TeamsUser) -> Person:
    async with runtime.deps.sessions() as session:
        found = await session.execute(select(Person).where(col(Person.tenant_id) == user.tenant_id,
                                                           col(Person.aad_id) == user.aad_id))
        return found.scalar_one()


async def ledger(runtime: Runtime) -> list[Reminder]:
    async with runtime.deps.sessions() as session:
        return list((await session.execute(select(Reminder).order_by(col(Reminder.id)))).scalars())


def installation(teams: TeamsClient, user: TeamsUser, action: str) -> dict[str, object]:
    """The `installationUpdate` Teams sends when `user` adds or removes the app in their 1:1 chat."""
    activity = teams.message(user)
    del activity["text"]
    activity.update(type="installationUpdate", action=action)
    return activity


async def test_500_is_final_not_retried(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser
) -> None:
    ref = await reference(teams, runtime, staff_a)
    waits = Waits()
    sender = ProactiveSender(runtime.adapter, runtime.settings.app_id, sleep=waits)
    before = len(channel.to(staff_a.conversation_id))
    channel.fail_next(500, times=2)
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert (result.ok, result.status, result.fate) == (False, 500, Fate.FAILED)
    assert waits.seconds == [] and len(channel.faults) == 1  # asked once, not again
    assert channel.to(staff_a.conversation_id)[before:] == []


@pytest.mark.parametrize("code", ["ConversationBlockedByUser", "BotNotInConversationRoster",
                                  "ForbiddenOperationException", None])
async def test_a_403_about_the_person_marks_them_unreachable_until_they_write_again(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser, code: str | None,
) -> None:
    await teams.say(dpo_a, "hello")
    await teams.say(staff_a, "hello")
    await add(runtime, staff_a, due_at=clock())
    channel.fail_next(403, code=code, conversation_id=staff_a.conversation_id)
    report = await runtime.sweep_reminders()
    assert (report.unreachable, report.blocked, report.retry) == (1, 0, 0)
    assert (await person(runtime, staff_a)).unreachable_at == clock()
    assert (await person(runtime, dpo_a)).unreachable_at is None  # one person, not the school
    assert "did not get through" in texts(channel.to(dpo_a.conversation_id)) or any(
        r.kind == reminders.FAILED_KIND for r in await ledger(runtime))  # the DPO is told

    await add(runtime, staff_a, due_at=clock(), key="r2")
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    assert channel.to(staff_a.conversation_id)[before:] == []  # nothing more is tried while they are unreachable

    await teams.say(staff_a, "hello")  # they write to the bot: reachable again
    assert (await person(runtime, staff_a)).unreachable_at is None


async def test_installation_update_remove_and_add(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    await teams.send(installation(teams, staff_a, "remove"))
    assert (await person(runtime, staff_a)).unreachable_at == clock()
    await add(runtime, staff_a, due_at=clock())
    before = len(channel.to(staff_a.conversation_id))
    assert (await runtime.sweep_reminders()).unreachable == 1
    assert channel.to(staff_a.conversation_id)[before:] == []
    await teams.send(installation(teams, staff_a, "add"))
    assert (await person(runtime, staff_a)).unreachable_at is None


async def test_bot_disabled_by_admin_holds_the_school_and_tells_the_dpos_once_when_it_works_again(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser, staff_b: TeamsUser,
) -> None:
    for user in (dpo_a, staff_a, staff_b):
        await teams.say(user, "hello")
    for i in range(3):
        await add(runtime, staff_a, due_at=clock(), key=f"a{i}", subject_id=str(i))
    await add(runtime, staff_b, due_at=clock(), key="b0")
    blocked_at = clock()
    channel.fail_next(403, times=50, code="BotDisabledByAdmin", conversation_id=staff_a.conversation_id)
    channel.fail_next(403, times=50, code="BotDisabledByAdmin", conversation_id=dpo_a.conversation_id)
    report = await runtime.sweep_reminders()
    assert report.blocked >= 1 and (report.unreachable, report.failed) == (0, 0)
    assert report.sent == 1 and len(channel.to(staff_b.conversation_id)) == 2  # another school is not held up
    async with runtime.deps.sessions() as session:
        assert (await session.get(Organisation, SCHOOL_A)).app_blocked_at == blocked_at  # type: ignore[union-attr]
    for user in (staff_a, dpo_a):
        assert (await person(runtime, user)).unreachable_at is None  # nobody marked one by one
    held = [r for r in await ledger(runtime) if r.tenant_id == SCHOOL_A]
    assert {(r.state, r.next_attempt_at) for r in held} == {(ReminderState.PENDING, clock() + timedelta(hours=1))}
    assert not any(r.kind == reminders.FAILED_KIND for r in held)

    clock.set(clock() + timedelta(minutes=30))
    assert (await runtime.sweep_reminders()).total == 0  # still held: not tried again yet

    channel.faults.clear()  # the admin allows the app again
    clock.set(blocked_at + timedelta(hours=1))
    report = await runtime.sweep_reminders()
    assert report.sent == 4  # the three held reminders, and the DPOs' notice
    told = [r for r in channel.to(dpo_a.conversation_id) if "can reach your school again" in texts([r])]
    assert len(told) == 1 and told[0].activity["summary"] == "Custodian can reach your school again"
    async with runtime.deps.sessions() as session:
        assert (await session.get(Organisation, SCHOOL_A)).app_blocked_at is None  # type: ignore[union-attr]
    assert (await runtime.sweep_reminders()).total == 0  # told once


async def test_conversation_not_found_drops_the_reference_and_a_chat_is_opened_again(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "hello")  # whose chat gives the school's service URL
    await teams.say(staff_a, "hello")
    channel.installed.add(staff_a.aad_id)
    await add(runtime, staff_a, due_at=clock())
    channel.fail_next(404, code="ConversationNotFound", conversation_id=staff_a.conversation_id)
    report = await runtime.sweep_reminders()
    assert (report.gone, report.sent) == (1, 1)  # the chat is opened again, and the reminder goes into it
    [created] = [r for r in channel.received if r.op == "create"]
    assert "Check the shared drive" in texts(channel.to(created.conversation_id))
    assert created.conversation_id in str((await person(runtime, staff_a)).conversation_reference)


async def test_a_404_with_no_body_is_not_taken_for_a_lost_conversation(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "hello")
    stored = (await person(runtime, staff_a)).conversation_reference
    await add(runtime, staff_a, due_at=clock())
    channel.fail_next(404, code=None)
    assert (await runtime.sweep_reminders()).failed == 1
    assert (await person(runtime, staff_a)).conversation_reference == stored


async def test_a_dpo_who_never_wrote_gets_the_alert_through_a_chat_the_bot_opens(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    channel.installed.add(dpo_a.aad_id)  # the school's app setup policy installed Custodian for the DPO
    await file_report(teams, staff_a)
    await runtime.sweep_reminders()
    [created] = [r for r in channel.received if r.op == "create"]
    body = created.activity
    assert body["isGroup"] is False and body["tenantId"] == SCHOOL_A and body["channelData"]["tenant"]["id"] == SCHOOL_A
    assert [m["id"] for m in body["members"]] == [dpo_a.aad_id] and body["bot"]["id"]
    [alert] = channel.to(created.conversation_id)
    assert "New breach reported: BR-2026-0001" in texts([alert]) and "Late:" not in texts([alert])
    assert alert.activity["summary"] == "New breach reported: BR-2026-0001"  # the notification: no personal data

    first = await teams.say(dpo_a, "hello")  # when the DPO writes, their own chat's reference replaces it
    assert first and created.conversation_id not in str((await person(runtime, dpo_a)).conversation_reference)


async def test_without_the_app_installed_the_alert_waits_until_a_chat_can_be_opened(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    report = await runtime.sweep_reminders()
    assert report.waiting == 1 and [r.op for r in channel.received].count("create") == 1  # refused (403)

    channel.installed.add(dpo_a.aad_id)  # installed later: the daily look finds a chat can be opened
    clock.set(clock() + timedelta(days=1))
    await runtime.sweep_reminders()
    created = [r for r in channel.received if r.op == "create"][-1]
    shown = texts(channel.to(created.conversation_id))
    assert "New breach reported: BR-2026-0001" in shown
    assert "Late: sent as soon as Teams let Custodian open a chat with you." in shown


async def test_the_windows_of_thirty_seconds_and_an_hour_are_kept(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    """Teams' windows on one clock for both sides: 70 sends into one chat are never refused, and the 61st
    waits until the first has left the 30-second window; an hour's 1800 are left to a later sweep."""
    ref = await reference(teams, runtime, staff_a)
    time = FakeTime()
    channel.limits = Limits(clock=time)
    sender = ProactiveSender(runtime.adapter, runtime.settings.app_id,
                             limiter=SendLimiter(time=time, sleep=time.sleep), sleep=time.sleep)
    times = []
    for i in range(70):
        assert (await sender.send(ref, MessageFactory.text(f"reminder {i}"))).ok
        times.append(time.now)
    assert channel.rejected_429 == 0
    assert times[59] < 30.0 <= times[60]  # 60 in the first 30 seconds, no more
    assert max(sum(1 for t in times if s <= t < s + 30.0) for s in times) == 60


async def test_an_hours_worth_of_sends_is_left_to_a_later_sweep() -> None:
    time = FakeTime()
    limiter = SendLimiter(time=time, sleep=time.sleep)
    for _ in range(1800):
        async with limiter.slot("school-a", "chat-1"):
            pass
    assert time.now < 3600.0 - 30.0  # 1800 went within the hour (60 per 30 s)
    with pytest.raises(Exception, match="throttled") as throttled:
        async with limiter.slot("school-a", "chat-1"):
            pass
    assert throttled.value.seconds == pytest.approx(3600.0 - time.now)  # type: ignore[attr-defined]
    async with limiter.slot("school-a", "chat-2"):  # another chat is not held up
        pass


async def test_forty_removal_tasks_for_one_person_arrive_as_one_card(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser,
) -> None:
    await posted(teams, staff_a, dpo_a, "Olivia Smith")
    async with runtime.deps.sessions() as session:  # 39 more of her photos on the school's page, by the same person
        [post] = list((await session.execute(select(Post))).scalars())
        [shown] = list((await session.execute(select(PostPupil))).scalars())
        for _ in range(39):
            copy = Post(**post.model_dump(exclude={"id"}))
            session.add(copy)
            await session.flush()
            session.add(PostPupil(**{**shown.model_dump(), "post_id": copy.id}))
        await session.commit()
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    assert len(await tasks(runtime)) == 40
    before = len(channel.to(staff_a.conversation_id))
    report = await runtime.sweep_reminders()
    [card] = channel.to(staff_a.conversation_id)[before:]
    assert report.sent >= 40  # every task's reminder is stamped sent, by the one card
    shown_text = texts([card])
    assert "40 images must come down" in shown_text and "Removal #1: consent withdrawn" in shown_text
    assert "And 32 more: type **status** to see them all." in shown_text and "Olivia" not in shown_text
    assert card.activity["summary"] == "40 images must come down"
    opened = await teams.press(staff_a, {"cmd": "consent.show_task", "task": 2})
    assert "Removal #2" in texts(opened)

    clock.set(THU_9AM)  # the next school morning: the daily reminders go as one card too
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    assert len(channel.to(staff_a.conversation_id)[before:]) == 1
