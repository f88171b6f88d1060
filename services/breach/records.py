"""Breach reports: submitting, finding (with access checks), the timeline and the open list."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.breach.alerts import ALERT, alert_dpos, arm_deadline
from services.breach.assessment import Assessment, Risk, assess
from services.breach.facts import ICO_WINDOW, BreachFacts, check_facts
from services.dates import to_local
from services.errors import NotAllowed
from services.identity import Actor, reachable_holders
from storage.breach_models import Breach, BreachCounter, BreachEvent
from storage.models import Role
from storage.reminder_models import Reminder
from storage.timeline import next_number

log = logging.getLogger(__name__)

NOT_FOUND = "Sorry, I couldn't find that breach, or you don't have access to it."
REFERENCE_WORDS = r"br[-\s]?([0-9]{4})[-\s]+([0-9]{1,6})"  # "BR-2026-0002", also as said: "br 2026 2"
REFERENCE = re.compile(rf"\b{REFERENCE_WORDS}\b", re.IGNORECASE)


class BreachStatus(StrEnum):
    """Where a breach is, derived from its decision, ICO report and closure."""

    AWAITING_DECISION = "awaiting decision"
    MORE_INFO = "more information needed"
    TO_REPORT = "notifiable: report to the ICO"
    REPORTED = "reported to the ICO"
    NOT_NOTIFIABLE = "not notifiable"
    CLOSED = "closed"


def status_of(breach: Breach) -> BreachStatus:
    """The breach's status for people and for the log."""
    if breach.closed_at is not None:
        return BreachStatus.CLOSED
    if breach.ico_reported_at is not None:
        return BreachStatus.REPORTED
    return {
        None: BreachStatus.AWAITING_DECISION,
        "more_info": BreachStatus.MORE_INFO,
        "notify": BreachStatus.TO_REPORT,
        "not_notifiable": BreachStatus.NOT_NOTIFIABLE,
    }.get(breach.decision, BreachStatus.AWAITING_DECISION)


def facts_of(breach: Breach) -> BreachFacts:
    """The stored facts of a breach."""
    return BreachFacts(
        what_happened=breach.what_happened, kind=breach.kind, how_discovered=breach.how_discovered,
        happened_at=breach.happened_at, aware_at=breach.aware_at, subjects=tuple(breach.subjects),
        people_count=breach.people_count, records_count=breach.records_count,
        data_categories=tuple(breach.data_categories), contained=breach.contained,
        actions_taken=breach.actions_taken, actions_planned=breach.actions_planned,
        others_informed=tuple(breach.others_informed),
    )


def apply_facts(breach: Breach, facts: BreachFacts) -> Assessment:
    """Write facts onto the breach and refresh the suggested assessment."""
    for name, value in vars(facts).items():
        setattr(breach, name, list(value) if isinstance(value, tuple) else value)
    breach.deadline_at = facts.aware_at + ICO_WINDOW
    assessment = assess(facts)
    breach.suggested_risk, breach.suggested_reasons = assessment.risk.value, list(assessment.reasons)
    return assessment


def assessment_of(breach: Breach) -> Assessment:
    """The stored suggestion."""
    return Assessment(Risk(breach.suggested_risk), tuple(breach.suggested_reasons))


def add_event(session: AsyncSession, breach: Breach, *, actor: Actor, action: str, detail: str, now: datetime) -> BreachEvent:
    """Add a timeline line and an audit row (ids and codes only) to the caller's unit of work."""
    assert breach.id is not None
    event = BreachEvent(
        tenant_id=breach.tenant_id, breach_id=breach.id, at=now, actor_aad_id=actor.aad_id,
        actor_name=actor.name, action=action, detail=detail,
    )
    session.add(event)
    breach.updated_at = now
    audit.record(session, tenant_id=breach.tenant_id, actor_aad_id=actor.aad_id, action=f"breach.{action}",
                 now=now, subject_type="breach", subject_id=breach.id)
    return event


async def submit_report(session: AsyncSession, *, reporter: Actor, facts: BreachFacts, now: datetime) -> tuple[Breach, int]:
    """File a breach: reference, deadline, suggestion, DPO alerts and deadline reminders (waiting for any DPO who
    has not opened Custodian yet). Returns (breach, DPOs who can be told now)."""
    facts = replace(facts, what_happened=facts.what_happened.strip())
    check_facts(facts, now=now)
    year = to_local(now).year
    number = await next_number(session, BreachCounter, tenant_id=reporter.tenant_id, year=year)
    breach = Breach(
        tenant_id=reporter.tenant_id, reference=f"BR-{year}-{number:04d}", reporter_aad_id=reporter.aad_id,
        reporter_name=reporter.name, kind=facts.kind, aware_at=facts.aware_at, deadline_at=facts.aware_at + ICO_WINDOW,
        contained=facts.contained, suggested_risk=Risk.UNLIKELY.value, created_at=now, updated_at=now,
    )
    apply_facts(breach, facts)
    session.add(breach)
    await session.flush()
    add_event(session, breach, actor=reporter, action="submitted", detail=f"Reported. Suggested: {assessment_of(breach).advice}.",
              now=now)
    scheduled = await alert_dpos(session, breach, kind=ALERT, tag="alert", now=now)
    await arm_deadline(session, breach, now=now)
    await session.commit()
    told = len(await reachable_holders(session, tenant_id=breach.tenant_id, role=Role.DPO))
    log.info("breach %s submitted in tenant %s; %s DPO alert(s) scheduled, %s reachable now", breach.id,
             breach.tenant_id, scheduled, told)
    if not told:
        log.warning("breach %s: tenant %s has no reachable DPO yet; alerts wait for one", breach.id, breach.tenant_id)
    return breach, told


def may_see(actor: Actor, breach: Breach) -> bool:
    """Its reporter, or a DPO of the same school."""
    return breach.tenant_id == actor.tenant_id and (actor.is_dpo or breach.reporter_aad_id == actor.aad_id)


async def load_breach(
    session: AsyncSession, *, actor: Actor, breach_id: int | None = None, reference: str | None = None,
    dpo_only: bool = False,
) -> Breach:
    """One breach the actor may see (by id or reference), else NotAllowed with no detail."""
    query = select(Breach).where(col(Breach.tenant_id) == actor.tenant_id)
    if breach_id is not None:
        query = query.where(col(Breach.id) == breach_id)
    elif reference is not None:
        query = query.where(col(Breach.reference) == reference.upper())
    else:
        raise NotAllowed(NOT_FOUND)
    breach = (await session.execute(query)).scalar_one_or_none()
    if breach is None or not may_see(actor, breach) or (dpo_only and not actor.is_dpo):
        raise NotAllowed(NOT_FOUND)
    return breach


def reference_in(text: str) -> str | None:
    """The first breach reference in some text ("update br-2026-0007" -> "BR-2026-0007")."""
    match = REFERENCE.search(text)
    return f"BR-{match.group(1)}-{int(match.group(2)):04d}" if match else None


async def timeline(session: AsyncSession, *, breach: Breach) -> list[BreachEvent]:
    """The breach's events, oldest first (the caller has already checked access)."""
    rows = await session.execute(
        select(BreachEvent)
        .where(col(BreachEvent.tenant_id) == breach.tenant_id, col(BreachEvent.breach_id) == breach.id)
        .order_by(col(BreachEvent.at), col(BreachEvent.id))
    )
    return list(rows.scalars())


async def open_breaches(session: AsyncSession, *, tenant_id: str) -> list[Breach]:
    """A school's breaches not yet closed, nearest ICO deadline first (for DPO status and digests)."""
    rows = await session.execute(
        select(Breach)
        .where(col(Breach.tenant_id) == tenant_id, col(Breach.closed_at).is_(None))
        .order_by(col(Breach.deadline_at), col(Breach.id))
    )
    return list(rows.scalars())


async def visible_breaches(session: AsyncSession, *, actor: Actor, open_only: bool = True) -> list[Breach]:
    """What the actor may list: a DPO their school's breaches, staff their own reports."""
    query = select(Breach).where(col(Breach.tenant_id) == actor.tenant_id)
    if not actor.is_dpo:
        query = query.where(col(Breach.reporter_aad_id) == actor.aad_id)
    if open_only:
        query = query.where(col(Breach.closed_at).is_(None))
    rows = await session.execute(query.order_by(col(Breach.deadline_at), col(Breach.id)))
    return list(rows.scalars())


async def breach_for_reminder(session: AsyncSession, reminder: Reminder) -> Breach | None:
    """The breach a reminder is about, in the reminder's school (None when gone)."""
    if reminder.subject_type != "breach" or not reminder.subject_id.isdigit():
        return None
    row = await session.execute(
        select(Breach).where(col(Breach.tenant_id) == reminder.tenant_id, col(Breach.id) == int(reminder.subject_id))
    )
    return row.scalar_one_or_none()


async def event_of(session: AsyncSession, *, breach: Breach, event_id: object) -> BreachEvent | None:
    """One timeline event of this breach (for renderers given an event id in a payload)."""
    if not isinstance(event_id, int):
        return None
    row = await session.execute(
        select(BreachEvent).where(col(BreachEvent.id) == event_id, col(BreachEvent.breach_id) == breach.id,
                                  col(BreachEvent.tenant_id) == breach.tenant_id)
    )
    return row.scalar_one_or_none()
