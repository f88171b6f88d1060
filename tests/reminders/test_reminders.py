"""The reminder engine end to end: schedule, move the clock, sweep, read what the fake Teams channel got."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime import Runtime
from bot.scheduler import ReminderEngine
from config import Settings
from dialogs.feature import ReminderKind
from dialogs.kit.replies import card_activity
from dialogs.reminders.actions import NOTICE_KIND, render_notice
from services.clock import SettableClock
from services.reminders import ledger as reminders
from services.reminders import sweep
from storage.models import Person
from storage.reminder_models import Reminder, ReminderState
from tests.conftest import SCHOOL_A
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Limits

SECOND_DPO_A = TeamsUser("Sam Okafor", "d0d0d0d0-0000-4000-8000-0000000000a2", SCHOOL_A)
URGENT = ReminderKind(render=render_notice, urgent=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """School A has two DPOs; a reminder is given up after 3 attempts."""
    return settings.model_copy(update={"dpo_aad_ids": [*settings.dpo_aad_ids, f"{SCHOOL_A}:{SECOND_DPO_A.aad_id}"],
                                       "reminder_max_attempts": 3})


class Waits:
    """Records the sender's retry waits instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits(runtime: Runtime) -> Waits:
    recorder = Waits()
    runtime.sender.sleep = recorder
    return recorder


async def add(runtime: Runtime, user: TeamsUser, *, due_at: datetime, key: str = "r1", kind: str = NOTICE_KIND,
              subject_id: str = "7", title: str = "Check the shared drive") -> int:
    """Schedule a reminder for `user` and commit; returns its id."""
    async with runtime.deps.sessions() as session:
        await reminders.schedule(
            session, key=key, tenant_id=user.tenant_id, kind=kind, recipient_aad_id=user.aad_id,
            subject_type="test", subject_id=subject_id, due_at=due_at, now=runtime.deps.clock(),
            payload={"title": title, "text": "Tidy old files.", "why": "You asked to be reminded."},
        )
        await session.commit()
        found = (await session.execute(select(col(Reminder.id)).where(col(Reminder.key) == key))).scalar_one()
        assert found is not None
        return found


async def row(runtime: Runtime, reminder_id: int) -> Reminder:
    async with runtime.deps.sessions() as session:
        found = await session.get(Reminder, reminder_id)
        assert found is not None
        return found


def reminder_cards(channel: FakeTeamsChannel, user: TeamsUser) -> list[dict[str, Any]]:
    """Reminder cards (those with a 'Mark done' button) sent into `user`'s chat."""
    return [
        card for sent in channel.to(user.conversation_id) for card in sent.cards
        if any(action.get("data", {}).get("cmd") == "reminder.done" for action in card_actions(card))
    ]


def engine_with(runtime: Runtime, **kinds: ReminderKind) -> ReminderEngine:
    """The runtime's engine plus extra (test) reminder kinds."""
    e = runtime.reminders
    return ReminderEngine(e.sessions, e.sender, {**e.kinds, **kinds}, quiet=e.quiet, max_attempts=e.max_attempts)


async def test_due_reminder_is_sent_once_at_its_time(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock() + timedelta(hours=1))
    assert (await runtime.sweep_reminders()).sent == 0
    clock.advance(timedelta(hours=1))
    assert (await runtime.sweep_reminders()).sent == 1
    assert (await runtime.sweep_reminders()).total == 0
    cards = reminder_cards(channel, staff_a)
    assert len(cards) == 1 and cards[0]["body"][0]["text"] == "Check the shared drive"
    assert channel.to(staff_a.conversation_id)[-1].activity.get("summary") == "Check the shared drive"
    stamped = await row(runtime, rid)
    assert (stamped.state, stamped.sent_at, stamped.attempts) == (ReminderState.SENT, clock(), 1)


async def test_cancelled_reminders_are_not_sent(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    await add(runtime, staff_a, due_at=clock())
    async with runtime.deps.sessions() as session:
        assert await reminders.cancel(session, tenant_id=staff_a.tenant_id, subject_type="test", subject_id=7) == 1
        await session.commit()
    assert (await runtime.sweep_reminders()).total == 0
    assert reminder_cards(channel, staff_a) == []


async def test_a_crash_between_send_and_stamp_never_sends_twice(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    # A process claims the reminder, sends it, and dies before stamping the result.
    async with runtime.deps.sessions() as session:
        [claimed] = await sweep.claim_due(session, now=clock(), worker="dead-process", kinds=None, limit=10)
        card = await render_notice(session, claimed, clock())
        person = await reminders.recipient_of(session, claimed)
    assert card is not None and person is not None and person.conversation_reference
    assert (await runtime.sender.send(person.conversation_reference, card_activity(card))).ok
    assert (await runtime.sweep_reminders()).total == 0  # still claimed: not sent again
    clock.advance(sweep.SENDING_TIMEOUT)
    report = await runtime.sweep_reminders()
    assert (report.reconciled, report.sent) == (1, 0)
    assert (await runtime.sweep_reminders()).total == 0
    assert len(reminder_cards(channel, staff_a)) == 1
    stamped = await row(runtime, rid)
    assert stamped.state == ReminderState.SENT and "unconfirmed" in (stamped.last_error or "")


async def test_429_with_retry_after_is_honoured_and_sent_once(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, waits: Waits,
) -> None:
    await teams.say(staff_a, "hello")
    await add(runtime, staff_a, due_at=clock())
    channel.fail_next(429, times=2, retry_after="2", conversation_id=staff_a.conversation_id)
    assert (await runtime.sweep_reminders()).sent == 1
    assert waits.seconds == [2.0, 2.0]
    assert len(reminder_cards(channel, staff_a)) == 1


async def test_503_then_success(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, waits: Waits,
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    channel.fail_next(503, conversation_id=staff_a.conversation_id)
    assert (await runtime.sweep_reminders()).sent == 1
    assert len(waits.seconds) == 1 and 0.5 <= waits.seconds[0] <= 1.0
    assert len(reminder_cards(channel, staff_a)) == 1
    assert (await row(runtime, rid)).attempts == 1


async def test_503_across_sweeps_until_max_attempts_then_failed_and_dpos_told(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, dpo_a: TeamsUser, waits: Waits,
) -> None:
    for user in (staff_a, dpo_a, SECOND_DPO_A):
        await teams.say(user, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    channel.fail_next(503, times=1000, conversation_id=staff_a.conversation_id)
    assert (await runtime.sweep_reminders()).retry == 1
    waiting = await row(runtime, rid)
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == ("pending", 1, clock() + timedelta(minutes=1))
    assert (await runtime.sweep_reminders()).total == 0  # backing off
    clock.advance(timedelta(minutes=1))
    assert (await runtime.sweep_reminders()).retry == 1
    clock.advance(timedelta(minutes=2))
    report = await runtime.sweep_reminders()
    assert (report.failed, report.sent) == (1, 2)  # given up; both DPOs told in the same sweep
    assert (await row(runtime, rid)).state == ReminderState.FAILED
    assert reminder_cards(channel, staff_a) == []
    for dpo in (dpo_a, SECOND_DPO_A):
        told = texts(channel.to(dpo.conversation_id))
        assert "A reminder could not be delivered" in told and staff_a.name in told and "kept refusing" in told
    assert (await runtime.sweep_reminders()).total == 0


async def test_403_marks_staff_unreachable_and_tells_the_dpos(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    for user in (staff_a, dpo_a):
        await teams.say(user, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    channel.fail_next(403, conversation_id=staff_a.conversation_id)
    report = await runtime.sweep_reminders()
    assert (report.unreachable, report.sent) == (1, 1)
    assert (await row(runtime, rid)).state == ReminderState.UNREACHABLE
    assert "blocked or removed Custodian" in texts(channel.to(dpo_a.conversation_id))
    async with runtime.deps.sessions() as session:
        person = (await session.execute(select(Person).where(col(Person.aad_id) == staff_a.aad_id))).scalar_one()
    assert person.unreachable_at == clock()


async def test_403_to_a_dpo_goes_to_the_next_dpo_instead(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    for user in (dpo_a, SECOND_DPO_A):
        await teams.say(user, "hello")
    rid = await add(runtime, dpo_a, due_at=clock(), title="Breach BR-3: 24 hours left")
    channel.fail_next(403, conversation_id=dpo_a.conversation_id)
    report = await runtime.sweep_reminders()
    assert (report.unreachable, report.sent) == (1, 1)
    [card] = reminder_cards(channel, SECOND_DPO_A)
    assert card["body"][0]["text"] == "Breach BR-3: 24 hours left"
    async with runtime.deps.sessions() as session:
        query = select(Reminder).where(col(Reminder.recipient_aad_id) == SECOND_DPO_A.aad_id)
        handover = (await session.execute(query)).scalar_one()
    assert handover.key == f"handover:{rid}:{SECOND_DPO_A.aad_id}" and handover.state == ReminderState.SENT
    assert (await runtime.sweep_reminders()).total == 0


async def test_someone_who_never_wrote_to_the_bot_is_unreachable(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock())
    assert (await runtime.sweep_reminders()).unreachable == 1
    assert (await row(runtime, rid)).last_error == "no conversation reference"
    assert "A reminder could not be delivered" in texts(channel.to(dpo_a.conversation_id))


async def test_unknown_kind_fails_and_a_renderer_saying_none_cancels(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    unknown = await add(runtime, staff_a, due_at=clock(), key="u", kind="no.such.kind")
    gone = await add(runtime, staff_a, due_at=clock(), key="g", kind="gone")

    async def no_longer_applies(*_: object) -> None:
        return None

    report = await engine_with(runtime, gone=ReminderKind(render=no_longer_applies)).sweep(clock())
    assert (report.failed, report.cancelled, report.sent) == (1, 1, 0)
    assert (await row(runtime, unknown)).last_error == "unknown kind"
    assert (await row(runtime, gone)).state == ReminderState.CANCELLED
    assert reminder_cards(channel, staff_a) == []


async def test_a_renderer_that_fails_fails_its_reminder_only(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    broken = await add(runtime, staff_a, due_at=clock(), key="b", kind="broken")
    fine = await add(runtime, staff_a, due_at=clock() + timedelta(seconds=1), key="f", title="Still sent")

    async def broken_renderer(session: AsyncSession, *_: object) -> None:
        await session.execute(text("SELECT * FROM no_such_table"))  # a database error, mid-batch

    report = await engine_with(runtime, broken=ReminderKind(render=broken_renderer)).sweep(clock() + timedelta(seconds=1))
    assert (report.failed, report.sent) == (1, 1)
    assert (await row(runtime, broken)).last_error == "render error"
    assert (await row(runtime, fine)).state == ReminderState.SENT
    assert "Still sent" in texts(channel.to(staff_a.conversation_id))


async def test_quiet_hours_hold_routine_reminders_but_not_urgent_ones(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # Thursday 02:00 in London
    await add(runtime, staff_a, due_at=clock(), key="routine", title="Routine")
    await add(runtime, staff_a, due_at=clock(), key="urgent", kind="urgent", title="Urgent")
    engine = engine_with(runtime, urgent=URGENT)
    assert (await engine.sweep(clock())).sent == 1
    clock.set(datetime(2026, 11, 26, 7, 59, tzinfo=UTC))
    assert (await engine.sweep(clock())).sent == 0
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert (await engine.sweep(clock())).sent == 1
    assert [card["body"][0]["text"] for card in reminder_cards(channel, staff_a)] == ["Urgent", "Routine"]


async def test_weekends_and_summer_time_are_respected(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    clock.set(datetime(2027, 6, 4, 16, 59, tzinfo=UTC))  # Friday 17:59 BST
    await add(runtime, staff_a, due_at=clock() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))  # 18:00 BST: quiet
    assert (await runtime.sweep_reminders()).sent == 0
    clock.set(datetime(2027, 6, 5, 10, 0, tzinfo=UTC))  # Saturday
    assert (await runtime.sweep_reminders()).sent == 0
    clock.set(datetime(2027, 6, 7, 6, 59, tzinfo=UTC))  # Monday 07:59 BST
    assert (await runtime.sweep_reminders()).sent == 0
    clock.set(datetime(2027, 6, 7, 7, 0, tzinfo=UTC))  # Monday 08:00 BST
    assert (await runtime.sweep_reminders()).sent == 1


async def test_per_conversation_limit_keeps_teams_from_answering_429(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser
) -> None:
    await teams.say(staff_a, "hello")
    channel.limits = Limits()  # Teams' own limits: 7/s per conversation, 50/s per tenant
    for i in range(9):
        await add(runtime, staff_a, due_at=clock(), key=f"r{i}", subject_id=str(i))
    assert (await runtime.sweep_reminders()).sent == 9
    assert channel.rejected_429 == 0
    assert len(reminder_cards(channel, staff_a)) == 9
