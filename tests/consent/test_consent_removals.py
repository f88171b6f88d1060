"""Withdrawals, leavers, never-publish and housekeeping: removal tasks, reminders through the engine, breach offers, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.runtime import Runtime
from services.clock import SettableClock
from tests.conftest import SCHOOL_A
from tests.support.consent import button, check_and_post, import_sample, posts, pupil, tasks
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

THU_9AM = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the first school morning after the conftest clock (Wed 10:00)
OTHER_STAFF = TeamsUser("Sam Other", "0e0e0e0e-0000-4000-8000-0000000000a9", SCHOOL_A)


async def sweep(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    """Run the reminder engine at the clock's now; what reached `user`."""
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


async def posted(
    teams: TeamsClient, staff: TeamsUser, dpo: TeamsUser, who: str = "Olivia Smith and Jack Jones"
) -> list[Received]:
    """Sample imported, DPO reachable, and a social media post of `who` recorded by `staff`."""
    await teams.say(dpo, "help")
    await import_sample(teams, dpo)
    return await check_and_post(teams, staff, who)


async def test_withdrawal_tells_the_poster_at_once_and_each_school_day_until_removed(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a)
    replies = await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    assert "Consent withdrawn: School social media" in texts(replies) and "Removal #1" in texts(replies)
    alert = await sweep(runtime, channel, staff_a)
    assert len(alert) == 1 and "Please take down post #1 (removal #1)" in texts(alert) and "consent withdrawn" in texts(alert)
    assert "Olivia" not in texts(alert)  # the poster learns which post, not whose consent changed
    assert await sweep(runtime, channel, staff_a) == []  # exactly once

    for day, expected in ((0, 1), (1, 1), (2, 0), (3, 0), (4, 1)):  # Thu, Fri, (weekend), Mon
        clock.set(THU_9AM + timedelta(days=day))
        daily = await sweep(runtime, channel, staff_a)
        assert len(daily) == expected and ("Please take down post #1" in texts(daily)) == bool(expected), day
    assert "Please take down post #1" in texts(channel.to(dpo_a.conversation_id))  # the DPO's daily copies

    refused = await teams.press(staff_a, {"cmd": "consent.extend_post", "post": 1, "months": 12, "reason": "popular"})
    assert "must come down (consent changed), so it can't be extended" in texts(refused)
    replies = await teams.press(staff_a, button(alert, "Mark removed"))
    assert "removal #1 is done" in texts(replies)
    [post], [task] = await posts(runtime), await tasks(runtime)
    assert post.removed_at == clock() and task.done_by == staff_a.aad_id
    clock.set(THU_9AM + timedelta(days=6))
    assert await sweep(runtime, channel, staff_a) == []


async def test_housekeeping_reminder_at_remove_by_then_extend_then_remove(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a, "Jack Jones")
    [post] = await posts(runtime)
    assert post.remove_by == clock() + timedelta(days=365)
    clock.set(post.remove_by - timedelta(minutes=1))
    assert await sweep(runtime, channel, staff_a) == []
    clock.set(post.remove_by)
    due = await sweep(runtime, channel, staff_a)
    assert len(due) == 1 and "Time to take down post #1 (School social media)" in texts(due)
    assert "Time to take down post #1" in texts(channel.to(dpo_a.conversation_id))  # copied to the DPO
    assert "Post #1: School social media, remove by Thu 25 Nov 2027" in texts(await teams.say(staff_a, "status"))

    replies = await teams.press(staff_a, {**button(due, "Keep 6 more months"), "reason": "Still our admissions banner"})
    assert "may stay up until Thu 25 May 2028" in texts(replies)
    clock.set(datetime(2027, 11, 26, 9, 0, tzinfo=UTC))
    assert await sweep(runtime, channel, staff_a) == []
    clock.set(datetime(2028, 5, 25, 10, 0, tzinfo=UTC))
    again = await sweep(runtime, channel, staff_a)
    assert "Time to take down post #1" in texts(again) and "Still our admissions banner" in texts(again)
    await teams.press(staff_a, button(again, "Mark removed"))
    clock.set(datetime(2028, 5, 26, 9, 0, tzinfo=UTC))
    assert await sweep(runtime, channel, staff_a) == []


async def test_removal_open_seven_days_offers_the_dpo_a_prefilled_breach_report(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a)
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media by mother")
    await runtime.sweep_reminders()
    clock.advance(timedelta(days=7))
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    offer = channel.to(dpo_a.conversation_id)[before:]
    assert "Removal #1 still open after 7 days" in texts(offer)
    assert "Photo of 1 pupil published on School social media without valid consent" in texts(offer)
    assert "Report a breach" not in texts(await sweep(runtime, channel, staff_a))

    refused = await teams.press(staff_a, button(offer, "Report a breach"))
    assert "Only your school's DPO" in texts(refused)
    started = await teams.press(dpo_a, button(offer, "Report a breach"))
    assert "I've noted what happened" in texts(started) and "Olivia" not in texts(started)


async def test_dpo_records_an_image_published_without_consent(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await teams.say(dpo_a, "record published without consent")
    replies = await teams.say(dpo_a, "Amir Khan and Grace Taylor")
    assert "Where will the photo go?" in texts(replies)
    replies = await teams.press(dpo_a, {"purpose": "press"})
    assert "When and where was it published?" in texts(replies)
    replies = await teams.press(dpo_a, {"when": "yesterday 3pm", "where": "https://localnews.example/story"})
    assert "Recorded as removal #1" in texts(replies)
    [task] = await tasks(runtime)
    assert (task.reason, task.post_id, len(task.pupil_ids), task.purpose) == ("published_without_consent", None, 2, "press")
    started = await teams.press(dpo_a, button(replies, "Report a breach"))
    assert "I've noted what happened" in texts(started)
    done = await teams.press(dpo_a, button(replies, "Mark removed"))
    assert "removal #1 is done" in texts(done)


async def test_leaver_and_never_publish_open_removals_for_every_use(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a, "Jack Jones")
    await teams.say(staff_a, "check consent")
    await teams.say(staff_a, "Jack Jones, Olivia Smith")
    await teams.press(staff_a, {"purpose": "website"})
    await teams.press(staff_a, {"dressed": "true", "background": "true", "names": "true", "location": "true"})
    await teams.press(staff_a, {"account": "News page", "description": "Harvest festival"})

    await teams.say(dpo_a, "pupil left Jack Jones")
    replies = await teams.say(dpo_a, "yes")
    assert "Marked as left" in texts(replies) and "2 live post(s)" in texts(replies)
    replies = await teams.say(dpo_a, "never publish Olivia Smith - court order")
    assert "Never publish recorded" in texts(replies) and "already under way" in texts(replies)  # post 2 has a task
    jack, olivia = (await pupil(runtime, SCHOOL_A, "Jack", "Jones")), (await pupil(runtime, SCHOOL_A, "Olivia", "Smith"))
    by_post = {t.post_id: t for t in await tasks(runtime)}
    assert set(by_post) == {1, 2} and by_post[1].pupil_ids == [jack.id] and by_post[2].reason == "left"
    assert sorted(by_post[2].pupil_ids) == sorted([int(jack.id or 0), int(olivia.id or 0)])

    await teams.say(staff_a, "check consent")
    await teams.say(staff_a, "Jack Jones, Olivia Smith")
    shown = texts(await teams.press(staff_a, {"purpose": "displays"}))
    assert "Has left the school" in shown and "Must never be published" in shown


async def test_status_shows_removals_to_the_dpo_and_the_poster_only(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a)
    await teams.say(dpo_a, "consent withdrawn for Jack Jones social media")
    clock.advance(timedelta(days=2))
    assert "Removal #1: consent withdrawn, School social media (open 2 days)" in texts(await teams.say(dpo_a, "status"))
    assert "Removal #1" in texts(await teams.say(staff_a, "status"))
    await teams.say(OTHER_STAFF, "hello")
    assert "Removal #1" not in texts(await teams.say(OTHER_STAFF, "status"))
    assert "Removal #1" not in texts(await teams.say(staff_b, "status"))
    shown = await teams.press(dpo_a, {"cmd": "consent.show_task", "task": 1})
    assert "Removal #1: consent withdrawn" in texts(shown) and "Report a breach" in texts(shown)


async def test_replayed_buttons_from_another_school_or_colleague_are_refused(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser, dpo_b: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a)
    await teams.say(dpo_a, "consent withdrawn for Jack Jones social media")
    await teams.say(OTHER_STAFF, "hello")
    replays: list[dict[str, Any]] = [{"cmd": "consent.task_removed", "task": 1}, {"cmd": "consent.show_task", "task": 1},
               {"cmd": "consent.report_breach", "task": 1}, {"cmd": "consent.post_removed", "post": 1},
               {"cmd": "consent.show_post", "post": 1}, {"cmd": "consent.task_removed", "task": "1 OR 1=1"},
               {"cmd": "consent.import_apply", "import": 1}, {"cmd": "consent.import_cancel", "import": 1},
               {"cmd": "consent.keep_task", "task": 1}, {"cmd": "consent.task_kept", "task": 1, "reason": "popular"}]
    for user in (staff_b, dpo_b, OTHER_STAFF):
        for data in replays:
            replies = await teams.press(user, data)
            assert "access" in texts(replies) or "Only your school's DPO" in texts(replies), (user.name, data)
            assert "Sports day" not in texts(replies)
    [task] = await tasks(runtime)
    assert task.done_at is None and (await posts(runtime))[0].removed_at is None


async def test_staff_cannot_change_the_register(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    for command in ("consent withdrawn for Olivia Smith social media", "never publish Olivia Smith - court order",
                    "pupil left Olivia Smith", "record published without consent", "import pupils"):
        replies = await teams.say(staff_a, command)
        assert "Only your school's DPO" in texts(replies), command
