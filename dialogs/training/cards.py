"""Training cards: catalogue, booking steps, bookings, reminders and organiser views. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dialogs.kit.cards import Card, card, facts, heading, notifying, plain, shorten, submit, text, text_input
from services.dates import format_uk, to_local
from services.training.booking import Offer
from services.training.catalogue import Attendee
from storage.training_models import BookingStatus, TrainingBooking, TrainingFormat, TrainingSession

ROLES: dict[str, str] = {
    "head_teacher": "Head teacher", "senior_leader": "Senior leader", "governor": "Governor", "other": "Other",
}
YES, NO = {"confirm": "yes"}, {"confirm": "no"}
CATALOGUE_LIMIT = 12  # sessions per card: Teams refuses cards over about 28 KB
BOOK, CANCEL_BOOKING, ICS, MINE = "training.book", "training.cancel", "training.ics", "training.mine"
ATTENDEES, EDIT, CANCEL_SESSION = "training.attendees", "training.edit", "training.cancel_session"
SESSION_FORM = "training.session"  # the organiser's add/edit session form
SHOW_DUE, OPEN_REGISTER = "training.show_due", "training.register"  # status lines' buttons


def when(training: TrainingSession) -> str:
    """E.g. 'Wed 16 Dec 2026, 15:30–17:00 (UK time)'."""
    start, end = to_local(training.starts_at), to_local(training.ends_at)
    finish = end.strftime("%H:%M") if end.date() == start.date() else format_uk(training.ends_at)
    return f"{format_uk(training.starts_at)}\u2013{finish} (UK time)"


def where(training: TrainingSession) -> str:
    """'Online (Microsoft Teams)' or the venue."""
    return "Online (Microsoft Teams)" if training.format == TrainingFormat.ONLINE else plain(training.venue)


def _seats(offer: Offer) -> str:
    if offer.seats_left:
        return f"{offer.seats_left} of {offer.training.capacity} left"
    return f"Full \u2014 {offer.waiting} waiting" if offer.waiting else "Full \u2014 join the waiting list"


def _session_block(training: TrainingSession, extra: Sequence[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    return [text(f"**{plain(training.title)}**"), facts([("When", when(training)), ("Where", where(training)), *extra])]


def _buttons(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "ActionSet", "actions": list(actions)}


def _join(training: TrainingSession) -> list[dict[str, Any]]:
    """The 'Join on Teams' link of an online session (none for in-person ones)."""
    if training.format == TrainingFormat.ONLINE and training.join_url:
        return [{"type": "Action.OpenUrl", "title": "Join on Teams", "url": training.join_url}]
    return []


def _booking_buttons(booking: TrainingBooking) -> dict[str, Any]:
    actions = [submit("Cancel booking", {"cmd": CANCEL_BOOKING, "booking_id": booking.id})]
    if booking.status == BookingStatus.BOOKED:
        actions.insert(0, submit("Add to calendar", {"cmd": ICS, "booking_id": booking.id}))
    return _buttons(*actions)


def catalogue_card(offers: Sequence[Offer], *, month: str = "", note: str = "") -> Card:
    """The next sessions open for booking (in `month` when one was asked for), each with a button (kept well under
    Teams' card size); `note` first (e.g. nothing in the month asked for)."""
    body: list[dict[str, Any]] = [heading(f"Training you can book in {month}" if month else "Training you can book")]
    if note:
        body.append(text(note))
    if not offers:
        body.append(text("There are no sessions open for booking right now. Please check again later."))
    for offer in offers[:CATALOGUE_LIMIT]:
        label = "Book a seat" if offer.seats_left else "Join the waiting list"
        body += _session_block(offer.training, [("Seats", _seats(offer))])
        body.append(text(plain(shorten(offer.training.description)), subtle=True))
        body.append(_buttons(submit(label, {"cmd": BOOK, "session_id": offer.training.id})))
    if len(offers) > CATALOGUE_LIMIT:
        body.append(text(f"These are the next {CATALOGUE_LIMIT} of {len(offers)} sessions.", subtle=True))
    return card(body)


def role_card(training: TrainingSession) -> Card:
    """Which role the attendee has at school."""
    body = [heading("What is your role?"), *_session_block(training)]
    return card(body, [submit(label, {"role": value}) for value, label in ROLES.items()])


def confirm_card(offer: Offer, role: str) -> Card:
    """Book a seat, or join the waiting list (with the place they would get) when full."""
    details = [("Your role", ROLES.get(role) or plain(role))]
    if offer.seats_left:
        ask, yes = "Book a seat on this session?", "Book my seat"
    else:
        ask = f"This session is full. Join the waiting list? You would be number {offer.waiting + 1}."
        yes = "Join the waiting list"
    body = [heading(ask), *_session_block(offer.training, details)]
    return card(body, [submit(yes, YES), submit("Not now", NO)])


def booked_card(training: TrainingSession, booking: TrainingBooking, *, position: int | None = None) -> Card:
    """Confirmation of a seat (when, where, the join link; the calendar file follows) or of a waiting-list place."""
    buttons = _booking_buttons(booking)
    if booking.status == BookingStatus.BOOKED:
        title = "You're booked"
        note = "Your calendar file follows: press Allow to save it, then open it. I'll remind you before the session."
        buttons["actions"][:0] = _join(training)
    else:
        title = f"You're on the waiting list \u2014 number {position}"
        note = "If a seat frees up you'll get it automatically, and I'll tell you straight away."
    body = [heading(title), *_session_block(training, [("Organiser", _organiser(training))]), text(note, subtle=True)]
    return card([*body, buttons])


def _organiser(training: TrainingSession) -> str:
    return " \u2014 ".join(plain(p) for p in (training.organiser_name, training.organiser_email) if p) or "\u2014"


def bookings_card(items: Sequence[tuple[TrainingBooking, TrainingSession, int | None]], *, title: str = "Your bookings") -> Card:
    """Booked and waiting places, each with its buttons (position for waiting ones)."""
    body: list[dict[str, Any]] = [heading(title)]
    if not items:
        body.append(text("You have no upcoming training bookings. Type **book training** to see what's on."))
    for booking, training, position in items:
        status = "Booked" if booking.status == BookingStatus.BOOKED else f"Waiting list, number {position}"
        body += [*_session_block(training, [("Status", status)]), _booking_buttons(booking)]
    return card(body)


def cancel_confirm_card(booking: TrainingBooking, training: TrainingSession) -> Card:
    """Are you sure?"""
    what = "your seat" if booking.status == BookingStatus.BOOKED else "your waiting-list place"
    body = [heading(f"Cancel {what}?"), *_session_block(training)]
    return card(body, [submit("Yes, cancel it", YES), submit("No, keep it", NO)])


def cancelled_card(training: TrainingSession, *, was_booked: bool) -> Card:
    """The booking is gone (a removal for the calendar comes with it when there was a seat)."""
    note = "The calendar file that follows removes it from your calendar." if was_booked else "You're off the waiting list."
    return card([heading("Booking cancelled"), *_session_block(training), text(note, subtle=True)])


def reminder_card(training: TrainingSession, booking: TrainingBooking, *, lead: str) -> Card:
    """Before the session: when, where, the join link for online sessions."""
    body = [heading(f"Training {lead}"), *_session_block(training)]
    actions = [*_join(training), submit("Add to calendar", {"cmd": ICS, "booking_id": booking.id}),
               submit("I can't make it", {"cmd": CANCEL_BOOKING, "booking_id": booking.id})]
    return notifying(card(body, actions), f"Training {lead}")


def promoted_card(training: TrainingSession, booking: TrainingBooking) -> Card:
    """A seat came free and is now theirs."""
    body = [heading("Good news: you have a seat"), *_session_block(training),
            text("Someone cancelled, so you've moved up from the waiting list. Add it to your calendar below.", subtle=True)]
    return notifying(card([*body, _booking_buttons(booking)]), "You have a seat on a training session")


def changed_card(training: TrainingSession, booking: TrainingBooking, changed: Sequence[str]) -> Card:
    """The organiser changed the session: what changed, and the session as it is now."""
    body = [heading("A training session you're booked on has changed"), *_session_block(training)]
    if changed:
        body.insert(1, text("Changed: " + ", ".join(changed) + ".", subtle=True))
    if booking.status == BookingStatus.BOOKED:
        body.append(text("Press **Add to calendar** for the updated invite.", subtle=True))
    return notifying(card([*body, _booking_buttons(booking)]), "A training session has changed")


def session_cancelled_card(training: TrainingSession, booking: TrainingBooking, *, had_seat: bool) -> Card:
    """The organiser cancelled the session (with a way to take it out of the calendar when they had a seat)."""
    body = [heading("Training cancelled"), *_session_block(training),
            text("The organiser has cancelled this session. Sorry! Type **book training** to choose another.")]
    actions = [submit("Remove from calendar", {"cmd": ICS, "booking_id": booking.id})] if had_seat else []
    return notifying(card(body, actions), "A training session has been cancelled")


def attendees_card(training: TrainingSession, attendees: Sequence[Attendee], *, title: str = "Attendees") -> Card:
    """Names and schools (organisers only)."""
    booked = [a for a in attendees if a.status == BookingStatus.BOOKED]
    waiting = [a for a in attendees if a.status == BookingStatus.WAITING]
    body = [heading(f"{title}: {plain(training.title)}"), facts([("When", when(training)), ("Session", f"#{training.id}"),
            ("Booked", f"{len(booked)} of {training.capacity}"), ("Waiting", str(len(waiting)))])]
    for label, people in (("Booked", booked), ("Waiting list", waiting)):
        if people:
            body.append(text(f"**{label}**"))
            body.append(facts([(plain(a.name) or "(no name)", f"{plain(a.school)} \u2014 {ROLES.get(a.role) or plain(a.role)}")
                               for a in people]))
    return card(body)


def admin_card(offers: Sequence[Offer], *, title: str = "Training sessions to come") -> Card:
    """Organisers: sessions still to come with their numbers and buttons."""
    body: list[dict[str, Any]] = [heading(title)]
    if not offers:
        body.append(text("None yet. Type **add session** to add one."))
    for offer in offers:
        sid = offer.training.id
        body += _session_block(offer.training, [("Session", f"#{sid}"), ("Seats", _seats(offer)),
                                                ("Booking closes", format_uk(offer.training.booking_closes_at))])
        body.append(_buttons(submit("Attendees", {"cmd": ATTENDEES, "session_id": sid}),
                             submit("Edit", {"cmd": EDIT, "session_id": sid}),
                             submit("Cancel session", {"cmd": CANCEL_SESSION, "session_id": sid})))
    return card(body)


def cancel_session_confirm_card(offer: Offer) -> Card:
    """Organisers: are you sure? Everyone booked or waiting is told at once."""
    told = f"{offer.booked} booked and {offer.waiting} waiting will be told straight away."
    body = [heading("Cancel this session?"), *_session_block(offer.training), text(told)]
    return card(body, [submit("Yes, cancel the session", YES), submit("No, keep it", NO)])


def _input(field_id: str, label: str, values: Mapping[str, str], *, hint: str = "", multiline: bool = False) -> dict[str, Any]:
    return text_input(field_id, label, multiline=multiline, value=values.get(field_id, ""), placeholder=hint)


def session_form_card(values: Mapping[str, str], *, title: str, error: str | None = None) -> Card:
    """The add/edit form (UK dates); shown again with the problem when something doesn't check out."""
    body: list[dict[str, Any]] = [heading(title)]
    if error:
        body.append(text(error, attention=True))
    body += [
        _input("title", "Title", values),
        _input("description", "Description", values, multiline=True),
        _input("start", "Starts (UK time)", values, hint="e.g. 14/01/2027 15:30"),
        _input("end", "Ends", values, hint="e.g. 17:00"),
        {"type": "Input.ChoiceSet", "id": "format", "label": "Format", "value": values.get("format", TrainingFormat.ONLINE),
         "choices": [{"title": "Online (Teams)", "value": TrainingFormat.ONLINE},
                     {"title": "In person", "value": TrainingFormat.IN_PERSON}]},
        _input("join_url", "Teams join link (online)", values, hint="https://teams.microsoft.com/l/meetup-join/..."),
        _input("venue", "Venue (in person)", values),
        _input("capacity", "Seats", values, hint="e.g. 30"),
        _input("closes", "Booking closes", values, hint="empty = 24 hours before the start"),
        _input("organiser_name", "Organiser", values),
        _input("organiser_email", "Organiser contact email", values),
    ]
    return card(body, [submit("Save", {"form": SESSION_FORM})])


def closing_card(training: TrainingSession, attendees: Sequence[Attendee]) -> Card:
    """To organisers when booking closes: the final list."""
    return notifying(attendees_card(training, attendees, title="Booking has closed"), "Training booking has closed")
