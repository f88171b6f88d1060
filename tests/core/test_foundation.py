"""Foundation behaviour as users meet it: turns, state, privacy in logs, the terminal chat."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from bot.server import create_app
from config import Settings
from services.clock import SettableClock
from services.identity import mark_unreachable
from storage.models import Organisation, Person, RoleGrant
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel
from tests.teams.process import ROOT


async def test_first_message_records_school_person_and_reference(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime
) -> None:
    await teams.say(staff_a, "help")
    async with runtime.deps.sessions() as session:
        org = (await session.execute(select(Organisation))).scalar_one()
        person = (await session.execute(select(Person).where(col(Person.conversation_reference).is_not(None)))).scalar_one()
    assert org.tenant_id == staff_a.tenant_id
    assert person.aad_id == staff_a.aad_id and person.name == "Megan Bowen"
    assert person.conversation_reference is not None
    assert staff_a.conversation_id in person.conversation_reference
    assert staff_a.tenant_id in person.conversation_reference


async def test_a_returning_person_is_brought_up_to_date(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime, clock: SettableClock
) -> None:
    async def stored() -> Person:
        async with runtime.deps.sessions() as session:
            return (await session.execute(select(Person).where(col(Person.conversation_reference).is_not(None)))).scalar_one()

    await teams.say(staff_a, "help")
    first_seen, person_id = clock(), (await stored()).id
    assert person_id is not None
    async with runtime.deps.sessions() as session:  # a reminder to her was refused: she had removed the bot
        await mark_unreachable(session, person_id=person_id, now=clock())
        await session.commit()
    clock.advance(timedelta(minutes=10))
    renamed = TeamsUser("Megan Bowen-Smith", staff_a.aad_id, staff_a.tenant_id)
    again = teams.message(renamed, "help")
    again["conversation"]["id"] = "a:personal-reinstalled"  # she added the bot again: a new 1:1 chat
    await teams.send(again)
    person = await stored()
    assert person.name == "Megan Bowen-Smith" and person.unreachable_at is None
    assert "a:personal-reinstalled" in (person.conversation_reference or "")
    assert person.last_seen_at == first_seen  # seen 10 minutes ago: not rewritten for that alone
    clock.advance(timedelta(minutes=31))
    await teams.send(teams.message(renamed, "help") | {"conversation": again["conversation"]})
    assert (await stored()).last_seen_at == clock()


async def test_dpo_from_settings_gets_the_role_in_their_school_only(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, runtime: Runtime
) -> None:
    await teams.say(dpo_a, "help")
    await teams.say(staff_a, "help")
    async with runtime.deps.sessions() as session:
        grants = list((await session.execute(select(RoleGrant))).scalars())
    assert [(g.tenant_id, g.aad_id, g.role) for g in grants] == [(dpo_a.tenant_id, dpo_a.aad_id, "dpo")]


async def test_welcome_once_on_install(teams: TeamsClient, staff_a: TeamsUser) -> None:
    install = teams.from_file("conversationUpdate_bot_installed_personal_docs_ADAPTED.json", staff_a)
    update = teams.from_file("installationUpdate_add_team_docs.json", staff_a)
    first = await teams.send(install)
    second = await teams.send(update)
    assert "Hello, I'm Custodian" in texts(first)
    assert second == []


async def test_concurrent_turns_in_one_conversation_all_answered(teams: TeamsClient, staff_a: TeamsUser) -> None:
    before = len(teams.channel.received)
    results = await asyncio.gather(*(teams.post(teams.message(staff_a, "help")) for _ in range(12)))
    assert all(status < 300 for status, _ in results)
    replies = teams.channel.received[before:]
    assert len(replies) == 12
    assert all("Report a breach" in texts([r]) for r in replies)


async def test_more_turns_than_slots_wait_and_are_all_answered(
    settings: Settings, clock: SettableClock, channel: FakeTeamsChannel, staff_a: TeamsUser, staff_b: TeamsUser
) -> None:
    settings.max_concurrent_turns = 1
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            teams = TeamsClient(str(server.make_url("/")), channel, http)
            users = [staff_a, staff_b] * 4
            results = await asyncio.gather(*(teams.post(teams.message(user, "help")) for user in users))
    finally:
        await server.close()
    assert [status for status, _ in results] == [201] * 8
    assert sorted(r.conversation_id for r in channel.received) == sorted(u.conversation_id for u in users)


async def test_logs_carry_no_names_or_message_text(
    teams: TeamsClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person = TeamsUser("Zebedee Quillfeather", "99999999-0000-4000-8000-000000000999", "cccccccc-0000-4000-8000-00000000000c")
    await teams.say(person, "I emailed Zebedee's SEN report about Xanthippe to the wrong parent")
    await teams.say(person, "purple Xanthippe elephants")
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert caplog.records, "expected some log records to check"
    for secret in ("Zebedee", "Quillfeather", "Xanthippe", "wrong parent"):
        assert secret not in logged


def test_terminal_chat_answers_help_and_cancel(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
           "SCHEDULER_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.chat"], input="help\ncancel\n/quit\n", capture_output=True, text=True,
        cwd=tmp_path, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Report a breach" in done.stdout
    assert "nothing to cancel" in done.stdout
