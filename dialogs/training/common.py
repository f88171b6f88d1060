"""Training's shared dialog parts: the seed catalogue, the stale-button reply, calendar files, reminder renderers and
status lines."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from botbuilder.core import TurnContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, ReminderKind, StatusLine
from dialogs.kit.cards import Card, plain, submit
from dialogs.kit.files import offer_file
from dialogs.training import cards
from services.dates import format_uk, to_local
from services.identity import Actor, active_roles
from services.training import invites, notices
from services.training.booking import ACTIVE, my_bookings, upcoming
from services.training.catalogue import attendee_list, attendee_scope
from services.training.seed import DEFAULT_SEED, SeedError, load_if_empty
from storage.models import Role
from storage.reminder_models import Reminder
from storage.training_models import BookingStatus, TrainingBooking, TrainingSession, TrainingStatus

log = logging.getLogger(__name__)


class Catalogue:
    """Loads the seed file into an empty catalogue the first time training is used in this process."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._loaded = False

    @property
    def seed_path(self) -> Path:
        """TRAINING_SEED_FILE, else the shipped data/training_sessions.json."""
        configured = self._deps.settings.training_seed_file
        return Path(configured) if configured else DEFAULT_SEED

    async def ready(self, session: AsyncSession) -> None:
        """Make sure the catalogue has been seeded (cheap after the first call); a broken file is logged, not fatal."""
        if self._loaded:
            return
        try:
            await load_if_empty(session, path=self.seed_path, now=self._deps.clock(), tz=self._deps.settings.timezone)
        except SeedError as error:
            log.error("training seed file not loaded: %s", error)
        self._loaded = True


# What a damaged or forged training button gets.
STALE = "Sorry, that button is no longer valid. Type **my bookings** to start again."


async def send_invite(context: TurnContext, deps: Deps, training: TrainingSession, booking: TrainingBooking) -> None:
    """Offer the .ics for a booking: an invite while it stands, a cancellation once it is gone."""
    now = deps.clock()
    if booking.status == BookingStatus.BOOKED and training.status == TrainingStatus.SCHEDULED:
        await offer_file(context, deps, name=invites.file_name(training),
                         content=invites.invite_for(training, booking, now=now),
                         description="Your calendar invite: open it to add the session to your calendar.",
                         again="Your seat is booked. Ask for the calendar file again with **my bookings**.")
        return
    await offer_file(context, deps, name=invites.file_name(training, cancelled=True),
                     content=invites.cancellation_for(training, booking, now=now),
                     description="This removes the session from your calendar.",
                     again="Your booking is cancelled. Press **Remove from calendar** above to get the file again.")


def lead_time(training: TrainingSession, now: datetime) -> str:
    """'starts in 45 minutes', 'is tomorrow at 15:30', 'is on Wed 16 Dec 2026, 15:30' (UK time)."""
    left = training.starts_at - now
    if left <= timedelta(hours=2):
        return f"starts in {max(int(left.total_seconds() // 60), 0)} minutes"
    start, today = to_local(training.starts_at), to_local(now).date()
    if start.date() == today:
        return f"is today at {start:%H:%M}"
    if start.date() == today + timedelta(days=1):
        return f"is tomorrow at {start:%H:%M}"
    return f"is on {format_uk(training.starts_at)}"


async def _booking(session: AsyncSession, reminder: Reminder) -> tuple[TrainingBooking, TrainingSession] | None:
    booking = await session.get(TrainingBooking, int(reminder.subject_id))
    if booking is None or (booking.tenant_id, booking.aad_id) != (reminder.tenant_id, reminder.recipient_aad_id):
        return None
    training = await session.get(TrainingSession, booking.session_id)
    return None if training is None else (booking, training)


def _still_on(booking: TrainingBooking, training: TrainingSession, now: datetime) -> bool:
    return booking.status == BookingStatus.BOOKED and training.status == TrainingStatus.SCHEDULED and training.starts_at > now


async def render_before(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """7 days / 1 day / 1 hour before: only for a seat still held at the time it was scheduled for."""
    found = await _booking(session, reminder)
    if found is None or not _still_on(*found, now) or reminder.payload.get("starts") != notices.stamp(found[1].starts_at):
        return None
    return cards.reminder_card(found[1], found[0], lead=lead_time(found[1], now))


async def render_promoted(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """A seat came free for someone waiting."""
    found = await _booking(session, reminder)
    return cards.promoted_card(found[1], found[0]) if found and _still_on(*found, now) else None


async def render_changed(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """The session moved or changed place."""
    found = await _booking(session, reminder)
    if found is None or found[0].status not in ACTIVE or found[1].status != TrainingStatus.SCHEDULED:
        return None
    changed = reminder.payload.get("changed")
    return cards.changed_card(found[1], found[0], [str(label) for label in changed] if isinstance(changed, list) else [])


async def render_cancelled(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """The organiser cancelled the session."""
    found = await _booking(session, reminder)
    if found is None or found[1].status != TrainingStatus.CANCELLED:
        return None
    return cards.session_cancelled_card(found[1], found[0], had_seat=bool(reminder.payload.get("had_seat")))


async def render_closing(session: AsyncSession, reminder: Reminder, now: datetime, *, hub_tenant_id: str) -> Card | None:
    """To an organiser (still one) when booking closes, with the attendee list they may see."""
    training = await session.get(TrainingSession, int(reminder.subject_id))
    if training is None or training.status != TrainingStatus.SCHEDULED:
        return None
    if reminder.payload.get("closes") != notices.stamp(training.booking_closes_at):
        return None
    if Role.ORGANISER not in await active_roles(session, tenant_id=reminder.tenant_id, aad_id=reminder.recipient_aad_id):
        return None
    school = attendee_scope(reminder.tenant_id, hub_tenant_id)
    return cards.closing_card(training, await attendee_list(session, training=training, school=school))


Renderer = Callable[[AsyncSession, Reminder, datetime], Awaitable[Card | None]]


def reminder_kinds(hub_tenant_id: str) -> dict[str, ReminderKind]:
    """How each training reminder is rendered, and which are urgent (none can be snoozed)."""
    kinds: tuple[tuple[notices.Kind, Renderer, bool], ...] = (
        (notices.Kind.WEEK, render_before, False),
        (notices.Kind.DAY, render_before, False),
        # Urgent: it must arrive on time even for a session starting at 08:30.
        (notices.Kind.HOUR, render_before, True),
        (notices.Kind.CLOSING, partial(render_closing, hub_tenant_id=hub_tenant_id), False),
        # At-once notices about a seat or a cancelled session: people may need to plan or not travel.
        (notices.Kind.PROMOTED, render_promoted, True),
        (notices.Kind.CHANGED, render_changed, True),
        (notices.Kind.CANCELLED, render_cancelled, True),
    )
    return {str(kind): ReminderKind(render=fn, urgent=urgent, snoozable=False) for kind, fn, urgent in kinds}


async def training_status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
    """Staff: their upcoming bookings. Organisers also: sessions to come with seats left and waiting."""
    lines: list[StatusLine] = []
    for booking, training in await my_bookings(session, actor=actor, now=now):
        state = "booked" if booking.status == BookingStatus.BOOKED else "waiting list"
        soon = training.starts_at - now <= timedelta(days=1)
        lines.append(StatusLine("Training", f"{plain(training.title)} \u2014 {format_uk(training.starts_at)} \u2014 {state}",
                                urgency=20 if soon else 5, button=submit("My bookings", {"cmd": cards.MINE})))
    if actor.is_organiser:
        for offer in await upcoming(session, now=now, open_only=False):
            lines.append(StatusLine(
                "Training sessions",
                f"#{offer.training.id} {plain(offer.training.title)} \u2014 {format_uk(offer.training.starts_at)} \u2014 "
                f"{offer.seats_left} seats left, {offer.waiting} waiting",
                button=submit("Attendees", {"cmd": cards.ATTENDEES, "session_id": offer.training.id}),
            ))
    return lines
