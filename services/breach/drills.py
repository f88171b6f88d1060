"""Breach drills: start, the compressed clock and its reminders, the steps a DPO takes, stop, and the report.

A drill lives in its own table: it never gets a BR- number and never reaches the breach log, counts or exports.
Times are drill seconds after the alert (at `drill speed 60` one real minute is one drill hour).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.breach.decisions import DECISIONS, INDIVIDUALS
from services.breach.drill_scenarios import BY_KEY, SCENARIOS, Scenario, named_in
from services.breach.facts import ICO_HOURS, clean_text, clock_stages
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.reminders import ledger as reminders
from storage.drill_models import BreachDrill

log = logging.getLogger(__name__)

SUBJECT = "drill"
ALERT = "drill.alert"  # the pretend reporter's breach, to the DPO running the drill
DEADLINE = "drill.deadline"  # the breach clock's stages (breach_facts.CLOCK_STAGES) in drill hours after the alert
OVERDUE = "drill.overdue"  # the drill deadline passed with the clock still running
CLOCK_KINDS = (DEADLINE, OVERDUE)
MAX_SPEED = 720  # 72 hours in 6 minutes
DPO_ONLY = "Sorry, breach drills are only for your school's DPO."
NO_DRILL = "There is no breach drill running. Start one with **start a breach drill**."
NOT_FOUND = "Sorry, I couldn't find that breach drill."


def scenario_of(drill: BreachDrill) -> Scenario:
    """The drill's practice breach."""
    return BY_KEY[drill.scenario]


def drill_seconds(drill: BreachDrill, now: datetime) -> int:
    """Drill seconds since the alert (frozen once the drill has ended)."""
    if drill.ended_s is not None:
        return drill.ended_s
    return drill.clock_drill_s + int((now - drill.clock_real_at).total_seconds() * drill.speed)


def clock_running(drill: BreachDrill) -> bool:
    """The practice ICO clock needs the DPO until the drill ends, the breach is judged not notifiable,
    or the ICO pack is asked for (the drill's stand-in for reporting)."""
    return drill.ended_at is None and drill.decision != "not_notifiable" and drill.ico_pack_s is None


def _id(drill: BreachDrill) -> int:
    assert drill.id is not None
    return drill.id


def _require_dpo(actor: Actor) -> None:
    if not actor.is_dpo:
        raise NotAllowed(DPO_ONLY)


async def running_drill(session: AsyncSession, tenant_id: str) -> BreachDrill | None:
    """The school's drill in progress, if any."""
    rows = await session.execute(select(BreachDrill).where(
        col(BreachDrill.tenant_id) == tenant_id, col(BreachDrill.ended_at).is_(None)).order_by(col(BreachDrill.id)))
    return rows.scalars().first()


async def load_drill(session: AsyncSession, *, actor: Actor, drill_id: int | None = None) -> BreachDrill:
    """One of the actor's school's drills (a DPO only): by id, else the running one."""
    _require_dpo(actor)
    if drill_id is None:
        drill = await running_drill(session, actor.tenant_id)
    else:
        drill = await session.get(BreachDrill, drill_id)
    if drill is None or drill.tenant_id != actor.tenant_id:
        raise DomainError(NO_DRILL if drill_id is None else NOT_FOUND)
    return drill


async def past_drills(session: AsyncSession, tenant_id: str, *, before: BreachDrill | None = None) -> list[BreachDrill]:
    """The school's ended drills, oldest first (only those before `before`)."""
    query = select(BreachDrill).where(col(BreachDrill.tenant_id) == tenant_id, col(BreachDrill.ended_at).is_not(None))
    if before is not None and before.id is not None:
        query = query.where(col(BreachDrill.id) < before.id)
    return list((await session.execute(query.order_by(col(BreachDrill.id)))).scalars())


def parse_speed(text: str) -> int:
    """The number in `drill speed 60`, checked."""
    numbers = [word for word in text.replace("x", " ").replace("\u00d7", " ").split() if word.isdigit()]
    if len(numbers) != 1 or not 1 <= int(numbers[0]) <= MAX_SPEED:
        raise DomainError(f"Please give the speed as one whole number from 1 to {MAX_SPEED}, e.g. **drill speed 60** "
                          "(the 72 hours pass in 72 minutes). 1 is real time.")
    return int(numbers[0])


async def start_drill(session: AsyncSession, *, actor: Actor, said: str, speed: int, now: datetime) -> BreachDrill:
    """Begin a drill (the scenario named, else the one the school has practised least); its alert is due now."""
    _require_dpo(actor)
    if await running_drill(session, actor.tenant_id) is not None:
        raise DomainError("A breach drill is already running. Type **stop drill** to end it and see its report first.")
    done = Counter(drill.scenario for drill in await past_drills(session, actor.tenant_id))
    scenario = named_in(said) or min(SCENARIOS, key=lambda s: done[s.key])
    drill = BreachDrill(tenant_id=actor.tenant_id, started_by=actor.aad_id, scenario=scenario.key, started_at=now,
                        speed=speed, clock_real_at=now)
    session.add(drill)
    await session.flush()
    await reminders.schedule(session, key=f"drill:{_id(drill)}:alert", tenant_id=drill.tenant_id, kind=ALERT,
                             recipient_aad_id=drill.started_by, subject_type=SUBJECT, subject_id=_id(drill),
                             due_at=now, now=now)
    await _arm_clock(session, drill, now=now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="drill.started", now=now,
                 subject_type=SUBJECT, subject_id=_id(drill))
    await session.commit()
    log.info("drill %s started in tenant %s (%s, speed %s)", drill.id, drill.tenant_id, drill.scenario, speed)
    return drill


async def _arm_clock(session: AsyncSession, drill: BreachDrill, *, now: datetime) -> None:
    """Schedule the deadline reminders and the overdue alert still ahead on the drill clock."""
    elapsed = drill_seconds(drill, now)
    for kind, hours in clock_stages(DEADLINE, OVERDUE):
        ahead = hours * 3600 - elapsed
        if ahead <= 0:
            continue
        await reminders.schedule(
            session, key=f"drill:{drill.id}:r{drill.reminder_round}:{hours}h", tenant_id=drill.tenant_id, kind=kind,
            recipient_aad_id=drill.started_by, subject_type=SUBJECT, subject_id=_id(drill),
            due_at=now + timedelta(seconds=ahead / drill.speed), now=now, payload={"hours": hours},
        )


async def _stop_clock(session: AsyncSession, drill: BreachDrill) -> None:
    await reminders.cancel(session, tenant_id=drill.tenant_id, subject_type=SUBJECT, subject_id=_id(drill),
                           kinds=CLOCK_KINDS)


async def set_speed(session: AsyncSession, *, actor: Actor, speed: int, now: datetime) -> BreachDrill:
    """Change the running drill's clock speed from now on; its reminders move to the new times."""
    drill = await load_drill(session, actor=actor)
    drill.clock_drill_s, drill.clock_real_at, drill.speed = drill_seconds(drill, now), now, speed
    drill.reminder_round += 1
    await _stop_clock(session, drill)
    if clock_running(drill):
        await _arm_clock(session, drill, now=now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="drill.speed", now=now,
                 subject_type=SUBJECT, subject_id=_id(drill))
    await session.commit()
    return drill


def ensure_running(drill: BreachDrill) -> None:
    """Refuse to change a drill that has ended."""
    if drill.ended_at is not None:
        raise DomainError("That breach drill has ended. Start another with **start a breach drill**.")


def first_look(drill: BreachDrill, now: datetime) -> None:
    """The DPO opened the drill (or pressed any of its buttons): the first time counts. Does not commit."""
    if drill.first_look_s is None and drill.ended_at is None:
        drill.first_look_s = drill_seconds(drill, now)


async def record_step(session: AsyncSession, *, actor: Actor, drill_id: int, step: str, now: datetime,
                      decision: str = "", individuals: str = "", containment: str = "") -> BreachDrill:
    """One of the usual breach steps on the drill: "decided", "contained" or "ico_pack" (recorded at drill time)."""
    drill = await load_drill(session, actor=actor, drill_id=drill_id)
    ensure_running(drill)
    first_look(drill, now)
    at = drill_seconds(drill, now)
    if step == "decided":
        if decision not in DECISIONS or individuals not in INDIVIDUALS:
            raise DomainError("Please choose a decision and whether the people affected must be told.")
        drill.decision, drill.individuals = decision, individuals
        if decision != "more_info" and drill.decided_s is None:  # "more information needed" is not yet a decision
            drill.decided_s = at
    elif step == "contained":
        drill.containment = clean_text(containment)
        drill.contained_s = at
    elif step == "ico_pack":
        drill.ico_pack_s = at if drill.ico_pack_s is None else drill.ico_pack_s
    else:
        raise DomainError("Sorry, that button is no longer available.")
    if not clock_running(drill):
        await _stop_clock(session, drill)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=f"drill.{step}", now=now,
                 subject_type=SUBJECT, subject_id=_id(drill))
    await session.commit()
    return drill


async def stop_drill(session: AsyncSession, *, actor: Actor, drill_id: int | None, now: datetime) -> BreachDrill:
    """End a drill (by id, else the running one): its clock and reminders stop; the report is made from it."""
    drill = await load_drill(session, actor=actor, drill_id=drill_id)
    ensure_running(drill)
    drill.ended_s, drill.ended_at = drill_seconds(drill, now), now
    await reminders.cancel(session, tenant_id=drill.tenant_id, subject_type=SUBJECT, subject_id=_id(drill))
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="drill.stopped", now=now,
                 subject_type=SUBJECT, subject_id=_id(drill))
    await session.commit()
    log.info("drill %s stopped in tenant %s", drill.id, drill.tenant_id)
    return drill


@dataclass(frozen=True)
class DrillReport:
    """How the drill went, and the school's earlier drills to compare with."""

    drill: BreachDrill
    missed: list[str]
    earlier: list[BreachDrill]


def steps_missed(drill: BreachDrill) -> list[str]:
    """The usual steps the DPO did not take (or took after the 72 drill hours)."""
    missed = []
    deadline = ICO_HOURS * 3600
    if drill.first_look_s is None:
        missed.append("The alert was never opened.")
    if drill.decided_s is None:
        missed.append("No decision on notifying the ICO.")
    elif drill.decided_s > deadline:
        missed.append("The decision came after the 72 hours.")
    if drill.individuals in (None, "undecided"):
        missed.append("No decision on telling the people affected.")
    if drill.contained_s is None:
        missed.append("No containment recorded.")
    if drill.decision == "notify" and drill.ico_pack_s is None:
        missed.append("Decided to notify the ICO, but the ICO pack was never prepared.")
    elif drill.ico_pack_s is not None and drill.ico_pack_s > deadline:
        missed.append("The ICO pack was prepared after the 72 hours.")
    return missed


async def report_of(session: AsyncSession, drill: BreachDrill) -> DrillReport:
    """The drill report (the caller has checked access)."""
    return DrillReport(drill, steps_missed(drill), await past_drills(session, drill.tenant_id, before=drill))


async def drill_for_reminder(session: AsyncSession, reminder_subject: str, tenant_id: str) -> BreachDrill | None:
    """The drill a reminder is about, if it is still that school's."""
    drill = await session.get(BreachDrill, int(reminder_subject)) if reminder_subject.isdigit() else None
    return drill if drill is not None and drill.tenant_id == tenant_id else None
