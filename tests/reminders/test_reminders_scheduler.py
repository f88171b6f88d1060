"""The scheduler with the app: catch-up at start, wake-ups, many reminders, two processes, kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from bot.server import RUNTIME, create_app
from config import Settings
from services.clock import SettableClock
from services.reminders import ledger as reminders
from storage.db import make_engine, make_session_factory
from storage.models import Person
from storage.reminder_models import Reminder, ReminderState
from tests.reminders.test_proactive import reference
from tests.reminders.test_reminders import add, reminder_cards, row
from tests.teams.client import TeamsClient, TeamsUser, card_actions
from tests.teams.fake_channel import FakeTeamsChannel
from tests.teams.process import BotProcess

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


async def start_another(settings: Settings, clock: SettableClock) -> TestServer:
    """A second app on the same database (as if another process or a restart)."""
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def scheduled(settings: Settings, clock: SettableClock) -> AsyncIterator[Runtime]:
    """Another app on the test database, with its scheduler running (the first sweep is the catch-up)."""
    server = await start_another(settings.model_copy(update={"scheduler_enabled": True, "sweep_seconds": 3600}), clock)
    yield server.app[RUNTIME]
    await server.close()


async def test_due_while_down_is_sent_once_when_the_bot_starts(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    settings: Settings, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "hello")
    rid = await add(runtime, staff_a, due_at=clock() - timedelta(hours=3))
    before = len(channel.received)
    server = await start_another(settings.model_copy(update={"scheduler_enabled": True}), clock)
    await channel.wait_for(before + 1)
    await server.close()  # waits for the sweep in progress
    assert len(reminder_cards(channel, staff_a)) == 1
    assert (await row(runtime, rid)).state == ReminderState.SENT


async def test_wake_sends_at_once_and_only_once(
    teams: TeamsClient, runtime: Runtime, scheduled: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "hello")
    await add(runtime, staff_a, due_at=clock())
    before = len(channel.received)
    for _ in range(5):
        scheduled.deps.wake_reminders()
    await channel.wait_for(before + 1)
    await scheduled.scheduler.stop()
    assert len(reminder_cards(channel, staff_a)) == 1


async def many_people(runtime: Runtime, teams: TeamsClient, template: TeamsUser, schools: int, each: int) -> list[Person]:
    """`schools` x `each` people whose stored references point at the fake channel (copied from a real one)."""
    real = json.loads(await reference(teams, runtime, template))
    async with runtime.deps.sessions() as session:
        people = []
        for s in range(schools):
            tenant = f"{s:08x}-1111-4000-8000-000000000000"
            for p in range(each):
                aad = f"{s:08x}-2222-4000-8000-{p:012x}"
                ref = {**real, "tenantId": tenant, "conversation": {"conversationType": "personal", "id": f"a:{tenant}-{aad}"},
                       "user": {"id": f"29:{aad}", "aadObjectId": aad}}
                people.append(Person(tenant_id=tenant, aad_id=aad, conversation_reference=json.dumps(ref),
                                     created_at=runtime.deps.clock(), last_seen_at=runtime.deps.clock()))
        session.add_all(people)
        for person in people:
            await reminders.schedule(session, key=f"bulk:{person.aad_id}", tenant_id=person.tenant_id, kind="notice",
                                     recipient_aad_id=person.aad_id, subject_type="test", subject_id=1,
                                     due_at=runtime.deps.clock(), now=runtime.deps.clock(), payload={"title": "Hello"})
        await session.commit()
    return people


def delivered(channel: FakeTeamsChannel, before: int) -> Counter[str]:
    """Reminder cards per conversation since `before`."""
    return Counter(r.conversation_id for r in channel.received[before:] if r.op in ("send", "reply") and r.cards)


async def test_500_reminders_across_many_schools_go_out_once_and_quickly(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser
) -> None:
    people = await many_people(runtime, teams, staff_a, schools=50, each=10)
    before = len(channel.received)
    started = time.monotonic()
    report = await runtime.sweep_reminders()
    elapsed = time.monotonic() - started
    assert report.sent == 500
    counts = delivered(channel, before)
    assert len(counts) == len(people) and set(counts.values()) == {1}
    assert elapsed < 15, f"500 sends took {elapsed:.1f}s"  # no per-tenant limit is reached: nothing waits


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")
async def test_two_processes_on_one_postgresql_deliver_each_reminder_once(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    settings: Settings, staff_a: TeamsUser,
) -> None:
    people = await many_people(runtime, teams, staff_a, schools=25, each=20)
    other = await start_another(settings, clock)
    before = len(channel.received)
    try:
        first, second = await asyncio.gather(runtime.sweep_reminders(), other.app[RUNTIME].sweep_reminders())
    finally:
        await other.close()
    assert first.sent + second.sent == 500
    assert first.sent > 0 and second.sent > 0, "both processes took part"
    counts = delivered(channel, before)
    assert len(counts) == len(people) and set(counts.values()) == {1}


def dpo_notices(channel: FakeTeamsChannel, user: TeamsUser) -> Counter[int]:
    """How many times each reminder (by the id on its Mark done button) reached `user`."""
    return Counter(
        action["data"]["id"] for card in reminder_cards(channel, user) for action in card_actions(card)
        if action["data"].get("cmd") == "reminder.done"
    )


async def add_urgent(settings: Settings, dpo: TeamsUser, original: int, keys: range) -> list[int]:
    """Urgent notices to the DPO, due a minute ago by the real clock, written straight to the database."""
    engine = make_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        async with make_session_factory(engine)() as session:
            for k in keys:
                await reminders.schedule(session, key=f"k9:{k}", tenant_id=dpo.tenant_id, kind=reminders.FAILED_KIND,
                                         recipient_aad_id=dpo.aad_id, subject_type="test", subject_id=k,
                                         due_at=now - timedelta(minutes=1), now=now,
                                         payload={"reminder_id": original, "reason": "failed"})
            await session.commit()
            wanted = [f"k9:{k}" for k in keys]
            query = select(col(Reminder.id)).where(col(Reminder.key).in_(wanted)).order_by(col(Reminder.id))
            found = await session.execute(query)
            return list(found.scalars())
    finally:
        await engine.dispose()


async def test_kill_9_with_reminders_due_then_restart_delivers_each_once(
    runtime: Runtime, teams: TeamsClient, channel: FakeTeamsChannel, clock: SettableClock,
    settings: Settings, tmp_path: Path, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    original = await add(runtime, staff_a, due_at=clock(), key="original")
    env = {"DATABASE_URL": settings.database_url, "DPO_AAD_IDS": ",".join(settings.dpo_aad_ids),
           "SCHEDULER_ENABLED": "true", "REMINDER_SWEEP_SECONDS": "1"}
    bot = BotProcess(workdir=tmp_path, env=env)
    await bot.start()
    try:
        async with aiohttp.ClientSession() as http:
            await TeamsClient(bot.url, channel, http).say(dpo_a, "hello")  # stores the reference to this channel
        first = await add_urgent(settings, dpo_a, original, range(5))
        before = len(channel.received)
        await channel.wait_for(before + len(first), timeout=30)
        bot.kill9()  # perhaps between a send and its stamp
        second = await add_urgent(settings, dpo_a, original, range(5, 10))  # due while the bot is down
        await bot.start()
        await channel.wait_for(before + len(first) + len(second), timeout=30)
        await bot.stop()  # a sweep in progress finishes before the process exits
    finally:
        bot.kill9()
    notices = dpo_notices(channel, dpo_a)
    # The unreachable original may also raise its own failure notice (timing); each is still sent once.
    assert {rid: notices[rid] for rid in first + second} == {rid: 1 for rid in first + second}, bot.logs()[-3000:]
    assert set(notices.values()) == {1}
    for rid in first + second:
        assert (await row(runtime, rid)).state in (ReminderState.SENT, ReminderState.SENDING)
