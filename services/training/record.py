"""Training that counts: organisers mark who came; each person's record; who is due a data-protection session.

Every session in the shared catalogue is data-protection training (the catalogue holds nothing else)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.dates import format_uk, to_local
from services.errors import DomainError
from services.identity import Actor
from services.training.catalogue import attendee_scope, require_organiser
from storage.models import Organisation, Person
from storage.training_models import BookingStatus, TrainingBooking, TrainingSession, TrainingStatus

log = logging.getLogger(__name__)

MARK_WITHIN = timedelta(days=30)  # an organiser's `status` asks for the register of sessions this recent


@dataclass(frozen=True)
class Due:
    """Someone at a school whose data-protection training is missing or older than the valid period."""

    aad_id: str
    name: str
    last: datetime | None  # when their last attended session started; None = never


def valid_since(now: datetime, months: int) -> datetime:
    """The start of the period in which a session still counts (`months` calendar months before today, UK time)."""
    day = to_local(now).date() - relativedelta(months=months)
    return datetime.combine(day, time(), tzinfo=to_local(now).tzinfo).astimezone(UTC)


async def register(
    session: AsyncSession, *, actor: Actor, session_id: int, hub_tenant_id: str, now: datetime
) -> tuple[TrainingSession, list[tuple[TrainingBooking, str]]]:
    """A started session and the seats booked on it that this organiser may mark (their school's, or from the hub
    every school's, then each with its school's name)."""
    require_organiser(actor)
    training = await session.get(TrainingSession, session_id)
    if training is None:
        raise DomainError("Sorry, I can't find that training session.")
    if training.starts_at > now:
        raise DomainError(f"Session #{session_id} starts {format_uk(training.starts_at)}: mark attendance once it has started.")
    query = (select(TrainingBooking, col(Organisation.name))
             .join(Organisation, col(Organisation.tenant_id) == TrainingBooking.tenant_id, isouter=True)
             .where(col(TrainingBooking.session_id) == session_id, col(TrainingBooking.status) == BookingStatus.BOOKED))
    school = attendee_scope(actor.tenant_id, hub_tenant_id)
    if school is not None:
        query = query.where(col(TrainingBooking.tenant_id) == school)
    rows = await session.execute(query.order_by(col(TrainingBooking.name), col(TrainingBooking.id)))
    return training, [(b, "" if school else name or f"school {b.tenant_id[:8]}") for b, name in rows.tuples().all()]


async def unmarked(session: AsyncSession, *, actor: Actor, hub_tenant_id: str, now: datetime) -> list[TrainingSession]:
    """Sessions of the last MARK_WITHIN with seats this organiser may mark that nobody has marked yet, oldest first."""
    query = (select(TrainingSession).join(TrainingBooking, col(TrainingBooking.session_id) == TrainingSession.id)
             .where(col(TrainingSession.starts_at) <= now, col(TrainingSession.starts_at) > now - MARK_WITHIN,
                    col(TrainingSession.status) == TrainingStatus.SCHEDULED,
                    col(TrainingBooking.status) == BookingStatus.BOOKED, col(TrainingBooking.attended).is_(None)))
    school = attendee_scope(actor.tenant_id, hub_tenant_id)
    if school is not None:
        query = query.where(col(TrainingBooking.tenant_id) == school)
    rows = await session.execute(query.distinct().order_by(col(TrainingSession.starts_at)))
    return list(rows.scalars())


async def mark_attendance(
    session: AsyncSession, *, actor: Actor, session_id: int, came: Collection[int], hub_tenant_id: str, now: datetime
) -> tuple[int, int]:
    """Record who came (booking ids ticked) and who did not (the rest of the register); (came, booked). Commits."""
    _, booked = await register(session, actor=actor, session_id=session_id, hub_tenant_id=hub_tenant_id, now=now)
    if set(came) - {b.id for b, _ in booked}:
        raise DomainError("Some of those people aren't booked on this session any more. Please open the register again.")
    for booking, _ in booked:
        booking.attended = booking.id in came
        session.add(booking)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="training.attendance", now=now,
                 subject_type="training_session", subject_id=session_id)
    await session.commit()
    log.info("attendance marked for training session %s: %s of %s", session_id, len(came), len(booked))
    return len(came), len(booked)


async def attended(session: AsyncSession, *, tenant_id: str, aad_id: str) -> list[TrainingSession]:
    """The sessions one person attended, most recent first."""
    rows = await session.execute(
        select(TrainingSession).join(TrainingBooking, col(TrainingBooking.session_id) == TrainingSession.id)
        .where(col(TrainingBooking.tenant_id) == tenant_id, col(TrainingBooking.aad_id) == aad_id,
               col(TrainingBooking.attended).is_(True))
        .order_by(col(TrainingSession.starts_at).desc())
    )
    return list(rows.scalars())


async def training_due(session: AsyncSession, *, tenant_id: str, now: datetime, months: int) -> list[Due]:
    """People of one school (everyone who has used the bot) with no data-protection session attended since
    `valid_since`, never-trained first, then oldest first."""
    last = (
        select(col(TrainingBooking.aad_id), func.max(col(TrainingSession.starts_at)).label("last"))
        .join(TrainingSession, col(TrainingSession.id) == TrainingBooking.session_id)
        .where(col(TrainingBooking.tenant_id) == tenant_id, col(TrainingBooking.attended).is_(True))
        .group_by(col(TrainingBooking.aad_id)).subquery()
    )
    rows = await session.execute(
        select(col(Person.aad_id), col(Person.name), last.c.last).join(last, last.c.aad_id == Person.aad_id, isouter=True)
        .where(col(Person.tenant_id) == tenant_id).order_by(col(Person.name))
    )
    since = valid_since(now, months)
    found = [(aad_id, name, _utc(when)) for aad_id, name, when in rows.tuples().all()]
    due = [Due(aad_id, name or "(no name)", when) for aad_id, name, when in found if when is None or when < since]
    return sorted(due, key=lambda d: (d.last is not None, d.last or now))


def _utc(value: datetime | None) -> datetime | None:
    """A max() over a UTC column comes back naive on SQLite."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
