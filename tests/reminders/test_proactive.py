"""The proactive sender against the fake Teams channel, and the send limiter on a fake clock."""

from __future__ import annotations

import json
import logging
import random

import pytest
from botbuilder.core import MessageFactory
from sqlalchemy import select
from sqlmodel import col

from bot.logs import JsonFormatter
from bot.proactive import MAX_WAIT_SECONDS, ProactiveSender, SendLimiter
from bot.runtime import Runtime
from storage.models import Person
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import FakeTeamsChannel


class Waits:
    """Records the sender's waits instead of sleeping."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def reference(teams: TeamsClient, runtime: Runtime, user: TeamsUser) -> str:
    """The conversation reference the bot stored when `user` last wrote to it."""
    await teams.say(user, "hello")
    async with runtime.deps.sessions() as session:
        found = await session.execute(select(col(Person.conversation_reference)).where(col(Person.aad_id) == user.aad_id))
        return str(found.scalar_one())


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def sender(runtime: Runtime, waits: Waits) -> ProactiveSender:
    return ProactiveSender(runtime.adapter, runtime.settings.app_id, sleep=waits)


async def test_sends_into_the_stored_conversation(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, sender: ProactiveSender
) -> None:
    ref = await reference(teams, runtime, staff_a)
    before = len(channel.to(staff_a.conversation_id))
    result = await sender.send(ref, MessageFactory.text("Your post comes down today"))
    assert result.ok and result.status == 200
    sent = channel.to(staff_a.conversation_id)[before:]
    assert [r.text for r in sent] == ["Your post comes down today"]
    assert sent[0].activity["recipient"]["aadObjectId"] == staff_a.aad_id


async def test_429_waits_as_long_as_retry_after_says(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    before = len(channel.received)
    channel.fail_next(429, times=2, retry_after="3")
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert result.ok
    assert waits.seconds == [3.0, 3.0]
    assert len(channel.received) == before + 1


async def test_a_long_retry_after_is_left_to_a_later_sweep(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(429, retry_after=str(int(MAX_WAIT_SECONDS) + 90))
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert not result.ok and result.retryable and result.status == 429
    assert result.retry_after == MAX_WAIT_SECONDS + 90
    assert waits.seconds == []


@pytest.mark.parametrize("status", [412, 502, 503, 504])
async def test_channel_trouble_is_retried_with_growing_jittered_backoff(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits, status: int,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(status, times=3)
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert result.ok
    assert len(waits.seconds) == 3
    for attempt, wait in enumerate(waits.seconds):
        assert 0.5 * 2**attempt <= wait <= 2**attempt


async def test_gives_up_after_its_tries_and_says_why(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(503, times=10)
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert (result.ok, result.status, result.retryable, result.error) == (False, 503, True, "Status503")
    assert len(waits.seconds) == sender.tries - 1


async def test_403_is_unreachable_and_not_retried(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(403, times=5)
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert result.unreachable and not result.retryable and result.status == 403
    assert waits.seconds == []
    assert len(channel.faults) == 4


async def test_other_client_errors_are_final(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(400, times=5)
    result = await sender.send(ref, MessageFactory.text("hi"))
    assert not result.ok and not result.retryable and not result.unreachable
    assert waits.seconds == []


async def test_a_channel_that_does_not_answer_is_retryable_not_raised(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, sender: ProactiveSender,
) -> None:
    ref = json.loads(await reference(teams, runtime, staff_a))
    ref["serviceUrl"] = "http://127.0.0.1:9/"  # nothing listens on the discard port
    result = await sender.send(json.dumps(ref), MessageFactory.text("hi"))
    assert not result.ok and result.status == 0 and result.retryable


class FakeTime:
    """Monotonic time that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def busiest_second(times: list[float]) -> int:
    """The most sends that fall within any 1-second window."""
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


async def test_limiter_keeps_seven_per_second_per_conversation() -> None:
    time = FakeTime()
    limiter = SendLimiter(((7, 1.0),), ((50, 1.0),), time=time, sleep=time.sleep)
    times = []
    for _ in range(30):
        async with limiter.slot("school-a", "chat-1"):
            times.append(time.now)
    assert busiest_second(times) == 7
    assert times[-1] == 4.0  # no slower than it must be: 7 + 7 + 7 + 7 + 2


async def test_limiter_keeps_fifty_per_second_per_tenant_across_conversations() -> None:
    time = FakeTime()
    limiter = SendLimiter(((7, 1.0),), ((50, 1.0),), time=time, sleep=time.sleep)
    times = []
    for i in range(120):
        async with limiter.slot("school-a", f"chat-{i}"):
            times.append(time.now)
    assert busiest_second(times) == 50
    other = []
    for i in range(50):
        async with limiter.slot("school-b", f"chat-{i}"):
            other.append(time.now)
    assert other == [time.now] * 50  # another school is not held up by school A's traffic


async def test_sends_slow_on_their_way_never_put_more_than_fifty_in_teams_window() -> None:
    """Teams counts a send when it arrives: anywhere between being let go and answered."""
    time = FakeTime()
    limiter = SendLimiter(((7, 1.0),), ((50, 1.0),), time=time, sleep=time.sleep)
    chance = random.Random(7)
    arrivals = []
    for i in range(400):
        async with limiter.slot("school-a", f"chat-{i}"):
            took = chance.choice([0.001, 0.002, 0.004, 0.05])  # now and then one is held up (busy loop, network)
            arrivals.append(time.now + chance.random() * took)
            await time.sleep(took)
    assert busiest_second(sorted(arrivals)) <= 50
    assert len(arrivals) / time.now > 40  # and it still goes close to the limit


async def test_an_activity_that_cannot_be_sent_is_logged_by_id_only(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, caplog: pytest.LogCaptureFixture,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    broken = MessageFactory.text("Jo Bloggs's photo is on the website")
    broken.entities = [{"type": "mention", "text": "<at>Jo Bloggs</at>"}]  # a dict, not an Entity: msrest's error quotes it
    caplog.set_level(logging.INFO)
    result = await sender.send(ref, broken)
    assert (result.ok, result.error) == (False, "UnexpectedError")
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)  # as the bot writes its log
    assert staff_a.conversation_id in logged and "SerializationError" in logged
    assert "Jo Bloggs" not in logged


@pytest.mark.parametrize("code", [None, "ConversationBlockedByUser"])
async def test_error_answers_with_or_without_a_body_are_read_the_same(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
    sender: ProactiveSender, waits: Waits, code: str | None,
) -> None:
    ref = await reference(teams, runtime, staff_a)
    channel.fail_next(403, code=code)
    blocked = await sender.send(ref, MessageFactory.text("hi"))
    assert (blocked.ok, blocked.status, blocked.unreachable) == (False, 403, True)
    channel.fail_next(429, retry_after="2", code=None if code is None else "TooManyRequests")
    assert (await sender.send(ref, MessageFactory.text("hi"))).ok and waits.seconds == [2.0]
    channel.empty_answers = True  # 202 with no body is a success too
    assert (await sender.send(ref, MessageFactory.text("hi"))).ok
