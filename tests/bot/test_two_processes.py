"""Two real `app.py` processes on one PostgreSQL, every activity delivered to both at once, one killed (kill -9) and
restarted mid-run: every dialog completes, nothing is duplicated or lost, and each DPO alert is sent exactly once."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlmodel import col

from config import Settings
from storage.breach_models import Breach
from storage.db import make_engine, make_session_factory
from storage.reminder_models import Reminder
from tests.conftest import SCHOOL_A
from tests.support.breach import ANSWERS
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel
from tests.teams.process import BotProcess

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="several app processes need PostgreSQL")

STAFF = [TeamsUser(f"Staff {n}", f"5a5a5a5a-0000-4000-8000-{n:012d}", SCHOOL_A) for n in range(8)]
# Real time in the subprocesses: answers that hold whatever the date.
STEPS = {**ANSWERS, "happened_at": ("press", "not known"), "aware_at": ("press", "now")}
KILL_AT = 6  # the step at which the second process is killed, with other conversations' turns in flight
REFERENCE = re.compile(r"Your reference is (BR-\d{4}-\d{4})")


class Cluster:
    """Delivers each activity to every live process at once (a duplicated delivery), like a retrying channel
    behind a load balancer; when no delivery succeeded it delivers again. Records every failed delivery."""

    def __init__(self, bots: list[BotProcess], http: aiohttp.ClientSession) -> None:
        self.bots = bots
        self.http = http
        self.down: set[int] = set()
        self.failures: list[tuple[int, str, bool]] = []  # (process, what, while one was down)

    async def deliver(self, activity: dict[str, Any]) -> None:
        while True:
            live = [i for i in range(len(self.bots)) if i not in self.down]
            if any(await asyncio.gather(*(self._post(i, activity) for i in live))):
                return

    async def _post(self, i: int, activity: dict[str, Any]) -> bool:
        killed = bool(self.down)
        try:
            async with self.http.post(f"{self.bots[i].url}/api/messages", json=activity) as response:
                if response.status < 300:
                    return True
                self.failures.append((i, f"HTTP {response.status}", killed or bool(self.down)))
        except aiohttp.ClientError as error:
            self.failures.append((i, type(error).__name__, killed or bool(self.down)))
        return False


async def _dialog(cluster: Cluster, teams: TeamsClient, user: TeamsUser, kill: asyncio.Event) -> None:
    await cluster.deliver(teams.message(user, "report a breach"))
    for step, (key, (how, value)) in enumerate(STEPS.items()):
        if step == KILL_AT:
            kill.set()
        said = teams.message(user, value) if how == "say" else teams.message(user, None, {"q": key, "answer": value})
        await cluster.deliver(said)
    await cluster.deliver(teams.message(user, None, {"q": "summary", "nav": "confirm"}))


async def _kill_and_restart(cluster: Cluster, kill: asyncio.Event) -> None:
    await kill.wait()
    cluster.down.add(1)
    cluster.bots[1].kill9()
    await cluster.bots[1].start()
    cluster.down.discard(1)


async def test_two_processes_lose_nothing_and_duplicate_nothing(
    settings: Settings, channel: FakeTeamsChannel, dpo_a: TeamsUser, tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": settings.database_url, "DPO_AAD_IDS": ",".join(settings.dpo_aad_ids), "INSTANCES": "2",
           "SCHEDULER_ENABLED": "true", "REMINDER_SWEEP_SECONDS": "1", "RATE_LIMIT_PER_MINUTE": "120"}
    bots = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        bots.append(BotProcess(workdir=tmp_path / name, env=env))
    await asyncio.gather(*(bot.start() for bot in bots))  # both migrate at once: one does, the other waits
    try:
        async with aiohttp.ClientSession() as http:
            cluster, teams, kill = Cluster(bots, http), TeamsClient(bots[0].url, channel, http), asyncio.Event()
            await cluster.deliver(teams.message(dpo_a, "help"))  # the DPO can be alerted
            await asyncio.gather(_kill_and_restart(cluster, kill), *(_dialog(cluster, teams, user, kill) for user in STAFF))
            references = []
            for user in STAFF:
                said = texts(channel.to(user.conversation_id))
                assert "went wrong" not in said
                assert len(REFERENCE.findall(said)) == 1, said[-3000:]
                references += REFERENCE.findall(said)

            def alerts() -> list[str]:
                return [ref for r in channel.to(dpo_a.conversation_id) for ref in references
                        if f"New breach reported: {ref}" in texts([r])]

            await channel.wait_until(lambda: len(alerts()) >= len(STAFF), timeout=20)
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))
    assert len(set(references)) == len(STAFF)
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            stored = (await session.execute(select(col(Breach.reference), col(Breach.reporter_aad_id)))).all()
            alert_states = select(col(Reminder.state)).where(col(Reminder.kind) == "breach.alert")
            sent = (await session.execute(alert_states)).scalars().all()
    finally:
        await engine.dispose()
    assert sorted(stored) == sorted(zip(references, [u.aad_id for u in STAFF], strict=True)), "one breach per dialog"
    assert sent == ["sent"] * len(STAFF), "every alert stamped sent: none can go again"
    assert sorted(alerts()) == sorted(references), "each alert reached the DPO exactly once"
    assert all(process == 1 and down for process, _, down in cluster.failures), cluster.failures
    assert cluster.failures, "the kill was mid-run: deliveries to the killed process failed"
