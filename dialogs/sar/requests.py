"""Subject access requests in chat: the log dialog, `sar SAR-…`, `open SARs`, `SARs due this week`, the DPO's buttons
(stop/resume the clock, extend, tick a step, close), the reminders and the `status` lines.

Every handler loads the request through services.sar.requests, which re-checks school and role/ownership.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import ActionHandler, Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.kit.card_data import card_id, card_text
from dialogs.kit.cards import plain, text
from dialogs.kit.commands import CommandDialog
from dialogs.kit.replies import card_activity
from dialogs.reminders.cards import reminder_card
from dialogs.sar import cards
from dialogs.sar.log import SarLogDialog, rules_of
from services.dates import parse_uk_datetime, to_local
from services.errors import DomainError
from services.identity import Actor, active_roles
from services.sar import alerts, work
from services.sar import requests as service
from storage.models import Role
from storage.reminder_models import Reminder
from storage.sar_models import SubjectAccessRequest

LOG_INTENT = Intent(
    "sar.log", ("log a sar", "log sar", "subject access request", "new sar", "log a subject access request"),
    (r"\bsubject access\b", r"\b(asked|asking|request(ed|ing)?|wants?)\b.*\b(all|every|copy of)\b.*\b(data|information|info)\b"
     r".*\b(hold|have|held|keep)\b", r"\beducational record\b", r"^log (a |an )?sar\b"),
    private=True)
SHOW_INTENT = Intent("sar.show", (), (r"^(sar|show|open|view)\s+sar-[0-9]{4}-[0-9]{1,6}$",), private=True)
LIST_INTENT = Intent("sar.list", ("open sars", "my sars", "list sars", "sars", "open subject access requests"),
                     (r"^(show( me)?|list|what are)( the| all)? open sars$",), private=True)
WEEK_INTENT = Intent("sar.week", ("sars due this week", "sars due", "what sars are due this week"),
                     (r"\bsars?\b.*\bdue\b.*\bweek\b",), private=True)


class SarActions:
    """Card buttons and commands; each opens its own database session."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._rules = rules_of(deps)

    def handlers(self) -> dict[str, ActionHandler]:
        """The card commands this feature answers."""
        return {cards.SHOW: self.show, cards.PAUSE: self.pause, cards.RESUME_FORM: self.resume_form,
                cards.RESUME: self.resume, cards.EXTEND_FORM: self.extend_form, cards.EXTEND: self.extend,
                cards.ASSIGN_FORM: self.assign_form, cards.ASSIGN: self.assign, cards.TICK_FORM: self.tick_form,
                cards.TICK: self.tick, cards.CLOSE_FORM: self.close_form, cards.CLOSE: self.close}

    def _date(self, typed: str) -> date:
        """A date a person typed, read the UK way (empty or "today" is today)."""
        now = self._deps.clock()
        when = now if typed.strip().lower() in ("", "today", "now") else parse_uk_datetime(typed, now=now, tz=self._rules.tz)
        return to_local(when, self._rules.tz).date()

    async def _detail(self, context: TurnContext, actor: Actor, *, sar_id: int | None, reference: str | None) -> None:
        async with self._deps.sessions() as session:
            sar = await service.load_sar(session, actor=actor, sar_id=sar_id, reference=reference)
            events = await service.timeline(session, sar=sar)
        today = self._rules.today(self._deps.clock())
        await context.send_activity(card_activity(cards.detail_card(sar, events, is_dpo=actor.is_dpo,
                                                                  handles=service.may_work_on(actor, sar), today=today),
                                                  summary=sar.reference))

    async def show(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """One request with its checklist and timeline (whoever logged it, or a DPO)."""
        await self._detail(dc.context, actor, sar_id=card_id(data, service.NOT_FOUND), reference=None)

    async def pause(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Stop the clock: waiting for proof of identity or clarification."""
        async with self._deps.sessions() as session:
            sar = await work.pause(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), kind=card_text(data, "kind"),
                                      now=self._deps.clock(), rules=self._rules)
        await dc.context.send_activity(
            f"The clock on **{sar.reference}** is stopped ({service.PAUSES[sar.pause_kind]}) from "
            f"{cards.day(sar.paused_on or sar.received_on)}. Reminders are paused; press **Resume the clock** when it arrives.")

    async def _form(self, dc: DialogContext, actor: Actor, data: dict[str, Any], kind: str) -> None:
        async with self._deps.sessions() as session:
            sar = await service.load_sar(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), dpo_only=True)
        if sar.closed_at is not None:
            raise DomainError(f"{sar.reference} is closed.")
        if kind == "resume":
            form = cards.resume_form(sar)
        elif kind == "extend":
            form = cards.extend_form(sar, service.first_month_end(sar, self._rules))
        else:
            form = cards.close_form(sar)
        await dc.context.send_activity(card_activity(form))

    async def resume_form(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Ask when the ID or clarification arrived."""
        await self._form(dc, actor, data, "resume")

    async def extend_form(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Ask for the extension, its reason and when the requester was told."""
        await self._form(dc, actor, data, "extend")

    async def assign_form(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Offer the people of the school who have talked to the bot."""
        async with self._deps.sessions() as session:
            sar = await service.load_sar(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), dpo_only=True)
            people = await work.people_of(session, tenant_id=sar.tenant_id)
        await dc.context.send_activity(card_activity(cards.assign_form(sar, [(p.aad_id, p.name) for p in people])))

    async def assign(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Make someone the handler: they see the request, tick steps and get the reminders."""
        async with self._deps.sessions() as session:
            sar = await work.assign(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND),
                                    handler_aad_id=card_text(data, "handler"),
                                    now=self._deps.clock(), rules=self._rules)
        await dc.context.send_activity(f"**{plain(sar.handler_name) or 'They'}** now handles **{sar.reference}**: they can "
                                       "see it, tick steps, and get its reminders.")

    async def tick_form(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Offer the checklist steps not yet done (a DPO or the handler)."""
        async with self._deps.sessions() as session:
            sar = await service.load_sar(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND))
        if not service.may_work_on(actor, sar) or sar.closed_at is not None:
            raise DomainError(f"{sar.reference} is closed." if sar.closed_at else service.NOT_FOUND)
        await dc.context.send_activity(card_activity(cards.tick_form(sar)))

    async def close_form(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Ask for the outcome, the date sent and the disclosure record."""
        await self._form(dc, actor, data, "close")

    async def resume(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Restart the clock; the new due date is shown."""
        on = self._date(card_text(data, "on"))
        async with self._deps.sessions() as session:
            sar = await work.resume(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), on=on, now=self._deps.clock(),
                                       rules=self._rules)
        await dc.context.send_activity(f"The clock on **{sar.reference}** restarted {cards.day(on)}. "
                                       f"It is now due **{cards.day(sar.due_on)}**.")

    async def extend(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Extend by one or two months; the new due date is shown."""
        months = {"1": 1, "2": 2}.get(card_text(data, "months"), 0)
        told = self._date(card_text(data, "told")) if card_text(data, "told").strip() else None
        if told is None:
            raise DomainError("Please give the date the requester was told of the extension.")
        async with self._deps.sessions() as session:
            sar = await work.extend(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), months=months,
                                       reason=card_text(data, "reason"), told_on=told, now=self._deps.clock(), rules=self._rules)
        await dc.context.send_activity(f"**{sar.reference}** is extended by {sar.extension_months} month(s) (requester told "
                                       f"{cards.day(told)}). It is now due **{cards.day(sar.due_on)}**.")

    async def tick(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Tick one checklist step."""
        step = card_text(data, "step")
        async with self._deps.sessions() as session:
            sar = await work.tick(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND), step=step,
                                  now=self._deps.clock())
        left = [label for code, label in service.STEPS.items() if code not in sar.checklist]
        await dc.context.send_activity(f"Ticked for **{sar.reference}**: {service.STEPS[step]}. "
                                       + (f"Still to do: {', '.join(left)}." if left else "Every step is done."))

    async def close(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Close with the outcome and the disclosure record."""
        sent = self._date(card_text(data, "sent")) if card_text(data, "sent").strip() else None
        async with self._deps.sessions() as session:
            sar = await work.close(session, actor=actor, sar_id=card_id(data, service.NOT_FOUND),
                                      outcome=card_text(data, "outcome"),
                                      note=card_text(data, "note"), disclosed=card_text(data, "disclosed"), sent_on=sent,
                                      now=self._deps.clock(), rules=self._rules)
        said = f"**{sar.reference}** is closed: {service.OUTCOMES[sar.outcome]}"
        said += f", sent {cards.day(sent)}." if sent else "."
        await dc.context.send_activity(said + " It stays in the SAR log; the reminders have stopped.")

    async def show_command(self, context: TurnContext, utterance: str) -> None:
        """`sar SAR-2026-0003`."""
        await self._detail(context, actor_of(context), sar_id=None, reference=service.reference_in(utterance) or "-")

    async def list_command(self, context: TurnContext, utterance: str) -> None:
        """`open SARs`: a DPO sees the school's, staff those they logged."""
        await self._list(context, None, "Open subject access requests")

    async def week_command(self, context: TurnContext, utterance: str) -> None:
        """`SARs due this week` (by Sunday), overdue ones included."""
        today = self._rules.today(self._deps.clock())
        await self._list(context, today + timedelta(days=6 - today.weekday()), "SARs due this week (and overdue)")

    async def _list(self, context: TurnContext, by: date | None, title: str) -> None:
        actor = actor_of(context)
        async with self._deps.sessions() as session:
            found = await service.visible_sars(session, actor=actor)
        shown = [s for s in found if by is None or (s.paused_on is None and s.due_on <= by)]
        title += "" if actor.is_dpo else " (yours)"
        await context.send_activity(card_activity(cards.list_card(title, shown, self._rules.today(self._deps.clock()))))


class SarNotices:
    """What the reminder engine sends about requests, and the `status` lines."""

    def __init__(self, deps: Deps) -> None:
        self._rules = rules_of(deps)

    async def _sar(self, session: AsyncSession, reminder: Reminder) -> SubjectAccessRequest | None:
        """The open request, if the recipient is still a DPO of its school or its handler."""
        sar = await service.sar_for_reminder(session, reminder)
        if sar is None or sar.closed_at is not None:
            return None
        if reminder.kind != alerts.ALERT and reminder.recipient_aad_id == sar.handler_aad_id:
            return sar
        roles = await active_roles(session, tenant_id=sar.tenant_id, aad_id=reminder.recipient_aad_id)
        return sar if Role.DPO in roles else None

    async def alert(self, session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
        """A new request, to each DPO."""
        sar = await self._sar(session, reminder)
        if sar is None:
            return None
        today = self._rules.today(now)
        lead = f"Logged by {sar.logged_by_name or 'a member of staff'}. {cards.clock_text(sar, today).capitalize()}."
        return cards.alert_card(sar, title="New subject access request", lead=lead, today=today)

    async def clock(self, session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
        """14/7/3/1 day(s) before the due date, and the day after: only while the clock runs on that due date."""
        sar = await self._sar(session, reminder)
        if sar is None or not alerts.clock_running(sar) or reminder.payload.get("due_on") != sar.due_on.isoformat():
            return None
        today = self._rules.today(now)
        overdue = reminder.kind == alerts.OVERDUE
        return reminder_card(
            why=("You're handling this subject access request" if reminder.recipient_aad_id == sar.handler_aad_id
                 else "You're a DPO for this school") + (": it is past its due date." if overdue else ": it is due soon."),
            about=f"{'OVERDUE' if overdue else 'SAR due soon'}: {sar.reference}",
            time_left=f"Due {cards.day(sar.due_on)}: {cards.days_left(sar, today).lower()}",
            body=[text(cards.clock_text(sar, today))], actions=[cards.act("Open", cards.SHOW, sar)],
            reminder_id=reminder.id or 0, snoozable=True)

    def kinds(self) -> dict[str, ReminderKind]:
        """Not urgent: the clock is in days, so quiet hours apply; a legal deadline, so school holidays don't."""
        return {alerts.ALERT: ReminderKind(render=self.alert, snoozable=False, term_time=False),
                alerts.DUE: ReminderKind(render=self.clock, term_time=False),
                alerts.OVERDUE: ReminderKind(render=self.clock, term_time=False)}

    async def status(self, session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
        """DPO: the school's open requests (overdue first); staff: the open requests they logged or handle."""
        today = self._rules.today(now)
        lines = []
        for sar in await service.visible_sars(session, actor=actor):
            line = f"**{sar.reference}** \u00b7 {cards.clock_text(sar, today)}"
            if not actor.is_dpo:
                lines.append(StatusLine("Your subject access requests", line, 10, cards.act("Open", cards.SHOW, sar)))
                continue
            left = (sar.due_on - today).days
            urgency = 20 if sar.paused_on is not None else 95 if left < 0 else 70 if left <= 3 else 40
            lines.append(StatusLine("Subject access requests", line, urgency, cards.act("Open", cards.SHOW, sar)))
        return lines


def sar_feature(deps: Deps) -> Feature:
    """Subject access requests: the log dialog, commands, DPO buttons, reminders and status."""
    actions, notices = SarActions(deps), SarNotices(deps)
    commands = ((SHOW_INTENT, actions.show_command), (WEEK_INTENT, actions.week_command),
                (LIST_INTENT, actions.list_command))
    return Feature(
        dialogs=(SarLogDialog(deps, LOG_INTENT), *(CommandDialog(intent.dialog_id, fn) for intent, fn in commands)),
        intents=(SHOW_INTENT, WEEK_INTENT, LIST_INTENT, LOG_INTENT),
        actions=actions.handlers(),
        reminder_kinds=notices.kinds(),
        status=notices.status,
    )
