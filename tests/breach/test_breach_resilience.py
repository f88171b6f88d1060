"""Starting with a prefill (photo consent), surviving kill -9 mid-dialog, and unique references under concurrency."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from botbuilder.core import Middleware, TurnContext
from botbuilder.dialogs import DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient
from sqlalchemy import select

from bot.runtime import Runtime
from config import Settings
from dialogs.breach.report import BreachReportDialog
from dialogs.feature import ACTOR_KEY
from dialogs.features import BREACH_INTENT
from services.breach.records import submit_report
from services.clock import SettableClock
from services.identity import Actor
from storage.breach_models import Breach
from storage.db import make_engine, make_session_factory
from tests.breach.test_breach_assessment import MINOR
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.breach import ANSWERS, answer
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel
from tests.teams.process import BotProcess


class AsActor(Middleware):
    """Sets the turn's actor as the bot does before any dialog runs."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def on_turn(self, context: TurnContext, logic: Any) -> None:
        context.turn_state[ACTOR_KEY] = self.actor
        await logic()


def drain(client: DialogTestClient, first: Activity | None) -> str:
    """Every reply of the turn as text (cards as JSON)."""
    parts: list[str] = []
    reply = first
    while reply is not None:
        parts.append(reply.text or "")
        parts += [json.dumps(a.content, ensure_ascii=False) for a in reply.attachments or []]
        reply = client.get_next_reply()
    return "\n".join(parts)


async def test_a_prefill_skips_what_is_known_shows_it_in_the_summary_and_can_be_edited(
    runtime: Runtime, clock: SettableClock,
) -> None:
    now = clock()
    prefill = {
        "kind": "published", "what_happened": "A pupil's photo went on the website without consent",
        "subjects": ["pupils"], "people_count": 1, "data_categories": ["basic"], "records_count": -5,
        "happened_at": (now - timedelta(days=1)).isoformat(), "aware_at": now.isoformat(),
    }
    actor = Actor(SCHOOL_A, "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "Megan Bowen")
    client = DialogTestClient("msteams", BreachReportDialog(runtime.deps, BREACH_INTENT),
                              initial_dialog_options={"prefill": prefill}, middlewares=[AsActor(actor)])

    async def say(value: str | dict[str, Any]) -> str:
        if isinstance(value, dict):
            return drain(client, await client.send_activity(Activity(type=ActivityTypes.message, value=value)))
        return drain(client, await client.send_activity(value))

    assert "How was it found" in await say("start")
    assert "about how many records" in (await say("The head of year spotted it")).lower()  # -5 was refused: asked
    for said in ("not known yet", {"q": "contained", "answer": "yes"}, "Took it down", "Check consent first",
                 {"q": "others_informed", "answer": "head"}):
        summary = await say(said)
    assert "Please check your report" in summary
    for shown in ("Published by mistake", "A pupil's photo went on the website", "Pupils", "about 1",
                  "Basic personal identifiers"):
        assert shown in summary
    await say({"q": "summary", "nav": "edit"})
    assert "What kind of breach" in await say({"q": "edit", "answer": "kind"})
    assert "Please check your report" in await say({"q": "kind", "answer": "other"})
    receipt = await say({"q": "summary", "nav": "confirm"})
    assert "BR-2026-0001" in receipt
    assert client.dialog_turn_result.status == DialogTurnStatus.Complete
    assert client.dialog_turn_result.result["reference"] == "BR-2026-0001"
    async with runtime.deps.sessions() as session:
        breach = (await session.execute(select(Breach))).scalar_one()
    assert breach.kind == "other" and breach.people_count == 1 and breach.records_count is None
    assert breach.aware_at == now and breach.happened_at == now - timedelta(days=1)


async def test_kill_9_mid_dialog_resumes_at_the_same_question(
    settings: Settings, channel: FakeTeamsChannel, staff_a: TeamsUser, tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": settings.database_url, "DPO_AAD_IDS": ",".join(settings.dpo_aad_ids),
           "SCHEDULER_ENABLED": "false"}
    # Real time in the subprocess: answers that hold whatever the date.
    steps = {**ANSWERS, "happened_at": ("press", "not known"), "aware_at": ("press", "now")}
    keys = list(steps)
    bot = BotProcess(workdir=tmp_path, env=env)
    await bot.start()
    try:
        async with aiohttp.ClientSession() as http:
            teams = TeamsClient(bot.url, channel, http)
            await teams.say(staff_a, "report a breach")
            for key in keys[:6]:
                await answer(teams, staff_a, key, *steps[key])
            bot.kill9()
            await bot.start()
            replies = await teams.say(staff_a, "7")  # people_count, asked before the crash
            assert "records or documents" in texts(replies)
            for key in keys[7:]:
                replies = await answer(teams, staff_a, key, *steps[key])
            assert "Please check your report" in texts(replies) and "about 7" in texts(replies)
            receipt = texts(await teams.press(staff_a, {"q": "summary", "nav": "confirm"}))
    finally:
        bot.kill9()
    assert "Your reference is BR-" in receipt, bot.logs()[-2000:]
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            breach = (await session.execute(select(Breach))).scalar_one()
    finally:
        await engine.dispose()
    assert breach.people_count == 7 and breach.subjects == ["pupils"] and breach.happened_at is None


async def test_references_are_unique_per_school_and_year_when_sent_at_once(runtime: Runtime, clock: SettableClock) -> None:
    async def send(tenant: str, n: int) -> tuple[str, str]:
        async with runtime.deps.sessions() as session:
            breach, _ = await submit_report(session, reporter=Actor(tenant, f"user-{n}", f"User {n}"),
                                            facts=replace(MINOR, what_happened=f"case {n}"), now=clock())
        return tenant, breach.reference

    sent = await asyncio.gather(*(send(SCHOOL_A if n % 3 else SCHOOL_B, n) for n in range(12)))
    a = sorted(ref for tenant, ref in sent if tenant == SCHOOL_A)
    b = sorted(ref for tenant, ref in sent if tenant == SCHOOL_B)
    assert a == [f"BR-2026-{n:04d}" for n in range(1, 9)]
    assert b == [f"BR-2026-{n:04d}" for n in range(1, 5)]
    clock.advance(timedelta(days=40))  # 2027 in London
    assert (await send(SCHOOL_A, 99))[1] == "BR-2027-0001"
