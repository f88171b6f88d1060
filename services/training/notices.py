"""Training reminders in the reminder ledger: attendees before a session, organisers when booking closes,
and "at once" notices (promoted from the waiting list, session changed or cancelled). Callers commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reminders import ledger as reminders
from storage.models import Role, RoleGrant
from storage.training_models import TrainingBooking, TrainingFormat, TrainingSession

SUBJECT_BOOKING = "training_booking"
SUBJECT_SESSION = "training_session"


class Kind(StrEnum):
    """Reminder kinds this feature registers with the engine."""

    WEEK = "training.7d"
    DAY = "training.1d"
    HOUR = "training.1h"  # online sessions only, with the join link
    CLOSING = "training.closing"  # to organisers, with the attendee list
    PROMOTED = "training.promoted"
    CHANGED = "training.changed"
    CANCELLED = "training.cancelled"


BEFORE_START = ((Kind.WEEK, timedelta(days=7)), (Kind.DAY, timedelta(days=1)), (Kind.HOUR, timedelta(hours=1)))
ATTENDEE_KINDS = tuple(kind for kind, _ in BEFORE_START)


def stamp(moment: datetime) -> str:
    """A compact UTC stamp for keys and payloads; a new session time gives new keys."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


async def schedule_attendee(session: AsyncSession, *, booking: TrainingBooking, training: TrainingSession, now: datetime) -> None:
    """7 days, 1 day (and for online sessions 1 hour) before the start; only those still ahead."""
    for kind, before in BEFORE_START:
        due = training.starts_at - before
        if due <= now or (kind == Kind.HOUR and training.format != TrainingFormat.ONLINE):
            continue
        await reminders.schedule(
            session, key=f"training:{booking.id}:{kind}:{stamp(training.starts_at)}", tenant_id=booking.tenant_id,
            kind=kind, recipient_aad_id=booking.aad_id, subject_type=SUBJECT_BOOKING, subject_id=str(booking.id),
            due_at=due, now=now, payload={"starts": stamp(training.starts_at)},
        )


async def cancel_attendee(session: AsyncSession, *, booking: TrainingBooking, only_before_start: bool = False) -> None:
    """Drop this person's pending reminders (all of them, or only the before-the-start ones)."""
    await reminders.cancel(
        session, tenant_id=booking.tenant_id, subject_type=SUBJECT_BOOKING, subject_id=str(booking.id),
        kinds=ATTENDEE_KINDS if only_before_start else None,
    )


async def notify_now(
    session: AsyncSession, *, booking: TrainingBooking, kind: Kind, tag: str, now: datetime, payload: dict[str, Any] | None = None
) -> None:
    """A notice due at once (the caller then wakes the engine); `tag` makes repeats distinct."""
    await reminders.schedule(
        session, key=f"training:{booking.id}:{kind}:{tag}", tenant_id=booking.tenant_id, kind=kind,
        recipient_aad_id=booking.aad_id, subject_type=SUBJECT_BOOKING, subject_id=str(booking.id), due_at=now, now=now,
        payload=payload,
    )


async def organisers(session: AsyncSession) -> list[tuple[str, str]]:
    """(tenant_id, aad_id) of every current organiser: the catalogue is shared by all schools."""
    rows = await session.execute(
        select(col(RoleGrant.tenant_id), col(RoleGrant.aad_id))
        .where(col(RoleGrant.role) == Role.ORGANISER, col(RoleGrant.revoked_at).is_(None))
        .distinct()
        .order_by(RoleGrant.tenant_id, RoleGrant.aad_id)
    )
    return [(str(tenant), str(aad)) for tenant, aad in rows.all()]


async def schedule_organisers(session: AsyncSession, *, training: TrainingSession, now: datetime) -> None:
    """Tell every organiser when booking closes (idempotent: safe to call on every booking)."""
    closes = training.booking_closes_at
    if closes <= now:
        return
    for tenant_id, aad_id in await organisers(session):
        await reminders.schedule(
            session, key=f"training:s{training.id}:closing:{stamp(closes)}:{aad_id}", tenant_id=tenant_id,
            kind=Kind.CLOSING, recipient_aad_id=aad_id, subject_type=SUBJECT_SESSION, subject_id=str(training.id),
            due_at=closes, now=now, payload={"closes": stamp(closes)},
        )


async def cancel_organisers(session: AsyncSession, *, training: TrainingSession) -> None:
    """Drop the pending booking-closed reminders of a session (for every organiser's school)."""
    for tenant_id in dict.fromkeys(tenant for tenant, _ in await organisers(session)):
        await reminders.cancel(session, tenant_id=tenant_id, subject_type=SUBJECT_SESSION, subject_id=str(training.id))
