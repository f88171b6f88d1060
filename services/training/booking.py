"""Training bookings: what is on offer, booking a seat or a waiting-list place, cancelling, promotion."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from sqlalchemy import ColumnElement, func, select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.dates import format_uk
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.training import notices
from storage.training_models import AttendeeRole, BookingStatus, TrainingBooking, TrainingSession, TrainingStatus

log = logging.getLogger(__name__)

ACTIVE = (BookingStatus.BOOKED, BookingStatus.WAITING)


@dataclass(frozen=True)
class Offer:
    """A session with how many are booked and waiting."""

    training: TrainingSession
    booked: int
    waiting: int

    @property
    def seats_left(self) -> int:
        """Free seats (never negative)."""
        return max(self.training.capacity - self.booked, 0)


@dataclass(frozen=True)
class Cancellation:
    """A cancelled booking and whoever took the freed seat."""

    booking: TrainingBooking
    training: TrainingSession
    was_booked: bool
    promoted: list[TrainingBooking] = field(default_factory=list)


class SessionFull(DomainError):
    """No seat left and the caller did not ask for the waiting list."""


async def _counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    rows = await session.execute(
        select(col(TrainingBooking.session_id), col(TrainingBooking.status), func.count())
        .where(col(TrainingBooking.session_id).in_(list(ids)), col(TrainingBooking.status).in_(ACTIVE))
        .group_by(col(TrainingBooking.session_id), col(TrainingBooking.status))
    )
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for session_id, status, count in rows.all():
        counts[int(session_id)][str(status)] = int(count)
    return counts


async def offers(session: AsyncSession, trainings: Sequence[TrainingSession]) -> list[Offer]:
    """Attach booked/waiting counts to sessions (one query)."""
    counts = await _counts(session, [t.id for t in trainings if t.id is not None])
    return [
        Offer(t, counts[t.id].get(BookingStatus.BOOKED, 0), counts[t.id].get(BookingStatus.WAITING, 0))
        for t in trainings if t.id is not None
    ]


async def upcoming(session: AsyncSession, *, now: datetime, open_only: bool = True) -> list[Offer]:
    """Scheduled sessions still ahead, soonest first; `open_only` also drops those whose booking has closed."""
    query = select(TrainingSession).where(
        col(TrainingSession.status) == TrainingStatus.SCHEDULED, col(TrainingSession.starts_at) > now
    )
    if open_only:
        query = query.where(col(TrainingSession.booking_closes_at) > now)
    rows = await session.execute(query.order_by(col(TrainingSession.starts_at), col(TrainingSession.id)))
    return await offers(session, list(rows.scalars()))


async def get_training(session: AsyncSession, session_id: int) -> TrainingSession:
    """A catalogue session (shared by every school), or a friendly error."""
    training = await session.get(TrainingSession, session_id)
    if training is None:
        raise DomainError("Sorry, I can't find that training session any more.")
    return training


def check_open(training: TrainingSession, *, now: datetime) -> None:
    """Raise unless the session can be booked now."""
    if training.status != TrainingStatus.SCHEDULED:
        raise DomainError(f"Sorry, \u201c{training.title}\u201d has been cancelled.")
    if training.starts_at <= now:
        raise DomainError(f"Sorry, \u201c{training.title}\u201d has already taken place.")
    if training.booking_closes_at <= now:
        raise DomainError(f"Sorry, booking for \u201c{training.title}\u201d closed on {format_uk(training.booking_closes_at)}.")


async def _active_booking(session: AsyncSession, *, session_id: int, actor: Actor) -> TrainingBooking | None:
    rows = await session.execute(
        select(TrainingBooking).where(
            col(TrainingBooking.session_id) == session_id, col(TrainingBooking.tenant_id) == actor.tenant_id,
            col(TrainingBooking.aad_id) == actor.aad_id, col(TrainingBooking.status).in_(ACTIVE),
        )
    )
    return rows.scalars().first()


async def open_offer(session: AsyncSession, *, actor: Actor, session_id: int, now: datetime) -> Offer:
    """The session this person may book now; refuses closed sessions and a second booking."""
    training = await get_training(session, session_id)
    check_open(training, now=now)
    existing = await _active_booking(session, session_id=session_id, actor=actor)
    if existing is not None:
        raise DomainError(await _already_text(session, existing, training))
    return (await offers(session, [training]))[0]


async def _already_text(session: AsyncSession, booking: TrainingBooking, training: TrainingSession) -> str:
    title = f"\u201c{training.title}\u201d"
    if booking.status == BookingStatus.BOOKED:
        return f"You already have a seat on {title} \u2014 no need to book again. Type **my bookings** to see it."
    position = await waiting_position(session, booking)
    return f"You're already on the waiting list for {title} (number {position}). I'll tell you if a seat frees up."


@asynccontextmanager
async def locked(session: AsyncSession, session_id: int) -> AsyncIterator[TrainingSession]:
    """Hold the session row for this transaction so seat counts can't race (rolls back on error).

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: BEGIN IMMEDIATE takes the write lock
    up front, so a count and the insert that follows are atomic across connections and processes.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))
    try:
        query = select(TrainingSession).where(col(TrainingSession.id) == session_id).with_for_update()
        row = await session.execute(query.execution_options(populate_existing=True))
        training = row.scalars().first()
        if training is None:
            raise DomainError("Sorry, I can't find that training session any more.")
        yield training
    except BaseException:
        await session.rollback()
        raise


async def book(
    session: AsyncSession, *, actor: Actor, session_id: int, role: str, now: datetime, allow_waiting: bool = True
) -> TrainingBooking:
    """Book a seat, or a waiting-list place when full (if allowed); refuses a second booking. Commits."""
    if role not in set(AttendeeRole):
        raise DomainError("Please choose your role: head teacher, senior leader, governor or other.")
    async with locked(session, session_id) as training:
        check_open(training, now=now)
        existing = await _active_booking(session, session_id=session_id, actor=actor)
        if existing is not None:
            raise DomainError(await _already_text(session, existing, training))
        (offer,) = await offers(session, [training])
        status = BookingStatus.BOOKED if offer.seats_left > 0 else BookingStatus.WAITING
        if status == BookingStatus.WAITING and not allow_waiting:
            raise SessionFull(f"Sorry, \u201c{training.title}\u201d is full.")
        booking = TrainingBooking(
            session_id=session_id, tenant_id=actor.tenant_id, aad_id=actor.aad_id, name=actor.name[:200], role=role,
            status=status, ical_uid=f"{uuid4()}@custodian", created_at=now,
        )
        session.add(booking)
        await session.flush()
        if status == BookingStatus.BOOKED:
            await notices.schedule_attendee(session, booking=booking, training=training, now=now)
        await notices.schedule_organisers(session, training=training, now=now)
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=f"training.{status}",
                     now=now, subject_type="training_booking", subject_id=booking.id or "")
        await session.commit()
    log.info("training booking %s on session %s: %s", booking.id, session_id, status)
    return booking


async def waiting_position(session: AsyncSession, booking: TrainingBooking) -> int:
    """1 for the first person waiting."""
    ahead = await session.execute(
        select(func.count()).select_from(TrainingBooking).where(
            col(TrainingBooking.session_id) == booking.session_id, col(TrainingBooking.status) == BookingStatus.WAITING,
            col(TrainingBooking.id) < booking.id,
        )
    )
    return int(ahead.scalar_one()) + 1


async def promote(session: AsyncSession, *, training: TrainingSession, now: datetime) -> list[TrainingBooking]:
    """Fill free seats from the waiting list, first come first served, and tell them. Hold `locked`; no commit."""
    if training.status != TrainingStatus.SCHEDULED or training.starts_at <= now:
        return []
    (offer,) = await offers(session, [training])
    if offer.seats_left == 0:
        return []
    rows = await session.execute(
        select(TrainingBooking)
        .where(col(TrainingBooking.session_id) == training.id, col(TrainingBooking.status) == BookingStatus.WAITING)
        .order_by(col(TrainingBooking.id))
        .limit(offer.seats_left)
    )
    promoted = list(rows.scalars())
    for booking in promoted:
        booking.status, booking.promoted_at = BookingStatus.BOOKED, now
        await notices.schedule_attendee(session, booking=booking, training=training, now=now)
        await notices.notify_now(session, booking=booking, kind=notices.Kind.PROMOTED, tag="1", now=now)
        log.info("training booking %s promoted from the waiting list", booking.id)
    return promoted


async def booking_of(session: AsyncSession, *, actor: Actor, booking_id: int) -> tuple[TrainingBooking, TrainingSession]:
    """The actor's own booking and its session; anyone else's (any school) is refused with no data."""
    booking = await session.get(TrainingBooking, booking_id)
    if booking is None or booking.tenant_id != actor.tenant_id or booking.aad_id != actor.aad_id:
        raise NotAllowed("Sorry, I can't find that booking among yours.")
    return booking, await get_training(session, booking.session_id)


async def cancel_booking(session: AsyncSession, *, actor: Actor, booking_id: int, now: datetime) -> Cancellation:
    """Cancel the actor's booking; a freed seat goes to the first person waiting. Commits."""
    booking, _ = await booking_of(session, actor=actor, booking_id=booking_id)
    async with locked(session, booking.session_id) as training:
        await session.refresh(booking)
        if booking.status not in ACTIVE:
            raise DomainError("That booking is already cancelled.")
        if training.starts_at <= now:
            raise DomainError(f"\u201c{training.title}\u201d has already started, so there is nothing to cancel.")
        was_booked = booking.status == BookingStatus.BOOKED
        booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
        await notices.cancel_attendee(session, booking=booking)
        promoted = await promote(session, training=training, now=now) if was_booked else []
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="training.cancelled",
                     now=now, subject_type="training_booking", subject_id=booking_id)
        await session.commit()
    log.info("training booking %s cancelled; %s promoted", booking_id, len(promoted))
    return Cancellation(booking, training, was_booked, promoted)


async def _bookings(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[tuple[TrainingBooking, TrainingSession]]:
    rows = await session.execute(
        select(TrainingBooking, TrainingSession)
        .join(TrainingSession, col(TrainingSession.id) == col(TrainingBooking.session_id))
        .where(col(TrainingBooking.status).in_(ACTIVE), *conditions)
        .order_by(col(TrainingSession.starts_at), col(TrainingBooking.id))
    )
    return [(booking, training) for booking, training in rows.all()]


async def my_bookings(session: AsyncSession, *, actor: Actor, now: datetime) -> list[tuple[TrainingBooking, TrainingSession]]:
    """This person's booked and waiting places on sessions still ahead."""
    return await _bookings(
        session, col(TrainingBooking.tenant_id) == actor.tenant_id, col(TrainingBooking.aad_id) == actor.aad_id,
        col(TrainingSession.starts_at) > now,
    )


async def bookings_for_tenant(
    session: AsyncSession, *, tenant_id: str, now: datetime
) -> list[tuple[TrainingBooking, TrainingSession]]:
    """Every booked and waiting place of one school on sessions still ahead (for a DPO's overview)."""
    return await _bookings(session, col(TrainingBooking.tenant_id) == tenant_id, col(TrainingSession.starts_at) > now)


async def bookings_between(
    session: AsyncSession, *, tenant_id: str, start: datetime, end: datetime
) -> list[tuple[TrainingBooking, TrainingSession]]:
    """One school's booked and waiting places on sessions starting in [start, end) (e.g. one UK day)."""
    return await _bookings(
        session, col(TrainingBooking.tenant_id) == tenant_id,
        col(TrainingSession.starts_at) >= start, col(TrainingSession.starts_at) < end,
    )
