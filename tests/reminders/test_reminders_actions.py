"""Reminder cards and their snooze / done buttons, pressed through Teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from dialogs.reminders.cards import reminder_card, time_left_text
from services.clock import SettableClock
from services.reminders import ledger as reminders
from storage.reminder_models import Reminder, ReminderState
from tests.reminders.test_reminders import add, reminder_cards, row
from tests.support.card_schema import assert_valid_card
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel


def buttons(card: dict) -> list[str]:
    return [action["title"] for action in card_actions(card)]


def test_reminder_card_says_why_what_and_when_with_next_steps() -> None:
    content = reminder_card(
        why="You're the DPO for St Mary's.", about="Breach BR-12: report to the ICO", time_left="5 hours left",
        body=[{"type": "TextBlock", "text": "Lost laptop", "wrap": True}],
        actions=[{"type": "Action.Submit", "title": "Open BR-12", "data": {"cmd": "breach.open", "id": 12}}],
        reminder_id=41, snoozable=True,
    )
    assert_valid_card(content)
    assert [block["text"] for block in content["body"] if block["type"] == "TextBlock"] == [
        "Breach BR-12: report to the ICO", "You're the DPO for St Mary's.", "\u23f0 5 hours left", "Lost laptop",
    ]
    assert buttons(content) == ["Open BR-12", "Snooze 1 hour", "Tomorrow morning", "Mark done"]
    assert card_actions(content)[1]["data"] == {"cmd": "reminder.snooze", "id": 41, "for": "hour"}
    assert card_actions(content)[3]["data"] == {"cmd": "reminder.done", "id": 41}
    assert content["fallbackText"] == "Breach BR-12: report to the ICO"


def test_unsnoozable_card_has_no_snooze_and_overdue_is_highlighted() -> None:
    content = reminder_card(why="w", about="a", time_left="overdue by 2 hours", body=[], actions=[],
                            reminder_id=1, snoozable=False)
    assert_valid_card(content)
    assert buttons(content) == ["Mark done"]
    assert content["body"][2]["color"] == "Attention"


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=2, hours=3, minutes=10), "2 days 3 hours left"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute left"),
        (timedelta(minutes=45), "45 minutes left"),
        (timedelta(seconds=20), "less than a minute left"),
        (timedelta(hours=-5), "overdue by 5 hours"),
        (timedelta(days=-1), "overdue by 1 day"),
    ],
)
def test_time_left_text(left: timedelta, expected: str) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert time_left_text(now + left, now) == expected


async def test_snooze_an_hour_sends_the_same_reminder_again_an_hour_later(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    await runtime.sweep_reminders()
    [sent] = channel.to(staff_a.conversation_id)[-1:]
    reply = texts(await teams.press(staff_a, {"cmd": "reminder.snooze", "id": rid, "for": "hour"}, on=sent))
    assert "I'll remind you again Wed 25 Nov 2026, 11:00" in reply
    [shown] = [m for m in channel.current(staff_a.conversation_id) if m.id == sent.id]  # the pressed card, in place
    assert "Snoozed: I'll remind you again Wed 25 Nov 2026, 11:00" in texts([shown])
    assert not [a for card in shown.cards for a in card_actions(card)]
    snoozed = await row(runtime, rid)
    assert (snoozed.state, snoozed.due_at) == (ReminderState.PENDING, clock() + timedelta(hours=1))
    clock.advance(timedelta(minutes=59))
    assert (await runtime.sweep_reminders()).sent == 0
    clock.advance(timedelta(minutes=1))
    assert (await runtime.sweep_reminders()).sent == 1
    assert len(reminder_cards(channel, staff_a)) == 2


async def test_snooze_until_tomorrow_morning(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    await runtime.sweep_reminders()
    reply = texts(await teams.press(staff_a, {"cmd": "reminder.snooze", "id": rid, "for": "tomorrow"}))
    assert "Thu 26 Nov 2026, 08:00" in reply
    assert (await row(runtime, rid)).due_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


async def test_done_stops_the_rest_of_that_kind_about_that_item(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    first = await add(runtime, staff_a, due_at=clock(), key="first")
    later = await add(runtime, staff_a, due_at=clock() + timedelta(days=1), key="later")
    other_item = await add(runtime, staff_a, due_at=clock() + timedelta(days=1), key="other", subject_id="8")
    await runtime.sweep_reminders()
    [sent] = channel.to(staff_a.conversation_id)[-1:]
    reply = texts(await teams.press(staff_a, {"cmd": "reminder.done", "id": first}, on=sent))
    assert "won't remind you about this again" in reply
    [shown] = [m for m in channel.current(staff_a.conversation_id) if m.id == sent.id]
    assert "Marked done on Wed 25 Nov 2026, 10:00" in texts([shown]) and "Mark done" not in texts([shown])
    assert (await row(runtime, later)).state == ReminderState.CANCELLED
    assert (await row(runtime, other_item)).state == ReminderState.PENDING
    clock.advance(timedelta(days=1))
    assert (await runtime.sweep_reminders()).sent == 1


async def test_someone_else_pressing_your_reminder_is_politely_refused(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock() + timedelta(days=1))
    for intruder in (dpo_a, staff_b):
        for cmd in ("reminder.snooze", "reminder.done"):
            reply = texts(await teams.press(intruder, {"cmd": cmd, "id": rid, "for": "hour"}))
            assert "isn't yours" in reply
            assert "Check the shared drive" not in reply
    unchanged = await row(runtime, rid)
    assert (unchanged.state, unchanged.due_at) == (ReminderState.PENDING, clock() + timedelta(days=1))


async def test_a_replayed_button_from_another_school_with_a_school_field_is_refused(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, staff_b: TeamsUser
) -> None:
    rid = await add(runtime, staff_a, due_at=clock())
    reply = texts(await teams.press(staff_b, {"cmd": "reminder.done", "id": rid, "school": staff_a.tenant_id}))
    assert "access" in reply or "isn't yours" in reply
    assert (await row(runtime, rid)).state == ReminderState.PENDING


async def test_urgent_kinds_cannot_be_snoozed_and_junk_ids_are_handled(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "hello")
    rid = await add(runtime, dpo_a, due_at=clock(), kind=reminders.FAILED_KIND)
    reply = texts(await teams.press(dpo_a, {"cmd": "reminder.snooze", "id": rid, "for": "hour"}))
    assert "can't be snoozed" in reply
    assert "no longer available" in texts(await teams.press(dpo_a, {"cmd": "reminder.done", "id": "x"}))
    assert "isn't yours" in texts(await teams.press(dpo_a, {"cmd": "reminder.done", "id": 99999}))


async def test_snoozing_a_reminder_that_no_longer_applies(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    async with runtime.deps.sessions() as session:
        await reminders.cancel(session, tenant_id=staff_a.tenant_id, subject_type="test", subject_id=7)
        await session.commit()
    assert "no longer applies" in texts(await teams.press(staff_a, {"cmd": "reminder.snooze", "id": rid, "for": "hour"}))
    async with runtime.deps.sessions() as session:
        states = (await session.execute(select(col(Reminder.state)))).scalars().all()
    assert states == [ReminderState.CANCELLED]
