"""Calendar invites (.ics, RFC 5545) for training bookings, built with the `icalendar` library."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from storage.training_models import TrainingBooking, TrainingFormat, TrainingSession

PRODID = "-//Custodian//Training bookings//EN"
Method = Literal["REQUEST", "CANCEL"]

if TYPE_CHECKING:
    from icalendar import Event


def invite_for(training: TrainingSession, booking: TrainingBooking, *, now: datetime) -> bytes:
    """METHOD:REQUEST for a booked seat (SEQUENCE = the session's current sequence)."""
    return _calendar(training, booking, method="REQUEST", sequence=training.sequence, now=now)


def cancellation_for(training: TrainingSession, booking: TrainingBooking, *, now: datetime) -> bytes:
    """METHOD:CANCEL with the same UID and a higher SEQUENCE, so calendars drop the event."""
    return _calendar(training, booking, method="CANCEL", sequence=training.sequence + 1, now=now)


def file_name(training: TrainingSession, *, cancelled: bool = False) -> str:
    """E.g. 'training-12.ics' or 'training-12-cancelled.ics'."""
    return f"training-{training.id}{'-cancelled' if cancelled else ''}.ics"


def _calendar(training: TrainingSession, booking: TrainingBooking, *, method: Method, sequence: int, now: datetime) -> bytes:
    from icalendar import Calendar  # on first use: ~3 MiB of memory that most days no one books training for

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(_event(training, booking, sequence=sequence, cancelled=method == "CANCEL", now=now))
    return calendar.to_ical()


def _event(training: TrainingSession, booking: TrainingBooking, *, sequence: int, cancelled: bool, now: datetime) -> Event:
    from icalendar import Event, vCalAddress, vText

    event = Event()
    event.add("uid", booking.ical_uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", training.starts_at.astimezone(UTC))
    event.add("dtend", training.ends_at.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", training.title)
    event.add("description", _description(training))
    if training.format == TrainingFormat.ONLINE:
        event.add("location", "Microsoft Teams")
        if training.join_url:
            event.add("url", training.join_url)
    else:
        event.add("location", training.venue)
    if training.organiser_email:
        organiser = vCalAddress(f"mailto:{training.organiser_email}")
        if training.organiser_name:
            organiser.params["cn"] = vText(training.organiser_name)
        event.add("organizer", organiser)
    return event


def _description(training: TrainingSession) -> str:
    parts = [training.description.strip()]
    if training.format == TrainingFormat.ONLINE and training.join_url:
        parts.append(f"Join on Microsoft Teams: {training.join_url}")
    if training.organiser_name or training.organiser_email:
        parts.append(f"Organiser: {' '.join(p for p in (training.organiser_name, training.organiser_email) if p)}")
    return "\n\n".join(p for p in parts if p)
