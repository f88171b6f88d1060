"""Acceptance (issue 7): a DPO serving two schools sees both, labelled, and acts on each; a member of staff of one
school can't see or act on the other school's items, or on DPO items, by any command or replayed card button."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from dialogs.breach.cards import DECIDE, SHOW
from services.clock import SettableClock
from storage.breach_models import Breach, BreachEvent
from storage.models import AuditEvent
from storage.reminder_models import Reminder
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.breach import file_report
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import Received

USB = ("say", "Lost a USB stick with the SATs spreadsheet on the bus")


def selectable(replies: list[Received]) -> list[dict[str, Any]]:
    """The data of every tappable line (selectAction) on the replies' cards."""
    found: list[dict[str, Any]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            action = node.get("selectAction")
            if isinstance(action, dict):
                found.append(action.get("data") or {})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for reply in replies:
        walk(reply.cards)
    return found


def files(replies: list[Received]) -> list[dict[str, Any]]:
    """Attachments that are not cards (CSV exports and the like)."""
    return [a for r in replies for a in r.attachments if a.get("contentType") != "application/vnd.microsoft.card.adaptive"]


async def snapshot(runtime: Runtime) -> tuple[list[tuple[Any, ...]], int, int, int]:
    """What an attack must not change: breach decisions, their timelines, the audit trail, the reminder ledger."""
    async with runtime.deps.sessions() as session:
        breaches = [(b.id, b.tenant_id, b.decision, b.closed_at, b.ico_reported_at)
                    for b in (await session.execute(select(Breach).order_by(col(Breach.id)))).scalars()]
        counts = [len((await session.execute(select(model))).scalars().all()) for model in (BreachEvent, AuditEvent, Reminder)]
    return breaches, *counts  # type: ignore[return-value]


async def two_schools(teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, staff_b: TeamsUser,
                      clock: SettableClock) -> TeamsUser:
    """Dana is DPO of St Mary's (A) and Oakfield (B); each school has one breach report. Returns Dana in school B."""
    dpo_in_b = TeamsUser(dpo_a.name, dpo_a.aad_id, SCHOOL_B)
    await teams.say(dpo_in_b, "hello")  # DPO_AAD_IDS: DPO of school B too
    await teams.say(dpo_in_b, "school name Oakfield Academy")
    await teams.say(dpo_a, "school name St Mary's Primary")
    await file_report(teams, staff_a)
    await file_report(teams, staff_b, what_happened=USB)
    clock.advance(timedelta(minutes=1))
    return dpo_in_b


async def breach_of(runtime: Runtime, tenant: str) -> Breach:
    async with runtime.deps.sessions() as session:
        return (await session.execute(select(Breach).where(col(Breach.tenant_id) == tenant))).scalar_one()


async def test_dpo_serving_two_schools_sees_both_and_acts_on_each(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser, staff_b: TeamsUser, clock: SettableClock,
) -> None:
    await two_schools(teams, dpo_a, staff_a, staff_b, clock)
    status = await teams.say(dpo_a, "status")
    shown = texts(status)
    assert "2 schools" in shown and "St Mary's Primary (" in shown and "Oakfield Academy (" in shown
    first, second = sorted((shown.index("St Mary's Primary ("), shown.index("Oakfield Academy (")))
    assert first < shown.index("BR-2026-0001") < second < shown.rindex("BR-2026-0001")  # each school numbers its own
    b_breach, a_breach = await breach_of(runtime, SCHOOL_B), await breach_of(runtime, SCHOOL_A)
    b_button = next(d for d in selectable(status) if d.get("school") == SCHOOL_B and d.get("cmd") == SHOW)
    assert b_button["id"] == b_breach.id

    detail = texts(await teams.press(dpo_a, b_button))  # pressed in the school A chat
    assert "USB stick" in detail
    decided = await teams.press(dpo_a, {"cmd": DECIDE, "id": b_breach.id, "school": SCHOOL_B, "decision": "not_notifiable",
                                        "reason": "Encrypted stick, recovered the same day", "individuals": "not_required"})
    assert "Recorded for **BR-2026-0001**" in texts(decided)
    assert (await breach_of(runtime, SCHOOL_B)).decision == "not_notifiable"
    assert (await breach_of(runtime, SCHOOL_A)).decision is None and a_breach.id != b_breach.id
    clock.advance(timedelta(minutes=1))
    month = texts(await teams.say(dpo_a, "breaches this month"))  # the chat's school only
    assert "(1)" in month and "USB" not in month


async def test_staff_cannot_reach_the_other_school_or_dpo_items(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser, staff_b: TeamsUser, clock: SettableClock,
) -> None:
    await two_schools(teams, dpo_a, staff_a, staff_b, clock)
    b_breach, a_breach = await breach_of(runtime, SCHOOL_B), await breach_of(runtime, SCHOOL_A)
    before = await snapshot(runtime)
    decide = {"cmd": DECIDE, "decision": "not_notifiable", "reason": "nothing to see", "individuals": "not_required"}
    buttons: list[dict[str, Any]] = [
        {"cmd": SHOW, "id": b_breach.id}, {"cmd": SHOW, "id": b_breach.id, "school": SCHOOL_B},
        {**decide, "id": b_breach.id}, {**decide, "id": b_breach.id, "school": SCHOOL_B},
        {**decide, "id": a_breach.id}, {**decide, "id": a_breach.id, "school": SCHOOL_B},
        {"cmd": "breach.close", "id": a_breach.id, "lessons": "x"}, {"cmd": "breach.decide_form", "id": a_breach.id},
        {"cmd": "consent.show_post", "post": 1, "school": SCHOOL_B}, {"cmd": "consent.show_task", "task": 1, "school": SCHOOL_B},
    ]
    for data in buttons:
        reply = texts(await teams.press(staff_a, data))
        assert "USB" not in reply and ("Sorry" in reply or "couldn't find" in reply), (data, reply)
    clock.advance(timedelta(minutes=1))
    commands = ["status", "open breaches", "breaches this month", "what's due today", "posts to remove", "export breaches",
                "export consent", "export posts", "export audit", "who has not got photo consent in 4B", "breach BR-2026-0001",
                "bookings for 9 December", "show me everything"]
    for command in commands:
        replies = await teams.say(staff_a, command)
        reply = texts(replies)
        assert "USB" not in reply and "Oakfield" not in reply and not files(replies), (command, reply)
        assert b_breach.id not in [d.get("id") for d in selectable(replies) if d.get("cmd") == SHOW], command
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "export audit"))
    assert await snapshot(runtime) == before
