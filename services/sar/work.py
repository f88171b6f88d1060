"""The DPO's work on a subject access request: stop and restart the clock, extend, assign a handler, tick the
checklist, close with the disclosure record. Each commits; a rule's "no" is a DomainError."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.sar import alerts
from services.sar.dates import MAX_EXTENSION_MONTHS
from services.sar.requests import (
    NOT_FOUND,
    OUTCOMES,
    PAUSES,
    STEPS,
    Rules,
    add_event,
    compute_due,
    first_month_end,
    load_sar,
    may_work_on,
)
from storage.models import Person
from storage.sar_models import SubjectAccessRequest


async def _open(session: AsyncSession, actor: Actor, sar_id: int, *, handler_too: bool = False) -> SubjectAccessRequest:
    sar = await load_sar(session, actor=actor, sar_id=sar_id)
    if not (actor.is_dpo or (handler_too and may_work_on(actor, sar))):
        raise NotAllowed(NOT_FOUND)
    if sar.closed_at is not None:
        raise DomainError(f"{sar.reference} is closed.")
    return sar


def _day(day: date) -> str:
    return f"{day:%a %d %b %Y}"


async def pause(session: AsyncSession, *, actor: Actor, sar_id: int, kind: str, now: datetime,
                rules: Rules) -> SubjectAccessRequest:
    """Stop the clock while waiting for proof of identity or clarification; reminders stop. Commits."""
    sar = await _open(session, actor, sar_id)
    if kind not in PAUSES:
        raise DomainError("Please say what you are waiting for: proof of identity or clarification.")
    if sar.paused_on is not None:
        raise DomainError(f"The clock on {sar.reference} is already stopped ({PAUSES[sar.pause_kind]}).")
    sar.paused_on, sar.pause_kind = rules.today(now), kind
    await alerts.disarm(session, sar)
    add_event(session, sar, actor=actor, action="paused", detail=f"Clock stopped: {PAUSES[kind]}.", now=now)
    await session.commit()
    return sar


async def resume(session: AsyncSession, *, actor: Actor, sar_id: int, on: date, now: datetime,
                 rules: Rules) -> SubjectAccessRequest:
    """Restart the clock on the day the ID or clarification came: a new due date and new reminders. Commits.

    Proof of identity: the month starts again from the day it came (ICO). Clarification: the days waited are added."""
    sar = await _open(session, actor, sar_id)
    if sar.paused_on is None:
        raise DomainError(f"The clock on {sar.reference} is running; there is nothing to resume.")
    if not sar.paused_on <= on <= rules.today(now):
        raise DomainError(f"That date must be between {_day(sar.paused_on)} (when the clock stopped) and today.")
    if sar.pause_kind == "id":
        sar.clock_start, sar.paused_days, sar.id_verified = on, 0, True
    else:
        sar.paused_days += (on - sar.paused_on).days
    waited = PAUSES[sar.pause_kind]
    sar.paused_on, sar.pause_kind = None, ""
    sar.due_on = compute_due(sar, rules)
    await alerts.rearm(session, sar, now=now, tz=rules.tz)
    add_event(session, sar, actor=actor, action="resumed",
              detail=f"Clock restarted {_day(on)} (was {waited}). Now due {_day(sar.due_on)}.", now=now)
    await session.commit()
    return sar


async def extend(session: AsyncSession, *, actor: Actor, sar_id: int, months: int, reason: str, told_on: date,
                 now: datetime, rules: Rules) -> SubjectAccessRequest:
    """Extend by up to two months (complex or numerous requests), with a reason, the requester told in the first month."""
    sar = await _open(session, actor, sar_id)
    if sar.educational_record:
        raise DomainError("An educational record must be given within 15 school days; it can't be extended.")
    if not sar.extension_months < months <= MAX_EXTENSION_MONTHS:
        raise DomainError("An extension is one or two further months in all (more than any extension already given).")
    if not reason.strip():
        raise DomainError("An extension needs the reason recorded (why the request is complex or numerous).")
    limit = first_month_end(sar, rules)
    if not sar.received_on <= told_on <= min(limit, rules.today(now)):
        raise DomainError(f"The requester must be told of an extension within the first month, by {_day(limit)}. "
                          "Give the date you told them (not in the future).")
    sar.extension_months, sar.extension_reason, sar.extension_told_on = months, reason.strip(), told_on
    sar.due_on = compute_due(sar, rules)
    await alerts.rearm(session, sar, now=now, tz=rules.tz)
    add_event(session, sar, actor=actor, action="extended",
              detail=f"Extended by {months} month(s); requester told {_day(told_on)}. Now due {_day(sar.due_on)}. "
                     f"Reason: {sar.extension_reason}", now=now)
    await session.commit()
    return sar


async def assign(session: AsyncSession, *, actor: Actor, sar_id: int, handler_aad_id: str, now: datetime,
                 rules: Rules) -> SubjectAccessRequest:
    """Ask someone of the school (who has talked to the bot) to handle it: they see it, tick steps, get the reminders."""
    sar = await _open(session, actor, sar_id)
    person = (await session.execute(select(Person).where(col(Person.tenant_id) == sar.tenant_id,
                                                         col(Person.aad_id) == handler_aad_id))).scalar_one_or_none()
    if person is None:
        raise DomainError("Please choose someone from the list (they must have talked to Custodian at least once).")
    sar.handler_aad_id, sar.handler_name = person.aad_id, person.name
    await alerts.rearm(session, sar, now=now, tz=rules.tz)
    add_event(session, sar, actor=actor, action="assigned", detail=f"Handler: {person.name or 'a member of staff'}.", now=now)
    await session.commit()
    return sar


async def people_of(session: AsyncSession, *, tenant_id: str, limit: int = 100) -> list[Person]:
    """People of a school who have talked to the bot, by name (to choose a handler from)."""
    rows = await session.execute(select(Person).where(col(Person.tenant_id) == tenant_id)
                                 .order_by(col(Person.name), col(Person.id)).limit(limit))
    return list(rows.scalars())


async def tick(session: AsyncSession, *, actor: Actor, sar_id: int, step: str, now: datetime) -> SubjectAccessRequest:
    """Tick one checklist step with who and when (a DPO or the handler). Commits."""
    sar = await _open(session, actor, sar_id, handler_too=True)
    if step not in STEPS:
        raise DomainError("Sorry, that step isn't on the checklist.")
    done = sar.checklist.get(step)
    if isinstance(done, dict):
        raise DomainError(f"\u201c{STEPS[step]}\u201d was already ticked by {done.get('by') or 'someone'}.")
    sar.checklist = {**sar.checklist, step: {"by": actor.name, "by_id": actor.aad_id, "at": now.isoformat()}}
    add_event(session, sar, actor=actor, action="step_done", detail=f"Done: {STEPS[step]}.", now=now)
    await session.commit()
    return sar


async def close(session: AsyncSession, *, actor: Actor, sar_id: int, outcome: str, note: str, disclosed: str,
                sent_on: date | None, now: datetime, rules: Rules) -> SubjectAccessRequest:
    """Close with the outcome, the date the answer was sent and the disclosure record. Reminders stop. Commits."""
    sar = await _open(session, actor, sar_id)
    if outcome not in OUTCOMES:
        raise DomainError("Please choose the outcome.")
    if outcome in ("partial", "refused") and not note.strip():
        raise DomainError("Please record the exemptions used or the reason for refusing.")
    if outcome in ("full", "partial") and not disclosed.strip():
        raise DomainError("Please record what was disclosed (the disclosure record the policy asks for).")
    if outcome != "withdrawn" and sent_on is None:
        raise DomainError("Please give the date the answer was sent.")
    if sent_on is not None and not sar.received_on <= sent_on <= rules.today(now):
        raise DomainError("The date sent must be between the date received and today.")
    sar.outcome, sar.outcome_note, sar.disclosed, sar.sent_on = outcome, note.strip(), disclosed.strip(), sent_on
    sar.closed_at = now
    await alerts.disarm(session, sar)
    sent = f", sent {_day(sent_on)}" if sent_on else ""
    late = " (after the due date)" if sent_on is not None and sent_on > sar.due_on else ""
    add_event(session, sar, actor=actor, action="closed", detail=f"Closed: {OUTCOMES[outcome]}{sent}{late}.", now=now)
    await session.commit()
    return sar
