"""Retention: idle chat state and old closed breaches go, recent ones stay, and the audit trail keeps the counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.breach_models import Breach, BreachEvent
from storage.consent_models import PupilImport
from storage.models import AuditEvent, BotStateRow, HandledActivity
from tests.conftest import SCHOOL_A
from tests.support.breach import breaches, file_report
from tests.support.consent import SAMPLE, check_and_post, checks, csv_message, data_uri, import_sample, posts, rows
from tests.teams.client import TeamsClient, TeamsUser, texts


async def count(runtime: Runtime, model: type[Any], *where: Any) -> int:
    async with runtime.deps.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def retention_audit(runtime: Runtime) -> dict[str, str]:
    async with runtime.deps.sessions() as session:
        rows = (await session.execute(select(AuditEvent).where(col(AuditEvent.actor_aad_id) == "retention"))).scalars()
        return {row.action: row.subject_id for row in rows}


async def closed_breach(teams: TeamsClient, runtime: Runtime, reporter: TeamsUser, dpo: TeamsUser) -> int:
    """A breach reported, decided and closed through the chat, as a school would; returns its id."""
    await teams.say(dpo, "help")
    await file_report(teams, reporter)
    breach = (await breaches(runtime))[-1]
    decided = await teams.press(dpo, {"cmd": "breach.decide", "id": breach.id, "school": SCHOOL_A,
                                      "decision": "not_notifiable", "reason": "Low risk", "individuals": "not_required"})
    closed = await teams.press(dpo, {"cmd": "breach.close", "id": breach.id, "school": SCHOOL_A, "lessons": "Check twice"})
    assert breach.id is not None and "closed" in texts(closed).lower(), texts(decided + closed)
    return breach.id


async def test_idle_conversation_state_is_purged_and_recent_state_kept(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, staff_b: TeamsUser,
) -> None:
    await teams.say(staff_a, "report a breach")  # leaves a dialog half-way
    old = await count(runtime, BotStateRow)
    assert old > 0
    clock.advance(timedelta(days=29))
    await teams.say(staff_b, "report a breach")
    recent = await count(runtime, BotStateRow) - old
    clock.advance(timedelta(days=2))  # staff A idle 31 days, staff B 2 days

    removed = await runtime.apply_retention()

    assert removed["bot_state"] == old
    assert await count(runtime, BotStateRow) == recent
    assert await count(runtime, HandledActivity) == 1  # staff B's message is remembered; staff A's is forgotten


async def test_closed_breach_is_kept_six_years_then_removed_with_its_timeline(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    breach_id = await closed_breach(teams, runtime, staff_a, dpo_a)
    assert await count(runtime, BreachEvent, col(BreachEvent.breach_id) == breach_id) > 0

    clock.advance(timedelta(days=5 * 366))
    removed = await runtime.apply_retention()
    assert removed["closed_breaches"] == 0
    assert [b.id for b in await breaches(runtime)] == [breach_id]

    clock.advance(timedelta(days=2 * 366))  # 7 years after closing
    removed = await runtime.apply_retention()
    assert removed["closed_breaches"] == 1
    assert await breaches(runtime) == []
    assert await count(runtime, BreachEvent) == 0
    assert (await retention_audit(runtime))["retention.closed_breaches"] == "1"


async def test_open_breaches_are_never_purged(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    clock.advance(timedelta(days=20 * 366))
    removed = await runtime.apply_retention()
    assert removed["closed_breaches"] == 0
    assert await count(runtime, Breach) == 1
    assert "retention.closed_breaches" not in await retention_audit(runtime)


async def test_a_school_can_keep_closed_breaches_longer(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    runtime.settings.retention_closed_breach_years = 10
    await closed_breach(teams, runtime, staff_a, dpo_a)
    clock.advance(timedelta(days=7 * 366))
    assert (await runtime.apply_retention())["closed_breaches"] == 0
    clock.advance(timedelta(days=4 * 366))
    assert (await runtime.apply_retention())["closed_breaches"] == 1


async def test_removed_posts_and_old_consent_checks_go_after_their_periods(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith")
    await check_and_post(teams, staff_a, "Jack Jones", description="Choir")
    first, second = await posts(runtime)
    await teams.press(staff_a, {"cmd": "consent.post_removed", "post": first.id})
    assert [p.removed_at is not None for p in await posts(runtime)] == [True, False]

    clock.advance(timedelta(days=364))
    assert (await runtime.apply_retention())["removed_posts"] == 0
    clock.advance(timedelta(days=2))
    removed = await runtime.apply_retention()
    assert removed["removed_posts"] == 1 and removed["consent_checks"] == 0
    assert [p.id for p in await posts(runtime)] == [second.id]

    clock.advance(timedelta(days=730 - 366 + 1))  # both checks are now over two years old
    removed = await runtime.apply_retention()
    assert removed["consent_checks"] == 1  # the live post's check is kept as its evidence
    assert [c.id for c in await checks(runtime)] == [second.check_id]
    audit = await retention_audit(runtime)
    assert audit["retention.removed_posts"] == "1" and audit["retention.consent_checks"] == "1"


async def test_an_import_preview_left_undecided_is_cancelled_and_its_file_forgotten(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    await teams.send(csv_message(teams, dpo_a, data_uri(SAMPLE.read_text())))
    clock.advance(timedelta(days=6))
    assert (await runtime.apply_retention())["import_previews"] == 0
    [kept] = await rows(runtime, PupilImport)
    assert kept.state == "preview" and "Olivia" in kept.content
    clock.advance(timedelta(days=2))
    assert (await runtime.apply_retention())["import_previews"] == 1
    [forgotten] = await rows(runtime, PupilImport)
    assert (forgotten.state, forgotten.content) == ("cancelled", "")


def test_retention_runs_every_night_at_half_past_two_school_time(runtime: Runtime, clock: SettableClock) -> None:
    job = runtime.scheduler._scheduler.get_job("retention")
    assert job is not None
    first = job.trigger.get_next_fire_time(None, clock())
    assert first.isoformat() == "2026-11-26T02:30:00+00:00"  # GMT in November
    summer = job.trigger.get_next_fire_time(None, datetime(2027, 6, 1, 12, 0, tzinfo=UTC))
    assert summer.isoformat() == "2027-06-02T02:30:00+01:00"  # BST
