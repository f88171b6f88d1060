"""The reminder sweep's steps (Teams-free): claim due reminders, settle how each ended (retry, hold a blocked
school, reroute to another DPO, tell the DPOs), reconcile stale claims. bot.scheduler runs it over the ledger."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dates import format_uk
from services.identity import active_roles, mark_unreachable, reachable_holders, set_reference
from services.reminders.ledger import FAILED_KIND, NOTICE_KIND, WAITING, QuietHours, recipient_of, schedule
from services.school.calendar import closed_schools
from storage.db import rowcount
from storage.models import Organisation, Person, Role
from storage.reminder_models import Reminder, ReminderState

log = logging.getLogger(__name__)

# Teams said the school's admin blocked the app (403 BotDisabledByAdmin): everything for the school is held and
# one send tries again this often; when one gets through, the school's DPOs are told once.
BLOCKED_RECHECK = timedelta(hours=1)
BLOCKED = "held: the school's Teams admin has blocked Custodian"
# A claim older than this whose outcome was never stamped belongs to a process that died mid-send.
SENDING_TIMEOUT = timedelta(minutes=5)
# How often a reminder waiting for its recipient (WAITING) is looked at again.
WAIT_RECHECK = timedelta(days=1)
SUPERSEDED = "superseded: a later reminder about the same thing was due too"


class Outcome(StrEnum):
    """How one claimed reminder ended this time."""

    SENT = "sent"
    RETRY = "retry"  # Teams was busy or down: back to pending with a later next_attempt_at
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"  # the renderer says it no longer applies
    WAITING = "waiting"  # no conversation with the recipient yet: pending until they open Custodian
    GONE = "gone"  # Teams no longer knows the stored conversation: forgotten, and tried again at once
    BLOCKED = "blocked"  # the school's admin blocked the app: held with everything else for the school (BLOCKED)


@dataclass(frozen=True)
class Delivery:
    """What the sender reported for one reminder (Teams-free)."""

    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None
    activity_id: str | None = None  # the sent message's id, kept to update its card later


async def closed_today(session: AsyncSession, *, now: datetime, urgent: Collection[str], quiet: QuietHours) -> set[str]:
    """Schools with non-urgent reminders due where today is not a school day (weekend, bank or school holiday)."""
    rows = await session.execute(
        select(col(Reminder.tenant_id)).where(col(Reminder.state) == ReminderState.PENDING, col(Reminder.due_at) <= now,
                                              col(Reminder.kind).not_in(list(urgent))).distinct())
    return await closed_schools(session, set(rows.scalars()), now.astimezone(ZoneInfo(quiet.tz)).date(), quiet.region)


async def supersede_piled(session: AsyncSession, *, now: datetime, urgent: Collection[str]) -> int:
    """Of non-urgent reminders due together about the same thing for the same person (held over a holiday, or the
    bot was down), only the latest goes: the rest are cancelled. Commits."""
    rows = await session.execute(
        select(col(Reminder.id), col(Reminder.tenant_id), col(Reminder.kind), col(Reminder.subject_type),
               col(Reminder.subject_id), col(Reminder.recipient_aad_id))
        .where(col(Reminder.state) == ReminderState.PENDING, col(Reminder.due_at) <= now,
               col(Reminder.kind).not_in(list(urgent)))
        .order_by(col(Reminder.due_at).desc(), col(Reminder.id).desc()))
    latest: set[tuple[str, ...]] = set()
    older: list[int] = []
    for reminder_id, *about in rows.tuples():
        if tuple(about) in latest:
            older.append(reminder_id)
        latest.add(tuple(about))
    for start in range(0, len(older), 1000):
        await session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(older[start:start + 1000]), col(Reminder.state) == ReminderState.PENDING)
            .values(state=ReminderState.CANCELLED, last_error=SUPERSEDED))
    await session.commit()
    return len(older)


async def claim_due(
    session: AsyncSession, *, now: datetime, worker: str, kinds: Collection[str] | None, limit: int,
    held: Collection[str] = (), urgent: Collection[str] = (),
) -> list[Reminder]:
    """Stamp up to `limit` due reminders `sending` for this worker and commit before anything is sent.

    `kinds` limits the claim (quiet hours: urgent kinds only); the `held` schools (closed today) get only `urgent`
    kinds. On PostgreSQL rows another process is claiming are skipped (FOR UPDATE SKIP LOCKED); SQLite has one
    process and ignores the clause.
    """
    due = (
        select(col(Reminder.id))
        .where(
            col(Reminder.state) == ReminderState.PENDING, col(Reminder.due_at) <= now,
            or_(col(Reminder.next_attempt_at).is_(None), col(Reminder.next_attempt_at) <= now),
        )
        .order_by(col(Reminder.due_at), col(Reminder.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if kinds is not None:
        due = due.where(col(Reminder.kind).in_(list(kinds)))
    if held:
        due = due.where(or_(col(Reminder.kind).in_(list(urgent)), col(Reminder.tenant_id).not_in(list(held))))
    ids = list((await session.execute(due)).scalars())
    if not ids:
        await session.rollback()
        return []
    claim = f"{worker[:50]}/{uuid.uuid4().hex[:12]}"
    await session.execute(
        update(Reminder)
        .where(col(Reminder.id).in_(ids), col(Reminder.state) == ReminderState.PENDING)
        .values(state=ReminderState.SENDING, claimed_by=claim, claimed_at=now)
    )
    await session.commit()
    rows = await session.execute(
        select(Reminder).where(col(Reminder.claimed_by) == claim, col(Reminder.state) == ReminderState.SENDING)
        .order_by(col(Reminder.id))
    )
    return list(rows.scalars())


async def claim_alike(session: AsyncSession, *, first: Reminder, now: datetime) -> list[Reminder]:
    """The due reminders of `first`'s kind for the same person, claimed with `first` (to go as one card), oldest
    first; those of the same claim are among them. Commits."""
    alike = (col(Reminder.tenant_id) == first.tenant_id, col(Reminder.recipient_aad_id) == first.recipient_aad_id,
             col(Reminder.kind) == first.kind)
    await session.execute(
        update(Reminder)
        .where(*alike, col(Reminder.state) == ReminderState.PENDING, col(Reminder.due_at) <= now,
               or_(col(Reminder.next_attempt_at).is_(None), col(Reminder.next_attempt_at) <= now))
        .values(state=ReminderState.SENDING, claimed_by=first.claimed_by, claimed_at=now)
    )
    await session.commit()
    rows = await session.execute(select(Reminder).where(
        *alike, col(Reminder.claimed_by) == first.claimed_by, col(Reminder.state) == ReminderState.SENDING,
    ).order_by(col(Reminder.due_at), col(Reminder.id)))
    return list(rows.scalars())


async def unaddressed(session: AsyncSession, *, now: datetime) -> list[tuple[str, str]]:
    """(tenant, person) due a reminder now whom Custodian has no 1:1 chat with and no 403 from: a chat may be
    opened for them before the sweep claims (bot.scheduler)."""
    rows = await session.execute(
        select(col(Reminder.tenant_id), col(Reminder.recipient_aad_id)).distinct()
        .join(Person, (col(Person.tenant_id) == col(Reminder.tenant_id)) & (col(Person.aad_id) == col(Reminder.recipient_aad_id)))
        .where(col(Reminder.state) == ReminderState.PENDING, col(Reminder.due_at) <= now,
               or_(col(Reminder.next_attempt_at).is_(None), col(Reminder.next_attempt_at) <= now),
               col(Person.conversation_reference).is_(None), col(Person.unreachable_at).is_(None))
        .order_by(col(Reminder.tenant_id), col(Reminder.recipient_aad_id))
    )
    return [(tenant, aad) for tenant, aad in rows.all()]


async def reconcile_stale(session: AsyncSession, *, now: datetime) -> int:
    """Stale `sending` rows (the process died between send and stamp) become `sent`, never resent. Commits."""
    result = await session.execute(
        update(Reminder)
        .where(col(Reminder.state) == ReminderState.SENDING, col(Reminder.claimed_at) <= now - SENDING_TIMEOUT)
        .values(state=ReminderState.SENT, sent_at=col(Reminder.claimed_at),
                last_error="unconfirmed: the bot stopped while sending")
    )
    await session.commit()
    return rowcount(result)


def retry_at(now: datetime, *, attempts: int, retry_after: float | None) -> datetime:
    """Backoff across sweeps: 1, 2, 4 ... minutes (at most an hour), or longer if Teams asked."""
    wait = min(timedelta(hours=1), timedelta(minutes=1) * 2 ** max(0, attempts - 1))
    return now + max(wait, timedelta(seconds=retry_after or 0))


async def settle(
    session: AsyncSession, *, settled: Sequence[tuple[Reminder, Delivery]], now: datetime, max_attempts: int
) -> list[Outcome]:
    """Stamp how claimed reminders ended and schedule the follow-ups (DPO told, handover); the caller commits."""
    ids = [reminder.id for reminder, _ in settled]
    rows = await session.execute(
        select(Reminder).where(col(Reminder.id).in_(ids), col(Reminder.state) == ReminderState.SENDING))
    claimed = {row.id: row for row in rows.scalars()}
    outcomes = []
    for reminder, delivery in settled:
        row = claimed.get(reminder.id)
        if row is None or row.claimed_by != reminder.claimed_by:  # reconciled meanwhile: leave it as it is
            log.warning("reminder %s lost its claim before it was stamped", reminder.id)
            outcomes.append(delivery.outcome)
        else:
            outcomes.append(await _stamp(session, row, delivery, now=now, max_attempts=max_attempts))
    await _unblock(session, {r.tenant_id for (r, _), o in zip(settled, outcomes, strict=True) if o is Outcome.SENT}, now)
    return outcomes


async def _stamp(session: AsyncSession, row: Reminder, delivery: Delivery, *, now: datetime, max_attempts: int) -> Outcome:
    outcome = delivery.outcome
    if outcome is Outcome.WAITING:
        row.state, row.next_attempt_at, row.last_error = ReminderState.PENDING, now + WAIT_RECHECK, WAITING
        return outcome
    if outcome is Outcome.BLOCKED:
        await _hold_school(session, row.tenant_id, now)
        row.state, row.next_attempt_at, row.last_error = ReminderState.PENDING, now + BLOCKED_RECHECK, BLOCKED
        return outcome
    if outcome is Outcome.GONE:
        await set_reference(session, tenant_id=row.tenant_id, aad_id=row.recipient_aad_id, reference_json=None)
        row.state, row.next_attempt_at, row.last_error = ReminderState.PENDING, None, "conversation gone: reopening"
        return outcome
    if outcome is not Outcome.CANCELLED:
        row.attempts += 1
    if outcome is Outcome.RETRY and row.attempts >= max_attempts:
        outcome = Outcome.FAILED
    row.last_error = (delivery.error or "")[:200] or None
    if outcome is Outcome.RETRY:
        row.state = ReminderState.PENDING
        row.next_attempt_at = retry_at(now, attempts=row.attempts, retry_after=delivery.retry_after)
    else:
        row.state = ReminderState(outcome.value)
    if outcome is Outcome.SENT:
        row.sent_at, row.activity_id = now, delivery.activity_id
    elif outcome is Outcome.UNREACHABLE:
        await _reroute(session, row, now)
    elif outcome is Outcome.FAILED:
        await _tell_dpos(session, row, now, reason="failed")
    return outcome


async def _hold_school(session: AsyncSession, tenant_id: str, now: datetime) -> None:
    """Stop sending to a school whose admin blocked the app: note when, and hold what is due for the next hour."""
    org = await session.get(Organisation, tenant_id)
    if org is not None and org.app_blocked_at is None:
        org.app_blocked_at = now
        log.warning("tenant %s: Teams says the app is blocked by the admin; sends held", tenant_id)
    until = now + BLOCKED_RECHECK
    await session.execute(
        update(Reminder)
        .where(col(Reminder.tenant_id) == tenant_id, col(Reminder.state) == ReminderState.PENDING,
               or_(col(Reminder.next_attempt_at).is_(None), col(Reminder.next_attempt_at) < until))
        .values(next_attempt_at=until)
    )


async def _unblock(session: AsyncSession, tenant_ids: Collection[str], now: datetime) -> None:
    """A send got through to a school that was blocked: the block is over; its DPOs are told, once."""
    if not tenant_ids:
        return
    rows = await session.execute(select(Organisation).where(
        col(Organisation.tenant_id).in_(sorted(tenant_ids)), col(Organisation.app_blocked_at).is_not(None)))
    for org in rows.scalars():
        since, org.app_blocked_at = org.app_blocked_at, None
        assert since is not None
        log.info("tenant %s: sends get through again", org.tenant_id)
        for dpo in await reachable_holders(session, tenant_id=org.tenant_id, role=Role.DPO):
            await schedule(
                session, key=f"unblocked:{org.tenant_id}:{since.isoformat()}:{dpo.aad_id}", tenant_id=org.tenant_id,
                kind=NOTICE_KIND, recipient_aad_id=dpo.aad_id, subject_type="school", subject_id=org.tenant_id,
                due_at=now, now=now, payload={
                    "title": "Custodian can reach your school again",
                    "text": "Your school's Teams admin had blocked Custodian, so nothing could be sent from "
                            f"{format_uk(since)}. It works again: messages held since then are being delivered now.",
                    "why": "Teams refused every message to your school while the app was blocked.",
                },
            )


async def _reroute(session: AsyncSession, row: Reminder, now: datetime) -> None:
    """Blocked (403) or never reachable: a DPO's reminder goes to the next DPO; otherwise the DPOs are told."""
    person = await recipient_of(session, row)
    if person is not None and person.id is not None:
        await mark_unreachable(session, person_id=person.id, now=now)
    if Role.DPO not in await active_roles(session, tenant_id=row.tenant_id, aad_id=row.recipient_aad_id):
        await _tell_dpos(session, row, now, reason="unreachable")
        return
    dpos = await _reachable_dpos(session, row)
    if not dpos:
        log.warning("reminder %s: no other reachable DPO in tenant %s", row.id, row.tenant_id)
        return
    targets = [dpo for dpo in dpos if not await _has_copy(session, row, dpo.aad_id)]
    if not targets:  # every reachable DPO gets this same reminder already: a handover would only repeat it
        return
    target = targets[0]
    await schedule(
        session, key=f"handover:{row.id}:{target.aad_id}", tenant_id=row.tenant_id, kind=row.kind,
        recipient_aad_id=target.aad_id, subject_type=row.subject_type, subject_id=row.subject_id,
        due_at=now, now=now, payload=dict(row.payload),
    )


async def _has_copy(session: AsyncSession, row: Reminder, aad_id: str) -> bool:
    """Whether `aad_id` has their own reminder of this kind about this subject, due at the same time."""
    found = await session.execute(select(col(Reminder.id)).where(
        col(Reminder.tenant_id) == row.tenant_id, col(Reminder.recipient_aad_id) == aad_id,
        col(Reminder.kind) == row.kind, col(Reminder.subject_type) == row.subject_type,
        col(Reminder.subject_id) == row.subject_id, col(Reminder.due_at) == row.due_at,
    ).limit(1))
    return found.first() is not None


async def _tell_dpos(session: AsyncSession, row: Reminder, now: datetime, *, reason: str) -> None:
    """Schedule a `reminder.failed` notice to each reachable DPO (never about a notice: no loops)."""
    if row.kind == FAILED_KIND:
        return
    dpos = await _reachable_dpos(session, row)
    for dpo in dpos:
        await schedule(
            session, key=f"failed:{row.id}:{dpo.aad_id}", tenant_id=row.tenant_id, kind=FAILED_KIND,
            recipient_aad_id=dpo.aad_id, subject_type=row.subject_type, subject_id=row.subject_id,
            due_at=now, now=now, payload={"reminder_id": row.id, "reason": reason},
        )
    if not dpos:
        log.warning("reminder %s %s and tenant %s has no reachable DPO to tell", row.id, reason, row.tenant_id)


async def _reachable_dpos(session: AsyncSession, row: Reminder) -> list[Person]:
    """The school's DPOs we can write to, other than this reminder's recipient (oldest first)."""
    return [p for p in await reachable_holders(session, tenant_id=row.tenant_id, role=Role.DPO)
            if p.aad_id != row.recipient_aad_id]

