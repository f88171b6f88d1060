"""What the reminder engine sends about breaches (renderers), and the breach lines of `status`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.breach.cards import (
    ALERT_TITLE,
    DEADLINE_TITLE,
    OVERDUE_TITLE,
    REASSESSED_TITLE,
    UPDATED_TITLE,
    closed_card,
    dpo_alert_card,
    info_request_card,
    show_button,
    time_left,
    until_deadline,
)
from dialogs.feature import ReminderKind, StatusLine
from dialogs.kit.cards import Card, plain
from services.breach import alerts
from services.breach.decisions import ASKED, outcome_line
from services.breach.facts import describe
from services.breach.records import BreachStatus, breach_for_reminder, event_of, status_of, visible_breaches
from services.dates import format_uk
from services.identity import Actor, active_roles
from storage.breach_models import Breach
from storage.models import Role
from storage.reminder_models import Reminder

_DPO_KINDS = (alerts.ALERT, alerts.DEADLINE, alerts.OVERDUE, alerts.UPDATED)
_LATE = {alerts.LATE_OPENED: "Late: sent when you first opened Custodian.",
         alerts.LATE_APPOINTED: "Sent now because you have just been made a DPO of this school.",
         alerts.LATE_CHAT_OPENED: "Late: sent as soon as Teams let Custodian open a chat with you."}


async def _breach(session: AsyncSession, reminder: Reminder) -> Breach | None:
    """The breach, if the recipient may still hear about it (a DPO of that school, or its reporter)."""
    breach = await breach_for_reminder(session, reminder)
    if breach is None:
        return None
    if reminder.kind in _DPO_KINDS:
        roles = await active_roles(session, tenant_id=breach.tenant_id, aad_id=reminder.recipient_aad_id)
        return breach if Role.DPO in roles else None
    return breach if reminder.recipient_aad_id == breach.reporter_aad_id else None


async def render_alert(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """A new breach, to each DPO."""
    breach = await _breach(session, reminder)
    if breach is None or breach.closed_at is not None:
        return None
    who = plain(breach.reporter_name) if breach.reporter_name else "a member of staff"
    lead = f"Reported by {who}. {until_deadline(breach.deadline_at, now)}"
    late = _LATE.get(str(reminder.payload.get("late")))
    if late:
        lead = f"{late} Reported {format_uk(breach.created_at)} UK time. {lead}"
    return dpo_alert_card(breach, now, title=ALERT_TITLE, lead=lead)


async def render_deadline(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """A stage of the ICO clock before the deadline (breach_facts.CLOCK_STAGES), while the clock runs."""
    breach = await _breach(session, reminder)
    if breach is None or not alerts.clock_running(breach):
        return None
    hours = reminder.payload.get("hours", "?")
    lead = (f"{hours} hours since the school became aware. {until_deadline(breach.deadline_at, now)} "
            f"Deadline: {format_uk(breach.deadline_at)} UK time. Status: {status_of(breach).value}.")
    return dpo_alert_card(breach, now, title=DEADLINE_TITLE, lead=lead)


async def render_overdue(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """72 hours passed and the breach is neither reported nor decided not notifiable."""
    breach = await _breach(session, reminder)
    if breach is None or not alerts.clock_running(breach):
        return None
    lead = (f"The ICO's 72-hour deadline passed at {format_uk(breach.deadline_at)} UK time. Report it without further "
            "delay: **Mark reported to ICO** asks for the reason for the delay, which the ICO requires.")
    return dpo_alert_card(breach, now, title=OVERDUE_TITLE, lead=lead)


async def render_updated(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """New facts or a note; says when the suggested assessment changed."""
    breach = await _breach(session, reminder)
    event = await event_of(session, breach=breach, event_id=reminder.payload.get("event")) if breach else None
    if breach is None or event is None or breach.closed_at is not None:
        return None
    title = REASSESSED_TITLE if event.action == "reassessed" else UPDATED_TITLE
    return dpo_alert_card(breach, now, title=title, lead=f"From {event.actor_name or 'someone'}: {event.detail}")


async def render_info_request(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """The DPO's question, to the reporter."""
    breach = await _breach(session, reminder)
    event = await event_of(session, breach=breach, event_id=reminder.payload.get("event")) if breach else None
    if breach is None or event is None or breach.closed_at is not None:
        return None
    return info_request_card(breach, event.detail.removeprefix(ASKED).strip())


async def render_closed(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """The reporter's breach is closed."""
    breach = await _breach(session, reminder)
    return closed_card(breach) if breach is not None and breach.closed_at is not None else None


_TITLES = {alerts.ALERT: ALERT_TITLE, alerts.DEADLINE: DEADLINE_TITLE, alerts.OVERDUE: OVERDUE_TITLE,
           alerts.UPDATED: UPDATED_TITLE}


async def render_current(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
    """A DPO's breach card as it stands now: what was decided, by whom and when, and only the buttons left."""
    breach = await _breach(session, reminder)
    if breach is None:
        return None
    line = await outcome_line(session, breach)
    title = _TITLES[reminder.kind] if alerts.clock_running(breach) else _upper_first(status_of(breach).value)
    who = plain(breach.reporter_name) if breach.reporter_name else "a member of staff"
    return dpo_alert_card(breach, now, title=title, lead=f"{plain(line)}. Reported by {who}." if line else
                          f"Reported by {who}. {until_deadline(breach.deadline_at, now)}")


def _upper_first(value: str) -> str:
    return value[:1].upper() + value[1:]


def reminder_kinds() -> dict[str, ReminderKind]:
    """Every breach reminder is urgent: the 72-hour clock ignores office hours, and the closing note answers the
    reporter's own report (not a routine nag), so "I'm telling the reporter now" is true at a weekend too."""
    urgent: dict[str, Callable[[AsyncSession, Reminder, datetime], Awaitable[Card | None]]] = {
        alerts.ALERT: render_alert, alerts.DEADLINE: render_deadline, alerts.OVERDUE: render_overdue,
        alerts.UPDATED: render_updated, alerts.INFO_REQUEST: render_info_request, alerts.CLOSED: render_closed,
    }
    return {kind: ReminderKind(render=fn, urgent=True, snoozable=False, current=render_current if kind in _TITLES else None)
            for kind, fn in urgent.items()}


def _dpo_line(breach: Breach, now: datetime) -> StatusLine:
    status = status_of(breach)
    label = f"**{breach.reference}** \u00b7 {describe('kind', breach.kind)} \u00b7 {status.value}"
    if not alerts.clock_running(breach):
        return StatusLine("Breaches", f"{label} \u00b7 close it with lessons learned", 20, show_button(breach))
    left = breach.deadline_at - now
    urgency = 100 if left.total_seconds() < 0 else 90 if left.total_seconds() < 12 * 3600 else 80
    waiting = " \u00b7 decision needed" if status in (BreachStatus.AWAITING_DECISION, BreachStatus.MORE_INFO) else ""
    return StatusLine("Breaches", f"{label} \u00b7 {time_left(breach.deadline_at, now)}{waiting}", urgency, show_button(breach))


async def breach_status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
    """DPO: the school's open breaches (overdue first); staff: their own open reports."""
    breaches = await visible_breaches(session, actor=actor)
    if actor.is_dpo:
        return [_dpo_line(breach, now) for breach in breaches]
    return [StatusLine("Your breach reports", f"**{b.reference}** \u00b7 {status_of(b).value}", 10, show_button(b))
            for b in breaches]
