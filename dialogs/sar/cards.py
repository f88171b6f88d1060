"""Subject access request cards: the log form, the pupil pick, the summary, one request with its clock and checklist,
the DPO's forms, lists and reminders. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from dialogs.kit.cards import Card, card, choice_input, facts, heading, notifying, plain, submit, tap_item, text, text_input
from services.consent.pupil_search import PupilRef
from services.dates import format_uk
from services.sar.requests import CHANNELS, OUTCOMES, PAUSES, REQUESTERS, STEPS, SUBJECT_KINDS
from storage.sar_models import SarEvent, SubjectAccessRequest

SHOW = "sar.show"
PAUSE = "sar.pause"
RESUME_FORM, RESUME = "sar.resume_form", "sar.resume"
EXTEND_FORM, EXTEND = "sar.extend_form", "sar.extend"
TICK_FORM, TICK = "sar.tick_form", "sar.tick"
ASSIGN_FORM, ASSIGN = "sar.assign_form", "sar.assign"
CLOSE_FORM, CLOSE = "sar.close_form", "sar.close"
YES_NO = {"no": "No", "yes": "Yes"}


def day(value: date) -> str:
    """E.g. 'Wed 25 Nov 2026'."""
    return f"{value:%a %d %b %Y}"


def days_left(sar: SubjectAccessRequest, today: date) -> str:
    """'due today', '12 days left', 'OVERDUE by 3 days' (calendar days)."""
    left = (sar.due_on - today).days
    if left == 0:
        return "due today"
    unit = "day" if abs(left) == 1 else "days"
    return f"{left} {unit} left" if left > 0 else f"OVERDUE by {-left} {unit}"


def act(title: str, cmd: str, sar: SubjectAccessRequest, **extra: Any) -> dict[str, Any]:
    """A button about one request: its id and school (a DPO serving several schools acts in the right one)."""
    return submit(title, {"cmd": cmd, "id": sar.id, "school": sar.tenant_id, **extra})


def log_form(values: dict[str, Any] | None = None) -> Card:
    """Everything needed to log a request, on one card (the answers kept when something needs fixing)."""
    v = values or {}
    return card(
        [heading("Log a subject access request"),
         text("Someone asked to see the personal data the school holds about them or their child (in writing or not: "
              "a verbal request counts). The clock starts on the day it was received.", subtle=True),
         choice_input("requester_type", "Who asked?", REQUESTERS, compact=True, value=v.get("requester_type")),
         text_input("requester_name", "Their name", required=True, multiline=False, value=str(v.get("requester_name", ""))),
         choice_input("subject_kind", "Whose data is it about?", SUBJECT_KINDS, value=v.get("subject_kind") or "pupil"),
         text_input("subject_name", "Name of the pupil or person", required=True, multiline=False,
                    value=str(v.get("subject_name", ""))),
         text_input("received", "Date received", required=True, multiline=False, value=str(v.get("received", "")),
                    placeholder="e.g. today, or 23/11/2026"),
         choice_input("channel", "How did it come in?", CHANNELS, compact=True, value=v.get("channel") or "email"),
         choice_input("id_verified", "Is the requester's identity verified?", YES_NO, value=v.get("id_verified") or "no"),
         choice_input("educational", "Is it a parent's request for their child's educational record (15 school days)?",
                      YES_NO, value=v.get("educational") or "no")],
        [submit("Next", {"q": "form"})],
    )


def pupil_pick_card(said: str, matches: Sequence[PupilRef]) -> Card:
    """Which pupil on the register the request is about (never guessed)."""
    if matches:
        lead = f"Which pupil did you mean by \u201c{plain(said)}\u201d?"
    else:
        lead = f"I couldn't find \u201c{plain(said)}\u201d on the pupil register."
    buttons = [submit(plain(m.label), {"q": "pupil", "pupil": m.id}) for m in matches[:5]]
    buttons.append(submit("Not on the register: keep the name as typed", {"q": "pupil", "pupil": "none"}))
    return card([text(lead), text("Type **cancel** to stop; nothing has been saved yet.", subtle=True)], buttons)


def summary_card(pairs: Sequence[tuple[str, str]]) -> Card:
    """The request as it will be logged, with its due date, to confirm."""
    return card([heading("Please check the request"), facts((label, plain(value)) for label, value in pairs),
                 text("Nothing is saved until you press **Log it**.", subtle=True)],
                [submit("Log it", {"q": "summary", "nav": "confirm"})])


def receipt_card(sar: SubjectAccessRequest, *, dpos_told: int, when: str) -> Card:
    """What the person who logged it sees: reference, due date, who was told."""
    told = (f"Your DPO ({dpos_told} {'person' if dpos_told == 1 else 'people'}) will be told {when}."
            if dpos_told else "No DPO is set up for your school in Custodian, so nobody was told: tell your DPO now.")
    return card([heading(f"Logged. The reference is {sar.reference}"),
                 facts([("Received", day(sar.received_on)), ("Due", day(sar.due_on))]),
                 text(told), text(f"To see it later, type **sar {sar.reference}**.", subtle=True)],
                [act("Open", SHOW, sar)])


def ticked_at(done: dict[str, Any]) -> str:
    """When a checklist step was ticked, UK time."""
    try:
        return format_uk(datetime.fromisoformat(str(done.get("at"))))
    except ValueError:
        return ""


def clock_text(sar: SubjectAccessRequest, today: date) -> str:
    """Where the clock is: closed, stopped, or the days left."""
    if sar.closed_at is not None:
        return f"closed: {OUTCOMES.get(sar.outcome, sar.outcome)}"
    if sar.paused_on is not None:
        return f"clock stopped {day(sar.paused_on)}, {PAUSES.get(sar.pause_kind, '')}"
    return f"due {day(sar.due_on)} ({days_left(sar, today)})"


def _pairs(sar: SubjectAccessRequest, today: date) -> list[tuple[str, str]]:
    subject = plain(sar.subject_name) + (" (pupil on the register)" if sar.pupil_id is not None else "")
    pairs = [("Requester", f"{plain(sar.requester_name)} \u00b7 {REQUESTERS.get(sar.requester_type, '')}"),
             ("About", subject), ("Received", f"{day(sar.received_on)} \u00b7 {CHANNELS.get(sar.channel, '')}"),
             ("Identity verified", "yes" if sar.id_verified else "not yet"),
             ("Kind", "Educational record (15 school days)" if sar.educational_record else "Subject access request"),
             ("Handler", plain(sar.handler_name) if sar.handler_aad_id else "not assigned (the DPOs)"),
             ("Clock", clock_text(sar, today))]
    if sar.extension_months:
        pairs.append(("Extension", f"{sar.extension_months} month(s), requester told "
                      f"{day(sar.extension_told_on) if sar.extension_told_on else '?'}: {plain(sar.extension_reason)}"))
    return pairs


def detail_card(sar: SubjectAccessRequest, events: Sequence[SarEvent], *, is_dpo: bool, handles: bool,
                today: date) -> Card:
    """One request: the facts, the clock, the checklist (who ticked what, when) and the timeline."""
    body: list[dict[str, Any]] = [heading(f"Subject access request {sar.reference}"), facts(_pairs(sar, today))]
    if sar.closed_at is not None:
        body.append(facts([("Outcome", OUTCOMES.get(sar.outcome, "")), ("Notes", plain(sar.outcome_note) or "\u2014"),
                           ("Sent", day(sar.sent_on) if sar.sent_on else "\u2014"),
                           ("Disclosed", plain(sar.disclosed) or "\u2014")]))
    body.append(text("**Checklist**"))
    for code, label in STEPS.items():
        done = sar.checklist.get(code)
        body.append(text(f"\u2611 {label} \u2014 {plain(done.get('by') or 'someone')}, {ticked_at(done)}"
                         if isinstance(done, dict) else f"\u2610 {label}"))
    body += [text("**Timeline**"), *(text(f"**{format_uk(e.at)}** \u2014 {plain(e.actor_name) or 'someone'}: "
                                          f"{plain(e.detail)}") for e in events)]
    if sar.closed_at is not None or not handles:
        return card(body)
    if not is_dpo:  # the handler
        return card(body, [act("Tick a step", TICK_FORM, sar)] if len(sar.checklist) < len(STEPS) else [])
    return card(body, dpo_buttons(sar))


def dpo_buttons(sar: SubjectAccessRequest) -> list[dict[str, Any]]:
    """What a DPO can do next with an open request."""
    if sar.paused_on is not None:
        clock = [act("Resume the clock", RESUME_FORM, sar)]
    else:
        clock = [act("Stop the clock: ID", PAUSE, sar, kind="id"),
                 act("Stop the clock: clarification", PAUSE, sar, kind="clarification")]
    steps = [act("Tick a step", TICK_FORM, sar)] if len(sar.checklist) < len(STEPS) else []
    extend = [] if sar.educational_record else [act("Extend", EXTEND_FORM, sar)]
    return [*clock, *steps, act("Assign a handler", ASSIGN_FORM, sar), *extend, act("Close", CLOSE_FORM, sar)]


def assign_form(sar: SubjectAccessRequest, people: Sequence[tuple[str, str]]) -> Card:
    """Choose who handles it, from the people of the school who have talked to the bot."""
    choices = {aad_id: plain(name) or "(no name)" for aad_id, name in people}
    return card([heading(f"Who will handle {sar.reference}?"),
                 text("They will see the request, can tick steps, and get its reminders. Only people who have talked "
                      "to Custodian are listed.", subtle=True),
                 choice_input("handler", "Handler", choices, compact=True, value=sar.handler_aad_id)],
                [act("Assign", ASSIGN, sar)])


def tick_form(sar: SubjectAccessRequest) -> Card:
    """The checklist steps not yet done, one button each."""
    return card([heading(f"Which step is done for {sar.reference}?"),
                 text("Your name and the time are recorded with the tick.", subtle=True)],
                [act(label, TICK, sar, step=code) for code, label in STEPS.items() if code not in sar.checklist])


def resume_form(sar: SubjectAccessRequest) -> Card:
    """When the proof of identity or clarification arrived."""
    return card([heading(f"Resume the clock on {sar.reference}"),
                 text(f"Stopped {day(sar.paused_on) if sar.paused_on else ''}, {PAUSES.get(sar.pause_kind, '')}."),
                 text_input("on", "When did it arrive?", multiline=False, placeholder="today, or e.g. 30/11/2026")],
                [act("Resume", RESUME, sar)])


def extend_form(sar: SubjectAccessRequest, first_month_end: date) -> Card:
    """Up to two further months, with the reason and when the requester was told (by the end of the first month)."""
    return card([heading(f"Extend {sar.reference}"),
                 text(f"Only for complex or numerous requests, and the requester must be told by "
                      f"{day(first_month_end)}.", subtle=True),
                 choice_input("months", "Extend by", {"1": "One month", "2": "Two months"}, value="2"),
                 text_input("reason", "Why it is complex or numerous", required=True),
                 text_input("told", "When was the requester told?", required=True, multiline=False,
                            placeholder="e.g. today, or 01/12/2026")],
                [act("Extend", EXTEND, sar)])


def close_form(sar: SubjectAccessRequest) -> Card:
    """The outcome, the date sent and the disclosure record."""
    return card([heading(f"Close {sar.reference}"),
                 choice_input("outcome", "Outcome", OUTCOMES),
                 text_input("note", "Exemptions used, or the reason for refusing (if any)"),
                 text_input("disclosed", "What was disclosed (the disclosure record)"),
                 text_input("sent", "Date the answer was sent", multiline=False, placeholder="e.g. today, or 14/12/2026")],
                [act("Close the request", CLOSE, sar)])


def list_card(title: str, sars: Sequence[SubjectAccessRequest], today: date) -> Card:
    """Requests, each opening with a tap."""
    body: list[dict[str, Any]] = [heading(f"{title} ({len(sars)})")]
    if not sars:
        body.append(text("None."))
    for sar in sars:
        line = f"**{sar.reference}** \u00b7 {REQUESTERS.get(sar.requester_type, '')} \u00b7 {clock_text(sar, today)}"
        body.append(tap_item(line, act("Open", SHOW, sar), attention=sar.due_on < today and sar.closed_at is None))
    return card(body)


def alert_card(sar: SubjectAccessRequest, *, title: str, lead: str, today: date) -> Card:
    """To a DPO: a new request, or its clock; the notification line carries no personal details."""
    result = card([heading(f"{title}: {sar.reference}"), text("You're getting this as a DPO for this school.", subtle=True),
                   text(lead, attention=sar.due_on < today), facts(_pairs(sar, today))],
                  [act("Open", SHOW, sar)])
    notifying(result, f"{title}: {sar.reference}")
    return result
