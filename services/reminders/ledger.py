"""The reminder ledger: what features call. Schedule and cancel (callers commit, in the same transaction as the
change that causes them), reminders held for someone who has not opened Custodian yet, quiet hours, and what a
recipient can do with a reminder card (snooze, done). The sweep that sends them is services.reminders.sweep."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.school.calendar import Region
from storage.db import insert_ignore, rowcount
from storage.models import Person
from storage.reminder_models import Reminder, ReminderState

FAILED_KIND = "reminder.failed"  # tells a school's DPOs that a reminder did not get through
NOTICE_KIND = "notice"  # payload {"title", "text", "why"}: short, non-personal text
# A reminder scheduled with {"wait": True} to someone who has never opened Custodian waits for them (it is
# released the moment they do) instead of being given up as unreachable; looked at again daily meanwhile.
WAITING = "waiting: the recipient has not opened Custodian yet"


async def schedule(
    session: AsyncSession,
    *,
    key: str,
    tenant_id: str,
    kind: str,
    recipient_aad_id: str,
    subject_type: str,
    subject_id: str | int,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Add a pending reminder unless one with this key exists (then that one stands: scheduling twice is harmless)."""
    values = {
        "key": key, "tenant_id": tenant_id, "kind": kind, "recipient_aad_id": recipient_aad_id,
        "subject_type": subject_type, "subject_id": str(subject_id), "due_at": due_at, "created_at": now,
        "payload": payload or {}, "state": ReminderState.PENDING, "attempts": 0,
    }
    await insert_ignore(session, Reminder, values, ["key"])


async def cancel(
    session: AsyncSession,
    *,
    tenant_id: str,
    subject_type: str,
    subject_id: str | int,
    kinds: Collection[str] | None = None,
    recipient_aad_id: str | None = None,
) -> int:
    """Cancel pending reminders about one subject (optionally only some kinds or one recipient)."""
    query = update(Reminder).where(
        col(Reminder.tenant_id) == tenant_id,
        col(Reminder.subject_type) == subject_type,
        col(Reminder.subject_id) == str(subject_id),
        col(Reminder.state) == ReminderState.PENDING,
    )
    if kinds is not None:
        query = query.where(col(Reminder.kind).in_(list(kinds)))
    if recipient_aad_id is not None:
        query = query.where(col(Reminder.recipient_aad_id) == recipient_aad_id)
    return rowcount(await session.execute(query.values(state=ReminderState.CANCELLED)))


async def waiting_for(session: AsyncSession, *, tenant_id: str, aad_id: str) -> list[Reminder]:
    """Reminders held until this person opens Custodian (see WAITING), oldest first."""
    rows = await session.execute(
        select(Reminder)
        .where(col(Reminder.tenant_id) == tenant_id, col(Reminder.recipient_aad_id) == aad_id,
               col(Reminder.state) == ReminderState.PENDING, col(Reminder.last_error) == WAITING)
        .order_by(col(Reminder.due_at), col(Reminder.id))
    )
    return list(rows.scalars())


def release(reminder: Reminder) -> None:
    """A held reminder goes with the next sweep (its recipient can now be written to). Does not commit."""
    reminder.next_attempt_at, reminder.last_error = None, None


async def pending_for(session: AsyncSession, *, tenant_id: str, subject_type: str, subject_id: str | int) -> list[Reminder]:
    """Pending reminders about one subject, soonest first."""
    rows = await session.execute(
        select(Reminder)
        .where(
            col(Reminder.tenant_id) == tenant_id, col(Reminder.subject_type) == subject_type,
            col(Reminder.subject_id) == str(subject_id), col(Reminder.state) == ReminderState.PENDING,
        )
        .order_by(col(Reminder.due_at))
    )
    return list(rows.scalars())


async def recipient_of(session: AsyncSession, reminder: Reminder) -> Person | None:
    """The person a reminder is for (their stored conversation reference says where to write)."""
    return await _person(session, reminder.tenant_id, reminder.recipient_aad_id)


async def recipients_of(session: AsyncSession, batch: Sequence[Reminder]) -> dict[tuple[str, str], Person]:
    """`recipient_of` for a whole batch in one query, by (tenant, recipient)."""
    wanted = sorted({(r.tenant_id, r.recipient_aad_id) for r in batch})
    if not wanted:
        return {}
    rows = await session.execute(select(Person).where(tuple_(Person.tenant_id, Person.aad_id).in_(wanted)))
    return {(p.tenant_id, p.aad_id): p for p in rows.scalars()}


# --- quiet hours and snooze times -------------------------------------------------------------

@dataclass(frozen=True)
class QuietHours:
    """Non-urgent reminders go on school days from `end_hour` to `start_hour`, school time."""

    tz: str = "Europe/London"
    start_hour: int = 18
    end_hour: int = 8
    region: Region = "ENG"  # whose bank holidays close the schools (with each school's own holidays)

    def holds(self, now: datetime) -> bool:
        """True at night and at weekends, when only urgent kinds may be sent."""
        local = now.astimezone(ZoneInfo(self.tz))
        return local.weekday() >= 5 or not self.end_hour <= local.hour < self.start_hour

    def tomorrow_morning(self, now: datetime) -> datetime:
        """Tomorrow when the quiet hours end (e.g. 08:00 UK time), in UTC."""
        zone = ZoneInfo(self.tz)
        day = now.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(day, time(self.end_hour), tzinfo=zone).astimezone(UTC)


# --- what a recipient can do with a reminder card ----------------------------------------------

async def snooze(
    session: AsyncSession, *, actor: Actor, reminder_id: int, until: datetime,
    snoozable_kinds: Collection[str], now: datetime,
) -> Reminder:
    """Send this reminder again at `until` (same row, pending again). Commits."""
    row = await _own(session, actor, reminder_id)
    if row.kind not in snoozable_kinds:
        raise DomainError("This reminder can't be snoozed.")
    if row.state not in (ReminderState.SENT, ReminderState.PENDING):
        raise DomainError("That reminder no longer applies, so there is nothing to snooze.")
    row.state, row.due_at, row.next_attempt_at, row.attempts, row.last_error = ReminderState.PENDING, until, None, 0, None
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="reminder.snoozed",
                 now=now, subject_type="reminder", subject_id=row.id or "")
    await session.commit()
    return row


async def done(session: AsyncSession, *, actor: Actor, reminder_id: int, now: datetime) -> Reminder:
    """Stop the remaining reminders of this kind about this subject for this person; returns the pressed one. Commits."""
    row = await _own(session, actor, reminder_id)
    await cancel(session, tenant_id=row.tenant_id, subject_type=row.subject_type, subject_id=row.subject_id,
                             kinds=[row.kind], recipient_aad_id=row.recipient_aad_id)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="reminder.done",
                 now=now, subject_type="reminder", subject_id=row.id or "")
    await session.commit()
    return row


async def _own(session: AsyncSession, actor: Actor, reminder_id: int) -> Reminder:
    """The reminder if it was written to this person in this school; otherwise a polite refusal."""
    row = await session.get(Reminder, reminder_id)
    if row is None or row.tenant_id != actor.tenant_id or row.recipient_aad_id != actor.aad_id:
        raise NotAllowed("Sorry, that reminder isn't yours, so I can't change it.")
    return row


async def _person(session: AsyncSession, tenant_id: str, aad_id: str) -> Person | None:
    rows = await session.execute(select(Person).where(col(Person.tenant_id) == tenant_id, col(Person.aad_id) == aad_id))
    return rows.scalar_one_or_none()
