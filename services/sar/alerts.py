"""Who hears about a subject access request, and when: the DPO alert, and the reminders 14, 7, 3 and 1 day(s) before
it is due and once overdue, to the DPOs and the assigned handler. Rows in the reminder ledger, scheduled in the
caller's transaction (the caller commits).

None is urgent: the clock runs in days, so they wait for school hours like other reminders, but not for the end of
a school holiday (the clock runs on)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.identity import dpo_ids
from services.reminders import ledger as reminders
from storage.sar_models import SubjectAccessRequest

SUBJECT = "sar"
ALERT = "sar.alert"  # a new request, to every DPO at once
DUE = "sar.due"  # 14, 7, 3 and 1 day(s) before the due date
OVERDUE = "sar.overdue"  # the day after the due date, if still open
DAYS_BEFORE = (14, 7, 3, 1)
CLOCK_KINDS = (DUE, OVERDUE)


def clock_running(sar: SubjectAccessRequest) -> bool:
    """The clock needs the DPO while the request is open and not stopped for ID or clarification."""
    return sar.closed_at is None and sar.paused_on is None


async def alert_dpos(session: AsyncSession, sar: SubjectAccessRequest, *, now: datetime) -> int:
    """Tell every DPO of the school (due now); returns how many were scheduled."""
    assert sar.id is not None
    told = await dpo_ids(session, sar.tenant_id)
    for aad_id in told:
        await reminders.schedule(
            session, key=f"sar:{sar.id}:alert:{aad_id}", tenant_id=sar.tenant_id, kind=ALERT, recipient_aad_id=aad_id,
            subject_type=SUBJECT, subject_id=sar.id, due_at=now, now=now,
        )
    return len(told)


async def arm(session: AsyncSession, sar: SubjectAccessRequest, *, now: datetime, tz: str) -> None:
    """Schedule the reminders still ahead for the current due date, to every DPO and the handler (from the start of
    each UK day)."""
    assert sar.id is not None
    zone = ZoneInfo(tz)
    stages = [(DUE, sar.due_on - timedelta(days=days), days) for days in DAYS_BEFORE]
    stages.append((OVERDUE, sar.due_on + timedelta(days=1), 0))
    for aad_id in await recipients(session, sar):
        for kind, day, days in stages:
            due = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
            if due <= now:
                continue
            await reminders.schedule(
                session, key=f"sar:{sar.id}:r{sar.reminder_round}:{kind}:{days}:{aad_id}", tenant_id=sar.tenant_id,
                kind=kind, recipient_aad_id=aad_id, subject_type=SUBJECT, subject_id=sar.id, due_at=due, now=now,
                payload={"days": days, "due_on": sar.due_on.isoformat()},
            )


async def recipients(session: AsyncSession, sar: SubjectAccessRequest) -> list[str]:
    """Who the clock's reminders go to: the school's DPOs and the assigned handler."""
    dpos = await dpo_ids(session, sar.tenant_id)
    return [*dpos, sar.handler_aad_id] if sar.handler_aad_id and sar.handler_aad_id not in dpos else dpos


async def disarm(session: AsyncSession, sar: SubjectAccessRequest) -> int:
    """Cancel the pending due and overdue reminders (paused, due date changed, or closed)."""
    return await reminders.cancel(session, tenant_id=sar.tenant_id, subject_type=SUBJECT, subject_id=str(sar.id),
                                  kinds=CLOCK_KINDS)


async def rearm(session: AsyncSession, sar: SubjectAccessRequest, *, now: datetime, tz: str) -> None:
    """After the due date changed or the clock restarted: the old reminders go, new ones (new keys) come."""
    await disarm(session, sar)
    sar.reminder_round += 1
    if clock_running(sar):
        await arm(session, sar, now=now, tz=tz)
