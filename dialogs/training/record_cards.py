"""Training record cards: the register of who came, `my training`, who is due, and the invitation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.kit.cards import Card, card, heading, notifying, plain, say, submit, text
from dialogs.training.cards import BOOK, when
from services.dates import format_uk
from services.training.record import Due
from storage.training_models import TrainingBooking, TrainingSession

ATTENDANCE_SAVE = "training.attendance_save"
INVITE_DUE = "training.invite_due"
CAME = "came_"  # + booking id: one toggle per person on the register


def attendance_card(training: TrainingSession, booked: Sequence[tuple[TrainingBooking, str]]) -> Card:
    """The register: a toggle per person booked, with their school when there are several (ticked once marked as came)."""
    body: list[dict[str, Any]] = [heading(f"Who came: {plain(training.title)}"),
                                  text(f"Session #{training.id}, {when(training)}", subtle=True)]
    if not booked:
        body.append(text("Nobody you can mark was booked on this session."))
        return card(body)
    body.append(text("Tick everyone who attended, then press Save. Everyone not ticked is recorded as not attended."))
    body += [{"type": "Input.Toggle", "id": f"{CAME}{b.id}", "wrap": True, "valueOn": "true", "valueOff": "false",
              "title": (plain(b.name) or "(no name)") + (f" \u2014 {plain(school)}" if school else ""),
              "value": "true" if b.attended else "false"} for b, school in booked]
    return card(body, [submit("Save", {"cmd": ATTENDANCE_SAVE, "session_id": training.id})])


def record_card(sessions: Sequence[TrainingSession], *, valid_from: datetime, months: int) -> Card:
    """`my training`: the sessions attended, and whether the latest still counts."""
    body: list[dict[str, Any]] = [heading("Your training record")]
    if not sessions:
        body.append(text("No data-protection session attended yet (as marked by the organisers).", attention=True))
    for session in sessions:
        body.append(text(f"\u2713 {plain(session.title)} \u2014 {format_uk(session.starts_at)}"))
    if sessions and sessions[0].starts_at >= valid_from:
        body.append(text(f"Up to date: data-protection training counts for {months} months.", subtle=True))
    elif sessions:
        body.append(text(f"Your last session was more than {months} months ago: please book a refresher.", attention=True))
    return card(body, [say("Book training", "book training")])


def due_card(due: Sequence[Due], *, months: int, next_session: TrainingSession | None) -> Card:
    """For a DPO: who needs data-protection training, with the one-click invitation to the next session."""
    body: list[dict[str, Any]] = [heading("Data-protection training due"),
                                  text(f"No session attended in the last {months} months, or none at all.", subtle=True)]
    body += [text(f"{plain(d.name)} \u2014 " + (f"last {format_uk(d.last)}" if d.last else "never")) for d in due]
    if next_session is None:
        body.append(text("There is no session open for booking yet: I'll offer the invitation once there is one."))
        return card(body)
    body.append(text(f"Next session: {plain(next_session.title)}, {when(next_session)}."))
    return card(body, [submit(f"Invite all {len(due)}", {"cmd": INVITE_DUE, "session_id": next_session.id})])


def invitation_card(training: TrainingSession, *, months: int) -> Card:
    """To someone whose data-protection training is due: the next session, with a button to book it."""
    body = [heading("Your data-protection training is due"),
            text(f"Your school's DPO invites you to the next session (training counts for {months} months)."),
            text(f"**{plain(training.title)}** \u2014 {when(training)}")]
    result = card(body, [submit("Book this session", {"cmd": BOOK, "session_id": training.id})])
    notifying(result, "Your data-protection training is due")
    return result
