"""Who hears about a breach, and when: DPO alerts, the 72-hour deadline reminders, notes to the reporter.

Everything is a row in the reminder ledger, scheduled in the caller's transaction (the caller commits).
A DPO who has not opened Custodian yet still gets their rows: they wait (reminders.WAITING) and go the
moment the DPO becomes reachable, when `catch_up` also brings them up to date on breaches reported before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.facts import clock_stages
from services.identity import dpo_ids
from services.reminders import ledger as reminders
from storage.breach_models import Breach
from storage.reminder_models import Reminder, ReminderState

SUBJECT = "breach"
ALERT = "breach.alert"  # a new breach, to every DPO at once
DEADLINE = "breach.deadline"  # before the ICO deadline while its clock runs (breach_facts.CLOCK_STAGES)
OVERDUE = "breach.overdue"  # the deadline passed, not reported and not decided "not notifiable"
UPDATED = "breach.updated"  # new facts, to the DPOs
INFO_REQUEST = "breach.info_request"  # the DPO asks the reporter a question
CLOSED = "breach.closed"  # to the reporter
CLOCK_KINDS = (DEADLINE, OVERDUE)


def clock_running(breach: Breach) -> bool:
    """The ICO clock needs the DPO while nothing has stopped it (reported, not notifiable, closed)."""
    return breach.closed_at is None and breach.ico_reported_at is None and breach.decision != "not_notifiable"


async def alert_dpos(
    session: AsyncSession, breach: Breach, *, kind: str, tag: str, now: datetime, skip_aad_id: str | None = None,
    event_id: int | None = None,
) -> int:
    """Tell every DPO of the school at once (due now); returns how many were scheduled."""
    assert breach.id is not None
    count = 0
    for aad_id in await dpo_ids(session, breach.tenant_id):
        if aad_id == skip_aad_id:
            continue
        await reminders.schedule(
            session, key=f"breach:{breach.id}:{tag}:{aad_id}", tenant_id=breach.tenant_id, kind=kind,
            recipient_aad_id=aad_id, subject_type=SUBJECT, subject_id=breach.id, due_at=now, now=now,
            payload={"event": event_id, "wait": True},
        )
        count += 1
    return count


async def tell_reporter(
    session: AsyncSession, breach: Breach, *, kind: str, tag: str, now: datetime, event_id: int | None = None
) -> None:
    """A message to whoever reported the breach, due now."""
    assert breach.id is not None
    await reminders.schedule(
        session, key=f"breach:{breach.id}:{tag}:{breach.reporter_aad_id}", tenant_id=breach.tenant_id, kind=kind,
        recipient_aad_id=breach.reporter_aad_id, subject_type=SUBJECT, subject_id=breach.id, due_at=now, now=now,
        payload={"event": event_id},
    )


async def arm_deadline(session: AsyncSession, breach: Breach, *, now: datetime, only_aad_id: str | None = None) -> None:
    """Schedule the deadline reminders and the overdue alert still ahead, for every DPO (or one)."""
    assert breach.id is not None
    stages = clock_stages(DEADLINE, OVERDUE)
    for aad_id in [only_aad_id] if only_aad_id else await dpo_ids(session, breach.tenant_id):
        for kind, hours in stages:
            due = breach.aware_at + timedelta(hours=hours)
            if due <= now:
                continue  # already passed when reported: the alert itself shows the time left
            await reminders.schedule(
                session, key=f"breach:{breach.id}:r{breach.reminder_round}:{hours}h:{aad_id}",
                tenant_id=breach.tenant_id, kind=kind, recipient_aad_id=aad_id, subject_type=SUBJECT,
                subject_id=breach.id, due_at=due, now=now, payload={"hours": hours, "wait": True},
            )


LATE_OPENED, LATE_APPOINTED, LATE_CHAT_OPENED = "opened", "appointed", "chat"  # why a DPO's alert is late ("late")


async def catch_up(session: AsyncSession, *, tenant_id: str, aad_id: str, now: datetime, why: str = LATE_OPENED) -> int:
    """A DPO can now be written to: what waited for them goes, marked late; breaches reported before they were a
    DPO here get their alert and reminders. Past-due reminders about a breach are dropped, held or not yet sent
    (its late alert shows where it stands). Returns how many breach alerts go late. Does not commit."""
    await session.execute(update(Reminder).where(
        col(Reminder.tenant_id) == tenant_id, col(Reminder.recipient_aad_id) == aad_id,
        col(Reminder.state) == ReminderState.PENDING, col(Reminder.subject_type) == SUBJECT,
        col(Reminder.kind) != ALERT, col(Reminder.due_at) <= now, col(Reminder.last_error).is_distinct_from(reminders.WAITING),
    ).values(state=ReminderState.CANCELLED))
    held = await reminders.waiting_for(session, tenant_id=tenant_id, aad_id=aad_id)
    for row in held:
        if row.subject_type == SUBJECT and row.kind != ALERT and row.due_at <= now:
            row.state = ReminderState.CANCELLED
        else:
            row.payload = {**row.payload, "late": why} if row.kind == ALERT else row.payload
            reminders.release(row)
    alerted = await session.execute(select(col(Reminder.subject_id)).where(
        col(Reminder.tenant_id) == tenant_id, col(Reminder.recipient_aad_id) == aad_id, col(Reminder.kind) == ALERT))
    known = set(alerted.scalars())
    late = sum(1 for row in held if row.kind == ALERT)
    rows = await session.execute(select(Breach).where(col(Breach.tenant_id) == tenant_id, col(Breach.closed_at).is_(None))
                                 .order_by(col(Breach.deadline_at)))
    for breach in rows.scalars():
        if not clock_running(breach):
            continue
        if str(breach.id) not in known:
            await reminders.schedule(
                session, key=f"breach:{breach.id}:alert:{aad_id}", tenant_id=tenant_id, kind=ALERT,
                recipient_aad_id=aad_id, subject_type=SUBJECT, subject_id=str(breach.id), due_at=now, now=now,
                payload={"wait": True, "late": why},
            )
            late += 1
        await arm_deadline(session, breach, now=now, only_aad_id=aad_id)
    return late


async def disarm_deadline(session: AsyncSession, breach: Breach) -> int:
    """Cancel the deadline and overdue reminders (decided not notifiable, reported, or closed)."""
    return await reminders.cancel(
        session, tenant_id=breach.tenant_id, subject_type=SUBJECT, subject_id=str(breach.id), kinds=CLOCK_KINDS
    )


async def sync_deadline(session: AsyncSession, breach: Breach, *, was_running: bool, now: datetime) -> None:
    """After a change: stop the reminders when the clock stopped, re-arm them (new keys) when it restarted."""
    running = clock_running(breach)
    if was_running and not running:
        await disarm_deadline(session, breach)
    elif running and not was_running:
        breach.reminder_round += 1
        await arm_deadline(session, breach, now=now)
