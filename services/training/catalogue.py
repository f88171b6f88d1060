"""The training catalogue, managed by organisers: add, edit and cancel sessions, see attendees."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.dates import parse_uk_datetime, to_local
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.training import notices
from services.training.booking import ACTIVE, locked, offers, promote
from storage.models import Organisation
from storage.training_models import BookingStatus, TrainingBooking, TrainingFormat, TrainingSession, TrainingStatus

log = logging.getLogger(__name__)

DEFAULT_CLOSE = timedelta(hours=24)
MAX_CAPACITY = 10_000
_TIME_ONLY = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class SessionDraft:
    """What an organiser typed, checked and converted (times in UTC)."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    booking_closes_at: datetime
    format: str
    join_url: str
    venue: str
    capacity: int
    organiser_name: str
    organiser_email: str


@dataclass(frozen=True)
class Attendee:
    """One line of an attendee list (organisers only)."""

    name: str
    school: str
    role: str
    status: str


@dataclass(frozen=True)
class Edit:
    """An edited session: what changed that bookers are told about, and who moved up from the waiting list."""

    training: TrainingSession
    changed: tuple[str, ...]  # labels (CHANGE_LABELS); any: invites re-issued and everyone booked or waiting told
    promoted: list[TrainingBooking]


# Form fields whose change is told to everyone booked or waiting (seats and booking close are the organisers' own).
CHANGE_LABELS = {"title": "title", "description": "description", "start": "start", "end": "end", "format": "format",
                 "join_url": "join link", "venue": "venue", "organiser_name": "organiser",
                 "organiser_email": "organiser email"}
_TEAMS_MEETING_HOST = "teams.microsoft.com"


def require_organiser(actor: Actor) -> None:
    """Refuse politely unless the actor is a training organiser."""
    if not actor.is_organiser:
        raise NotAllowed("Sorry, only training organisers can do that. Type **book training** to book a session.")


def _when(label: str, value: str, *, now: datetime) -> datetime:
    try:
        return parse_uk_datetime(value, now=now, prefer="future")
    except DomainError as error:
        raise DomainError(f"{label}: {error}") from error


def _end(value: str, starts_at: datetime, *, now: datetime) -> datetime:
    """An end time on the start day ("16:30") or a full date and time."""
    match = _TIME_ONLY.match(value.strip())
    if match is None:
        return _when("End", value, now=now)
    local = to_local(starts_at).replace(hour=int(match[1]) % 24, minute=int(match[2]) % 60, second=0, microsecond=0)
    return _when("End", local.strftime("%d/%m/%Y %H:%M"), now=now)


def _capacity(value: str) -> int:
    if not re.fullmatch(r"\d{1,6}", value.strip()) or not 0 < int(value) <= MAX_CAPACITY:
        raise DomainError(f"Capacity must be a whole number of seats between 1 and {MAX_CAPACITY:,}.")
    return int(value)


def read_draft(fields: Mapping[str, object], *, now: datetime) -> SessionDraft:
    """Check the session form; raise DomainError naming the first problem."""
    get = {key: str(value or "").strip() for key, value in fields.items()}.get
    title, description = get("title", ""), get("description", "")
    if not title or len(title) > 200:
        raise DomainError("Please give the session a title (up to 200 characters).")
    if len(description) > 2000:
        raise DomainError("Please keep the description under 2,000 characters.")
    starts_at = _when("Start", get("start", ""), now=now)
    ends_at = _end(get("end", ""), starts_at, now=now)
    if ends_at <= starts_at:
        raise DomainError("The end must be after the start.")
    closes = get("closes", "")
    closes_at = _when("Booking closes", closes, now=now) if closes else starts_at - DEFAULT_CLOSE
    if closes_at > starts_at:
        raise DomainError("Booking must close before the session starts.")
    fmt = get("format", "")
    if fmt not in set(TrainingFormat):
        raise DomainError("Please choose online (Teams) or in person.")
    join_url, venue = get("join_url", ""), get("venue", "")
    if fmt == TrainingFormat.ONLINE and not _teams_meeting_link(join_url):
        raise DomainError("An online session needs its Teams meeting join link (starting https://teams.microsoft.com/).")
    if fmt == TrainingFormat.IN_PERSON and not 0 < len(venue) <= 300:
        raise DomainError("An in-person session needs a venue.")
    email = get("organiser_email", "")
    if not _EMAIL.match(email) or len(email) > 200:
        raise DomainError("Please give an organiser contact email, e.g. training@yourhub.org.uk.")
    return SessionDraft(
        title, description, starts_at, ends_at, closes_at, fmt, join_url if fmt == TrainingFormat.ONLINE else "",
        venue if fmt == TrainingFormat.IN_PERSON else "", _capacity(get("capacity", "")),
        get("organiser_name", "")[:200], email,
    )


def _teams_meeting_link(url: str) -> bool:
    """An https link to a Teams meeting: teams.microsoft.com, no user name or port to disguise another host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (len(url) <= 1000 and parts.scheme == "https" and parts.hostname == _TEAMS_MEETING_HOST
            and "@" not in parts.netloc and port is None and not any(c.isspace() for c in url))


def form_values(training: TrainingSession) -> dict[str, str]:
    """A session as the organiser form shows it (UK times)."""
    return {
        "title": training.title, "description": training.description,
        "start": to_local(training.starts_at).strftime("%d/%m/%Y %H:%M"),
        "end": to_local(training.ends_at).strftime("%d/%m/%Y %H:%M"),
        # Empty when it is the default, so that moving the start moves the close too.
        "closes": "" if training.booking_closes_at == training.starts_at - DEFAULT_CLOSE
        else to_local(training.booking_closes_at).strftime("%d/%m/%Y %H:%M"),
        "format": training.format, "join_url": training.join_url, "venue": training.venue,
        "capacity": str(training.capacity), "organiser_name": training.organiser_name,
        "organiser_email": training.organiser_email,
    }


def _apply(training: TrainingSession, draft: SessionDraft, now: datetime) -> None:
    for name, value in vars(draft).items():
        setattr(training, name, value)
    training.updated_at = now


async def add_session(session: AsyncSession, *, actor: Actor, draft: SessionDraft, now: datetime) -> TrainingSession:
    """Add a session to the shared catalogue. Commits."""
    require_organiser(actor)
    if draft.booking_closes_at <= now:
        raise DomainError("Booking for that session would already be closed: choose a later start or closing time.")
    training = TrainingSession(**vars(draft), created_at=now, updated_at=now)
    session.add(training)
    await session.flush()
    await notices.schedule_organisers(session, training=training, now=now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="training.session_added",
                 now=now, subject_type="training_session", subject_id=training.id or "")
    await session.commit()
    log.info("training session %s added", training.id)
    return training


async def _active_bookings(session: AsyncSession, session_id: int) -> list[TrainingBooking]:
    rows = await session.execute(
        select(TrainingBooking)
        .where(col(TrainingBooking.session_id) == session_id, col(TrainingBooking.status).in_(ACTIVE))
        .order_by(col(TrainingBooking.id))
    )
    return list(rows.scalars())


async def edit_session(session: AsyncSession, *, actor: Actor, session_id: int, draft: SessionDraft, now: datetime) -> Edit:
    """Change a session; a change bookers see re-issues invites and tells them what changed (a new time or place
    re-schedules their reminders), more seats promote. Commits."""
    require_organiser(actor)
    async with locked(session, session_id) as training:
        if training.status != TrainingStatus.SCHEDULED or training.starts_at <= now:
            raise DomainError("Only sessions that are still to come can be edited.")
        (offer,) = await offers(session, [training])
        if draft.capacity < offer.booked:
            raise DomainError(f"{offer.booked} people already have a seat, so the capacity can't go below {offer.booked}.")
        before, old_closes, old_times = form_values(training), training.booking_closes_at, _times(training)
        _apply(training, draft, now)
        after = form_values(training)
        changed = tuple(label for key, label in CHANGE_LABELS.items() if before[key] != after[key])
        moved = old_times != _times(training)
        if changed:
            training.sequence += 1
            await _tell_bookers(session, training, changed, now, reschedule=moved)
        if moved or old_closes != training.booking_closes_at:
            await notices.cancel_organisers(session, training=training)
            await notices.schedule_organisers(session, training=training, now=now)
        promoted = await promote(session, training=training, now=now)
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="training.session_edited",
                     now=now, subject_type="training_session", subject_id=session_id)
        await session.commit()
    log.info("training session %s edited (%s changed, promoted=%s)", session_id, len(changed), len(promoted))
    return Edit(training, changed, promoted)


def _times(training: TrainingSession) -> tuple[datetime, datetime]:
    return training.starts_at, training.ends_at


async def _tell_bookers(
    session: AsyncSession, training: TrainingSession, changed: tuple[str, ...], now: datetime, *, reschedule: bool
) -> None:
    """A notice naming what changed, with the updated invite, to everyone booked or waiting; new reminder keys for a
    new time."""
    for booking in await _active_bookings(session, training.id or 0):
        if reschedule:
            await notices.cancel_attendee(session, booking=booking, only_before_start=True)
            if booking.status == BookingStatus.BOOKED:
                await notices.schedule_attendee(session, booking=booking, training=training, now=now)
        await notices.notify_now(session, booking=booking, kind=notices.Kind.CHANGED, tag=str(training.sequence), now=now,
                                 payload={"changed": list(changed)})


async def cancel_session(session: AsyncSession, *, actor: Actor, session_id: int, now: datetime) -> list[TrainingBooking]:
    """Cancel a session and tell everyone booked or waiting at once (the caller wakes the engine). Commits."""
    require_organiser(actor)
    async with locked(session, session_id) as training:
        if training.status == TrainingStatus.CANCELLED:
            raise DomainError("That session is already cancelled.")
        if training.starts_at <= now:
            raise DomainError("That session has already taken place.")
        training.status, training.updated_at = TrainingStatus.CANCELLED, now
        told = await _active_bookings(session, session_id)
        for booking in told:
            had_seat = booking.status == BookingStatus.BOOKED
            booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
            await notices.cancel_attendee(session, booking=booking)
            await notices.notify_now(session, booking=booking, kind=notices.Kind.CANCELLED, tag="1", now=now,
                                     payload={"had_seat": had_seat})
        await notices.cancel_organisers(session, training=training)
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="training.session_cancelled",
                     now=now, subject_type="training_session", subject_id=session_id)
        await session.commit()
    log.info("training session %s cancelled; %s people told", session_id, len(told))
    return told


def attendee_scope(organiser_tenant_id: str, hub_tenant_id: str) -> str | None:
    """Whose bookings an organiser sees: every school's from the hub's tenant (None), else only their own school's."""
    return None if hub_tenant_id and organiser_tenant_id == hub_tenant_id else organiser_tenant_id


async def attendee_list(session: AsyncSession, *, training: TrainingSession, school: str | None) -> list[Attendee]:
    """Names, schools and roles of everyone booked or waiting, of one school or all (for organisers' eyes only)."""
    query = (
        select(TrainingBooking, col(Organisation.name))
        .join(Organisation, col(Organisation.tenant_id) == col(TrainingBooking.tenant_id), isouter=True)
        .where(col(TrainingBooking.session_id) == training.id, col(TrainingBooking.status).in_(ACTIVE))
        .order_by(col(TrainingBooking.status), col(TrainingBooking.id))
    )
    if school is not None:
        query = query.where(col(TrainingBooking.tenant_id) == school)
    rows = await session.execute(query)
    return [Attendee(b.name, school or f"school {b.tenant_id[:8]}", b.role, b.status) for b, school in rows.all()]


async def attendees(
    session: AsyncSession, *, actor: Actor, session_id: int, hub_tenant_id: str
) -> tuple[TrainingSession, list[Attendee]]:
    """A session's attendee list, for organisers only (limited to their school outside the hub's tenant)."""
    require_organiser(actor)
    training = await session.get(TrainingSession, session_id)
    if training is None:
        raise DomainError("Sorry, I can't find that training session.")
    return training, await attendee_list(session, training=training, school=attendee_scope(actor.tenant_id, hub_tenant_id))

