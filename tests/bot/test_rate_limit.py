"""Abuse limits: messages per person per minute, and the size of one conversation's stored state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlmodel import col

from bot.compat.state_storage import MAX_ITEM_BYTES, SqlStorage, StateTooLarge
from bot.ratelimit import SLOW_DOWN, RateLimiter, Verdict
from bot.runtime import Runtime
from bot.server import RUNTIME, create_app
from config import Settings
from services.clock import SettableClock
from storage.models import BotStateRow, Person
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel

TOO_LONG = "got too long for me to keep track of"


def test_thirty_a_minute_then_one_warning_then_quiet(clock: SettableClock) -> None:
    limiter = RateLimiter(30, clock)
    verdicts = []
    for _ in range(40):
        verdicts.append(limiter.check("a"))
        clock.advance(timedelta(seconds=1))
    assert verdicts == [Verdict.ALLOW] * 30 + [Verdict.WARN] + [Verdict.DROP] * 9
    assert limiter.check("b") is Verdict.ALLOW  # per person


def test_the_window_slides_and_warnings_come_at_most_once_a_minute(clock: SettableClock) -> None:
    limiter = RateLimiter(2, clock)
    assert [limiter.check("a") for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]
    clock.advance(timedelta(seconds=59))
    assert limiter.check("a") is Verdict.DROP
    clock.advance(timedelta(seconds=1))  # the first two are a minute old
    assert [limiter.check("a") for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]


def test_zero_means_no_limit(clock: SettableClock) -> None:
    limiter = RateLimiter(0, clock)
    assert {limiter.check("a") for _ in range(1000)} == {Verdict.ALLOW}


def test_memory_is_bounded(clock: SettableClock) -> None:
    limiter = RateLimiter(30, clock, max_people=100)
    for n in range(1000):
        limiter.check(f"user-{n}")
    assert len(limiter) == 100  # the least recently seen were forgotten
    clock.advance(timedelta(minutes=1))
    limiter.check("someone")
    assert len(limiter) == 1  # idle people are dropped once their minute is over


async def test_a_flooding_user_is_told_once_and_the_rest_is_dropped_unrecorded(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, staff_b: TeamsUser,
) -> None:
    assert runtime.settings.rate_limit_per_minute == 30
    for _ in range(30):
        assert "Custodian can help you with" in texts(await teams.say(staff_a, "help"))
    assert [reply.text for reply in await teams.say(staff_a, "help")] == [SLOW_DOWN]
    renamed = replace(staff_a, name="Renamed While Flooding")
    for _ in range(5):
        assert await teams.say(renamed, "help") == []
    async with runtime.deps.sessions() as session:
        person = (await session.execute(select(Person).where(col(Person.aad_id) == staff_a.aad_id))).scalar_one()
    assert person.name == staff_a.name  # dropped messages were never recorded
    assert "Custodian can help you with" in texts(await teams.say(staff_b, "help"))  # others are unaffected
    clock.advance(timedelta(minutes=1))
    assert "Custodian can help you with" in texts(await teams.say(staff_a, "help"))


async def test_oversized_state_is_refused_and_nothing_of_the_write_is_kept(storage: SqlStorage) -> None:
    await storage.write({"small": {"n": 1}, "other": {"n": 1}})
    huge = {"n": 2, "text": "x" * MAX_ITEM_BYTES}
    with pytest.raises(StateTooLarge):
        await storage.write({"other": {"n": 2}, "small": huge})
    found = await storage.read(["small", "other"])
    assert (found["small"]["n"], found["other"]["n"]) == (1, 1)
    await storage.write({"fits": {"text": "x" * (MAX_ITEM_BYTES - 1024)}})


BREACH_ANSWERS = ["TEXT", "1", "TEXT", "not known", "now", "1", "not known yet", "not known yet", "1", "1", "TEXT", "TEXT", "1"]


async def _report_with(teams: TeamsClient, user: TeamsUser, free_text: str) -> str:
    """Walk `report a breach` to its summary, every free-text answer being `free_text`; the last replies."""
    await teams.say(user, "report a breach")
    replies = []
    for answer in BREACH_ANSWERS:
        replies = await teams.say(user, free_text if answer == "TEXT" else answer)
    return texts(replies)


async def test_a_report_with_every_answer_at_full_length_still_reaches_its_summary(
    teams: TeamsClient, staff_a: TeamsUser,
) -> None:
    last = await _report_with(teams, staff_a, "The letter went to the wrong family. " * 108)  # 3,996 characters
    assert "Please check your report" in last and TOO_LONG not in last


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A lower state limit: cards are capped at 24 KB, so a breach report's state stays near 220 KB at most."""
    return settings.model_copy(update={"max_conversation_state_bytes": 192 * 1024})


async def test_a_conversation_whose_state_outgrows_the_limit_is_ended_not_stored(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    last = await _report_with(teams, staff_a, "\U0001f600" * 3999)  # ~48 KB per answer once escaped
    assert TOO_LONG in last
    async with runtime.deps.sessions() as session:
        sizes = [len(row.data) for row in (await session.execute(select(BotStateRow))).scalars()]
    assert sizes == []  # the conversation's state was dropped, not kept at its last size
    assert "Please check your report" not in texts(await teams.say(staff_a, "send"))  # the dialog is gone
    assert "Custodian can help you with" in texts(await teams.say(staff_a, "help"))


def test_instances_each_keep_their_share_so_together_they_keep_the_limit(settings: Settings) -> None:
    two = settings.model_copy(update={"instances": 2})
    assert [two.share(limit) for limit in (50, 7, 30, 0)] == [25, 3, 15, 0]  # 0 (no limit) stays no limit
    assert [settings.share(limit) for limit in (50, 7, 30)] == [50, 7, 30]
    three = settings.model_copy(update={"instances": 3})
    assert all(three.share(limit) * 3 <= limit for limit in (50, 7, 30))


@pytest.fixture
def two_instances(settings: Settings) -> Settings:
    return settings.model_copy(update={"instances": 2})


async def test_with_two_instances_a_process_lets_a_person_send_half_the_limit(
    two_instances: Settings, clock: SettableClock, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    app = create_app(two_instances, clock=clock)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        teams = TeamsClient(str(server.make_url("/")), channel, http)
        for _ in range(15):
            assert "Custodian can help you with" in texts(await teams.say(staff_a, "help"))
        assert [reply.text for reply in await teams.say(staff_a, "help")] == [SLOW_DOWN]
        limiter = app[RUNTIME].sender.limiter
        assert limiter is not None and limiter._windows == {  # proactive sends: half of each of Teams' limits
            "c": ((3, 1.0), (4, 2.0), (30, 30.0), (900, 3600.0)), "t": ((25, 1.0),)}
