"""Breach cards: the DPO alert, reminders, receipt, one breach with its timeline, lists. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.kit.cards import Card, card, facts, heading, notifying, plain, settled_card, submit, tap_item, text
from services.breach.alerts import clock_running
from services.breach.decisions import DECISIONS, INDIVIDUALS
from services.breach.facts import FIELD_LABELS, ICO_CLOCK_RULE, ICO_HOURS, describe
from services.breach.records import assessment_of, facts_of, status_of
from services.dates import format_uk
from storage.breach_models import Breach, BreachEvent

SHOW = "breach.show"
DECIDE_FORM, DECIDE = "breach.decide_form", "breach.decide"
REPORTED_FORM, REPORTED = "breach.reported_form", "breach.reported"
ASK_FORM, ASK = "breach.ask_form", "breach.ask"
CLOSE_FORM, CLOSE = "breach.close_form", "breach.close"
UPDATE = "breach.update"
# The DPOs' breach cards (and a drill's, which look the same): their titles, written once.
ALERT_TITLE, DEADLINE_TITLE, OVERDUE_TITLE = "New breach reported", "ICO deadline reminder", "OVERDUE"
UPDATED_TITLE, REASSESSED_TITLE = "New information", "Suggested assessment changed"
_SUMMARY_FIELDS = ("kind", "subjects", "people_count", "records_count", "data_categories", "contained")


def time_left(deadline: datetime, now: datetime) -> str:
    """"61h 30m left", "45m left" or "OVERDUE by 3h 05m" (clock hours)."""
    minutes = int((deadline - now).total_seconds() // 60)
    hours, mins = divmod(abs(minutes), 60)
    span = f"{hours}h {mins:02d}m" if hours else f"{mins}m"
    return f"{span} left" if minutes >= 0 else f"OVERDUE by {span}"


def until_deadline(deadline: datetime, now: datetime) -> str:
    """A sentence on the ICO clock: "61h 30m left until the ICO deadline." or "The ICO deadline passed 3h 05m ago."."""
    left = time_left(deadline, now)
    if left.startswith("OVERDUE by "):
        return f"The ICO deadline passed {left.removeprefix('OVERDUE by ')} ago."
    return f"{left} until the ICO deadline."


def clock_text(breach: Breach, now: datetime) -> str:
    """Time left on the ICO clock, or why it no longer runs (a reported breach shows "reported", not hours)."""
    if breach.ico_reported_at is not None:
        return f"reported to the ICO {format_uk(breach.ico_reported_at)}"
    return time_left(breach.deadline_at, now) if clock_running(breach) else status_of(breach).value


def act(title: str, cmd: str, breach: Breach) -> dict[str, Any]:
    """A button about one breach: its id, its school (so a DPO serving several schools acts in the right one), and
    its status when the card was made (`seen`: a decision pressed on an out-of-date card changes nothing)."""
    return submit(title, {"cmd": cmd, "id": breach.id, "school": breach.tenant_id, "seen": status_of(breach).name})


def show_button(breach: Breach, title: str = "Open") -> dict[str, Any]:
    """Opens one breach with its timeline."""
    return act(title, SHOW, breach)


def dpo_buttons(breach: Breach) -> list[dict[str, Any]]:
    """What a DPO can do next with an open breach (no decision once decided, no report once reported)."""
    buttons = []
    if breach.decision in (None, "more_info") and breach.ico_reported_at is None:
        buttons.append(act("Record decision", DECIDE_FORM, breach))
    if breach.ico_reported_at is None and breach.decision != "not_notifiable":
        buttons.append(act("Mark reported to ICO", REPORTED_FORM, breach))
    buttons += [
        act("Ask the reporter", ASK_FORM, breach),
        act("Close", CLOSE_FORM, breach),
        show_button(breach, "Timeline"),
    ]
    return buttons




def _key_facts(breach: Breach, now: datetime) -> dict[str, Any]:
    values = facts_of(breach)
    pairs = [(FIELD_LABELS[name], plain(describe(name, getattr(values, name)))) for name in _SUMMARY_FIELDS]
    pairs += [
        ("School aware since", format_uk(breach.aware_at)),
        ("ICO deadline", f"{format_uk(breach.deadline_at)} UK time ({clock_text(breach, now)}); {ICO_CLOCK_RULE}"),
        ("Status", status_of(breach).value),
    ]
    return facts(pairs)


def assessment_blocks(breach: Breach) -> list[dict[str, Any]]:
    """The suggestion and its reasons, labelled as a suggestion for the DPO to decide on."""
    assessment = assessment_of(breach)
    reasons = "\n".join(f"- {reason}" for reason in assessment.reasons)
    return [text(f"**Suggested (you decide):** {assessment.advice}"), text(reasons, subtle=True)]


def dpo_alert_card(breach: Breach, now: datetime, *, title: str, lead: str = "") -> Card:
    """What a DPO needs to act on a breach: facts, time left, the suggestion, and the buttons."""
    overdue = now > breach.deadline_at
    body = [heading(f"{title}: {breach.reference}"), text("You're getting this as a DPO for this school.", subtle=True)]
    if lead:
        body.append(text(lead, attention=overdue))
    body += [_key_facts(breach, now), text(f"**What happened:** {plain(breach.what_happened)}"), *assessment_blocks(breach)]
    result = card(body, dpo_buttons(breach) if breach.closed_at is None else [show_button(breach)])
    notifying(result, f"{title}: {breach.reference}")
    return result


def outcome_card(breach: Breach, line: str) -> Card:
    """A DPO's form once used or out of date: what was done, by whom and when, and the breach to open."""
    return settled_card(f"{breach.reference}: {status_of(breach).value}", line, actions=[show_button(breach)])


def receipt_card(breach: Breach, *, dpos_told: int, by_dpo: bool = False) -> Card:
    """What the reporter sees after sending: reference, ICO deadline, what happens next (told honestly)."""
    people = f"{dpos_told} {'person' if dpos_told == 1 else 'people'}"
    if by_dpo:  # never "your DPO has been alerted" to the DPO who reported it
        nextly = (f"The DPOs who use Custodian ({people}, you included) have its alert with the decision buttons. "
                  "Record the decision before the ICO deadline.")
    elif dpos_told:
        nextly = (f"Your DPO has been alerted ({people}). They will decide whether it must be reported to the ICO "
                  "and may ask you for more information here.")
    else:
        nextly = ("No DPO has opened Custodian yet, so nobody has been alerted so far. Your school's DPO will be "
                  "alerted the moment they do \u2014 **tell them now by phone** (or your head teacher if you can't "
                  "reach them).")
    return card(
        [
            heading(f"Thank you. Your reference is {breach.reference}"),
            facts([("ICO deadline", f"{format_uk(breach.deadline_at)} UK time ({ICO_HOURS} hours after the school became aware; "
                                    f"{ICO_CLOCK_RULE})")]),
            text(f"**What happens next:** {nextly} Keep any evidence and don't delete emails about it."),
            text(f"To add something later, type **update {breach.reference}**. To see it, **breach {breach.reference}**.",
                 subtle=True),
        ],
        [show_button(breach, "View my report")],
    )


def _event_line(event: BreachEvent) -> dict[str, Any]:
    who = plain(event.actor_name) or "someone"
    return text(f"**{format_uk(event.at)}** \u2014 {who}: {plain(event.detail)}")


def detail_card(breach: Breach, events: Sequence[BreachEvent], *, is_dpo: bool, now: datetime) -> Card:
    """One breach, all its facts, the decision, and the timeline (every change, who and when)."""
    values = facts_of(breach)
    pairs = [(label, plain(describe(name, getattr(values, name)))) for name, label in FIELD_LABELS.items()]
    pairs += [("ICO deadline", f"{format_uk(breach.deadline_at)} UK time ({clock_text(breach, now)})"),
              ("Status", status_of(breach).value)]
    if breach.decision:
        reason = f": {plain(breach.decision_reason)}" if breach.decision_reason else ""
        pairs.append(("Decision", DECISIONS.get(breach.decision, breach.decision) + reason))
        pairs.append(("People affected told", INDIVIDUALS.get(breach.individuals or "", "—")))
    if breach.ico_reported_at:
        pairs.append(("Reported to ICO", f"{format_uk(breach.ico_reported_at)}, case {plain(breach.ico_reference)}"))
    body = [heading(f"Breach {breach.reference}"), facts(pairs)]
    if is_dpo:
        body += assessment_blocks(breach)
    body += [text("**Timeline**"), *(_event_line(event) for event in events)]
    if breach.closed_at is not None:
        return card(body)
    actions = dpo_buttons(breach)[:-1] if is_dpo else []
    return card(body, [*actions, act("Add information", UPDATE, breach)])


def list_card(breaches: Sequence[Breach], now: datetime, *, is_dpo: bool) -> Card:
    """Open breaches (a DPO: the school's; staff: their own), each opening with a tap."""
    body: list[dict[str, Any]] = [heading("Open breaches (your school)" if is_dpo else "Your open breach reports")]
    if not breaches:
        body.append(text("None open."))
    for breach in breaches:
        line = f"**{breach.reference}** \u00b7 {plain(describe('kind', breach.kind))} \u00b7 {status_of(breach).value}"
        if is_dpo and clock_running(breach):  # otherwise the status says why the clock stopped
            line += f" \u00b7 {time_left(breach.deadline_at, now)}"
        body.append(tap_item(line, show_button(breach)))
    return card(body)


def info_request_card(breach: Breach, question: str) -> Card:
    """To the reporter: the DPO's question, with a button to answer (`fallbackText`: the notification text)."""
    result = card(
        [heading(f"Your DPO needs more information about {breach.reference}"), text(plain(question)),
         text(f"Answer with the button, or type **update {breach.reference}**.", subtle=True)],
        [act("Answer", UPDATE, breach), show_button(breach, "View the report")],
    )
    notifying(result, f"Your DPO needs more information about {breach.reference}")
    return result


def closed_card(breach: Breach) -> Card:
    """To the reporter: their breach report is closed (`fallbackText`: the notification text)."""
    result = card(
        [heading(f"{breach.reference} is closed"),
         text("Your DPO has finished dealing with the breach you reported. Thank you for reporting it quickly."),
         text(f"**Lessons learned:** {plain(breach.lessons_learned)}")],
        [show_button(breach, "View the report")],
    )
    notifying(result, f"{breach.reference} is closed")
    return result
