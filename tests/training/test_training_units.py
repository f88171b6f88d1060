"""Training's pure parts: calendar invites, card builders, the seed file, the organiser form, answer parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from dialogs.kit.steps import yes_no
from dialogs.training import cards
from dialogs.training.admin import session_id_of
from dialogs.training.book import role_from
from dialogs.training.common import lead_time
from services.errors import DomainError
from services.training import invites
from services.training.booking import Offer
from services.training.catalogue import Attendee, read_draft
from services.training.seed import DEFAULT_SEED, SeedError, read_seed
from storage.training_models import BookingStatus, TrainingBooking, TrainingFormat, TrainingSession
from tests.support.training import JOIN_URL, assert_valid_card
from tests.teams.client import card_actions

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def online(**changes: Any) -> TrainingSession:
    values: dict[str, Any] = dict(
        id=7, title="AI Training for School Senior Leaders", description="What is AI? DPIAs.",
        starts_at=datetime(2026, 12, 9, 15, 30, tzinfo=UTC), ends_at=datetime(2026, 12, 9, 17, 0, tzinfo=UTC),
        booking_closes_at=datetime(2026, 12, 8, 15, 30, tzinfo=UTC), format=TrainingFormat.ONLINE, join_url=JOIN_URL,
        capacity=30, organiser_name="Education Data Hub", organiser_email="training@example.org", sequence=2,
        created_at=NOW, updated_at=NOW,
    )
    values.update(changes)
    return TrainingSession(**values)


def booking(status: str = BookingStatus.BOOKED) -> TrainingBooking:
    return TrainingBooking(id=41, session_id=7, tenant_id="t", aad_id="a", name="Megan Bowen", role="governor",
                           status=status, ical_uid="0b7e-uid@custodian", created_at=NOW)


def test_invite_is_an_rfc5545_request_with_the_teams_link() -> None:
    parsed = Calendar.from_ical(invites.invite_for(online(), booking(), now=NOW))
    assert parsed["METHOD"] == "REQUEST" and parsed["VERSION"] == "2.0" and parsed["PRODID"]
    (event,) = parsed.walk("VEVENT")
    assert str(event["UID"]) == "0b7e-uid@custodian"
    assert event.decoded("DTSTART") == datetime(2026, 12, 9, 15, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 9, 17, 0, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["SUMMARY"]) == "AI Training for School Senior Leaders"
    assert str(event["URL"]) == JOIN_URL and str(event["LOCATION"]) == "Microsoft Teams"
    assert JOIN_URL in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:training@example.org"
    assert event["ORGANIZER"].params["CN"] == "Education Data Hub"
    assert event.decoded("SEQUENCE") == 2 and str(event["STATUS"]) == "CONFIRMED"


def test_summer_times_are_stored_and_sent_in_utc() -> None:
    summer = online(starts_at=datetime(2027, 6, 9, 14, 30, tzinfo=UTC), ends_at=datetime(2027, 6, 9, 16, 0, tzinfo=UTC))
    raw = invites.invite_for(summer, booking(), now=NOW).decode()
    assert "DTSTART:20270609T143000Z" in raw  # 15:30 BST
    assert cards.when(summer).startswith("Wed 09 Jun 2027, 15:30\u201317:00")


def test_in_person_invite_has_the_venue_and_no_url() -> None:
    venue = online(format=TrainingFormat.IN_PERSON, join_url="", venue="The Quad, Chesterfield")
    (event,) = Calendar.from_ical(invites.invite_for(venue, booking(), now=NOW)).walk("VEVENT")
    assert str(event["LOCATION"]) == "The Quad, Chesterfield" and "URL" not in event


def test_cancellation_keeps_the_uid_and_raises_the_sequence() -> None:
    parsed = Calendar.from_ical(invites.cancellation_for(online(), booking(BookingStatus.CANCELLED), now=NOW))
    (event,) = parsed.walk("VEVENT")
    assert parsed["METHOD"] == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "0b7e-uid@custodian" and event.decoded("SEQUENCE") == 3
    assert invites.file_name(online(), cancelled=True) == "training-7-cancelled.ics"


def test_every_card_is_valid_adaptive_card_1_5() -> None:
    session, seat, waiting = online(), booking(), booking(BookingStatus.WAITING)
    free, full = Offer(session, 10, 0), Offer(session, 30, 4)
    people = [Attendee("Megan Bowen", "Oak School", "governor", "booked"), Attendee("Ben", "Elm", "other", "waiting")]
    built = [
        cards.catalogue_card([free, full]), cards.catalogue_card([]), cards.role_card(session),
        cards.confirm_card(free, "governor"), cards.confirm_card(full, "other"),
        cards.booked_card(session, seat), cards.booked_card(session, waiting, position=2),
        cards.bookings_card([(seat, session, None), (waiting, session, 3)]), cards.bookings_card([]),
        cards.cancel_confirm_card(seat, session), cards.cancelled_card(session, was_booked=True),
        cards.reminder_card(session, seat, lead="is tomorrow at 15:30"), cards.promoted_card(session, seat),
        cards.changed_card(session, seat, ["start", "join link"]), cards.session_cancelled_card(session, seat, had_seat=True),
        cards.attendees_card(session, people), cards.closing_card(session, people), cards.admin_card([free]),
        cards.cancel_session_confirm_card(full), cards.session_form_card({"title": "x"}, title="Add", error="Bad date"),
    ]
    for content in built:
        assert_valid_card(content)


def test_catalogue_card_offers_a_seat_or_the_waiting_list() -> None:
    free, full = Offer(online(id=1), 28, 0), Offer(online(id=2), 30, 4)
    shown = json.dumps(cards.catalogue_card([free, full]))
    assert "2 of 30 left" in shown and "Full \\u2014 4 waiting" in shown
    assert '"cmd": "training.book", "session_id": 1' in shown and "Join the waiting list" in shown
    assert "You would be number 5" in json.dumps(cards.confirm_card(full, "governor"))


def test_a_long_catalogue_stays_small() -> None:
    many = [Offer(online(id=n, description="x" * 2000), 0, 0) for n in range(40)]
    built = cards.catalogue_card(many)
    assert len(json.dumps(built)) < 20_000 and "next 12 of 40 sessions" in json.dumps(built)
    assert_valid_card(built)


def test_waiting_bookings_get_no_calendar_button_and_reminders_carry_the_join_link() -> None:
    assert "training.ics" not in json.dumps(cards.booked_card(online(), booking(BookingStatus.WAITING), position=1))
    reminder = cards.reminder_card(online(), booking(), lead="starts in 59 minutes")
    assert {"type": "Action.OpenUrl", "title": "Join on Teams", "url": JOIN_URL} in card_actions(reminder)
    assert reminder["fallbackText"] == "Training starts in 59 minutes"
    venue = cards.reminder_card(online(format=TrainingFormat.IN_PERSON, venue="The Quad"), booking(), lead="x")
    assert all(a["type"] != "Action.OpenUrl" for a in card_actions(venue))


def test_attendee_card_shows_names_schools_and_roles() -> None:
    shown = json.dumps(cards.attendees_card(online(), [Attendee("Megan Bowen", "Oak School", "head_teacher", "booked")]))
    assert "Megan Bowen" in shown and "Oak School \\u2014 Head teacher" in shown and "1 of 30" in shown


def test_shipped_seed_has_the_four_newsletter_sessions_and_bookable_examples() -> None:
    loaded = read_seed(DEFAULT_SEED, now=NOW)
    past = [s for s in loaded if not s.is_example]
    assert [cards.when(s)[:16] for s in past] == [
        "Wed 29 Jan 2025,", "Wed 14 May 2025,", "Wed 17 Sep 2025,", "Wed 12 Nov 2025,",
    ]
    assert [s.starts_at.hour for s in past] == [15, 15, 14, 15]  # 15:30 GMT, 16:00 BST, 15:30 BST, 15:30 GMT
    assert past[1].venue == "The Quad, Chesterfield" and past[0].format == TrainingFormat.ONLINE
    assert all("DPIA" in s.description for s in loaded)
    examples = [s for s in loaded if s.is_example]
    assert len(examples) >= 2 and all("(example)" in s.title for s in examples)
    assert all(s.booking_closes_at > NOW and s.starts_at.weekday() < 5 for s in examples)
    later = read_seed(DEFAULT_SEED, now=NOW + timedelta(days=400))
    assert all(s.booking_closes_at > NOW + timedelta(days=400) for s in later if s.is_example)


def test_a_broken_seed_file_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text(json.dumps({"sessions": [{"key": "a", "title": "x", "start": "29/01/2025", "minutes": 60,
                                             "format": "online", "capacity": 3}]}))
    with pytest.raises(SeedError, match="session 1"):
        read_seed(bad, now=NOW)


FORM = {"form": "training.session", "title": "DPIAs for AI tools", "description": "", "start": "14/01/2027 15:30",
        "end": "17:00", "format": "online", "join_url": JOIN_URL, "venue": "", "capacity": "25", "closes": "",
        "organiser_name": "Clare", "organiser_email": "training@example.org"}


def test_form_reads_uk_dates_and_defaults_booking_close_to_a_day_before() -> None:
    draft = read_draft(FORM, now=NOW)
    assert draft.starts_at == datetime(2027, 1, 14, 15, 30, tzinfo=UTC)
    assert draft.ends_at == datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
    assert draft.booking_closes_at == draft.starts_at - timedelta(hours=24) and draft.capacity == 25


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"capacity": "0"}, "whole number"), ({"capacity": "2.5"}, "whole number"), ({"capacity": "-3"}, "whole number"),
        ({"end": "14:00"}, "end must be after"), ({"start": "someday"}, "Start:"), ({"title": ""}, "title"),
        ({"join_url": ""}, "join link"), ({"format": "in_person"}, "venue"), ({"format": "carrier pigeon"}, "online"),
        ({"closes": "15/01/2027 09:00"}, "close before"), ({"organiser_email": "nobody"}, "email"),
    ],
)
def test_form_problems_are_named(change: dict[str, str], problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        read_draft({**FORM, **change}, now=NOW)


def test_answers_typed_or_pressed() -> None:
    assert role_from({"role": "governor"}) == "governor"
    assert role_from({"text": "Head Teacher"}) == "head_teacher" and role_from({"text": "headteacher"}) == "head_teacher"
    assert role_from({"text": "caretaker"}) is None and role_from({"role": "admin"}) is None
    assert yes_no({"confirm": "yes"}) is True and yes_no({"text": "No"}) is False and yes_no({"text": "maybe"}) is None
    assert session_id_of({"session_id": 4}) == 4 and session_id_of({"utterance": "attendees #12"}) == 12
    assert session_id_of({"utterance": "edit session"}) is None


def test_lead_time_reads_like_a_person() -> None:
    start = online().starts_at
    assert lead_time(online(), start - timedelta(minutes=59)) == "starts in 59 minutes"
    assert lead_time(online(), start - timedelta(days=1)) == "is tomorrow at 15:30"
    assert lead_time(online(), start - timedelta(days=7)) == "is on Wed 09 Dec 2026, 15:30"
