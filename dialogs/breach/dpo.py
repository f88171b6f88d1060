"""The DPO's side of breaches (decision, ICO report, questions, closing) as card forms, the commands
`breach BR-…`, `open breaches`, `export breaches`, and the breach feature itself.

Every handler loads the breach through services.breach.records.load_breach, which re-checks tenant and role/ownership.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.breach import cards
from dialogs.breach.forms import ask_form, close_form, decision_form, reported_form
from dialogs.breach.ico_pack import send_pack
from dialogs.breach.notices import breach_status, reminder_kinds
from dialogs.breach.report import BreachReportDialog
from dialogs.breach.update import UPDATE_DIALOG_ID, UPDATE_INTENT, BreachUpdateDialog
from dialogs.feature import ActionHandler, Deps, Feature, Intent, actor_of
from dialogs.kit.card_data import card_id, card_text
from dialogs.kit.card_updates import replace_pressed
from dialogs.kit.commands import CommandDialog
from dialogs.kit.files import offer_file
from dialogs.kit.refusals import refusal
from dialogs.kit.replies import card_activity
from services.breach.alerts import SUBJECT
from services.breach.decisions import (
    DECISIONS,
    close_breach,
    mark_reported,
    outcome_line,
    record_decision,
    request_info,
    still_as_seen,
)
from services.breach.log import LOG_EXPORTED, export_log
from services.breach.records import NOT_FOUND, REFERENCE_WORDS, load_breach, reference_in, timeline, visible_breaches
from services.dates import format_uk, parse_uk_datetime, to_local
from services.errors import DomainError, NotAllowed, Outdated
from services.identity import Actor
from storage.breach_models import Breach

log = logging.getLogger(__name__)

# A DPO's form saved: what was done, by whom and when (the pressed form becomes that).
Save = Callable[[DialogContext, Actor, dict[str, Any]], Awaitable[str]]

SHOW_INTENT = Intent("breach.show", (), (rf"^((breach|show|open|view)( me)?( breach)?\s+)?{REFERENCE_WORDS}$",), private=True)
LIST_INTENT = Intent("breach.list", ("open breaches", "my breaches", "list breaches", "breaches"), private=True)
EXPORT_INTENT = Intent(
    "breach.export", ("export breaches", "export breach log", "export the breach log", "breach log"), private=True
)
# Typed equivalents of the DPO's buttons, e.g. "mark reported to ICO BR-2026-0001", "close BR-2026-0001".
_VERBS = r"(mark|reported|record|decide|decision|ask|close|timeline)"
TYPED_INTENT = Intent("breach.typed", (), (rf"^{_VERBS}\b.*\bbr-\d{{4}}-\d{{1,6}}\b",), private=True)
_TYPED = ((re.compile(r"\breported\b"), cards.REPORTED_FORM), (re.compile(r"^close\b"), cards.CLOSE_FORM),
          (re.compile(r"\b(decision|decide)\b"), cards.DECIDE_FORM), (re.compile(r"^ask\b"), cards.ASK_FORM))


class BreachActions:
    """Card buttons and commands; each opens its own database session."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def handlers(self) -> dict[str, ActionHandler]:
        """The card commands this feature answers."""
        saves = ((cards.DECIDE, self.decide, cards.DECIDE_FORM), (cards.REPORTED, self.reported, cards.REPORTED_FORM),
                 (cards.ASK, self.ask, cards.ASK_FORM), (cards.CLOSE, self.close, cards.CLOSE_FORM))
        handlers: dict[str, ActionHandler] = {cards.SHOW: self.show, cards.UPDATE: self.update}
        for cmd, save, form in saves:
            handlers[form], handlers[cmd] = self._form(form), self._keeping(save, form)
        return handlers

    async def _send_detail(self, context: TurnContext, actor: Actor, *, breach_id: int | None, reference: str | None) -> None:
        async with self._deps.sessions() as session:
            breach = await load_breach(session, actor=actor, breach_id=breach_id, reference=reference)
            events = await timeline(session, breach=breach)
        card = cards.detail_card(breach, events, is_dpo=actor.is_dpo, now=self._deps.clock())
        await context.send_activity(card_activity(card, summary=breach.reference))

    async def show(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """One breach with its timeline (its reporter or a DPO of the school)."""
        await self._send_detail(dc.context, actor, breach_id=card_id(data, NOT_FOUND), reference=None)

    def _form_card(self, cmd: str, breach: Breach, values: Mapping[str, Any] | None) -> dict[str, Any]:
        if cmd == cards.DECIDE_FORM:
            return decision_form(breach, values)
        if cmd == cards.REPORTED_FORM:
            return reported_form(breach, self._deps.clock(), values)
        return ask_form(breach, values) if cmd == cards.ASK_FORM else close_form(breach, values)

    async def _send_form(self, context: TurnContext, actor: Actor, cmd: str, *, breach_id: int | None = None,
                         reference: str | None = None, values: Mapping[str, Any] | None = None) -> None:
        """One of the DPO's forms for an open breach (with `values` kept when it comes back after an error)."""
        async with self._deps.sessions() as session:
            breach = await load_breach(session, actor=actor, breach_id=breach_id, reference=reference, dpo_only=True)
            if values is None and not any(b["data"]["cmd"] == cmd for b in cards.dpo_buttons(breach)):
                await still_as_seen(session, breach, (context.activity.value or {}).get("seen"))
        if breach.closed_at is not None:
            raise DomainError(f"{breach.reference} is closed.")
        await context.send_activity(card_activity(self._form_card(cmd, breach, values)))

    def _form(self, cmd: str) -> ActionHandler:
        async def send_form(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
            try:
                await self._send_form(dc.context, actor, cmd, breach_id=card_id(data, NOT_FOUND))
            except Outdated as error:  # a button the breach has moved on from: its cards are brought up to date
                await dc.context.send_activity(refusal(error))
                await self._deps.refresh_cards(actor.tenant_id, SUBJECT, card_id(data, NOT_FOUND))
        return send_form

    async def _settle(self, context: TurnContext, actor: Actor, breach_id: int, line: str) -> None:
        """The pressed form shows what was done (or what happened instead); every DPO's card about it follows."""
        async with self._deps.sessions() as session:
            breach = await load_breach(session, actor=actor, breach_id=breach_id, dpo_only=True)
        await replace_pressed(context, cards.outcome_card(breach, line))
        await self._deps.refresh_cards(breach.tenant_id, SUBJECT, breach_id)

    def _keeping(self, save: Save, cmd: str) -> ActionHandler:
        """A saved form becomes what was done; one a rule refused comes back under the reason, with the answers kept
        (no dead end); one pressed after the breach moved on changes nothing and says what happened."""
        async def run(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
            try:
                line = await save(dc, actor, data)
            except Outdated as error:  # names and the ICO reference in it were typed by people: shown as typed
                await dc.context.send_activity(refusal(error))
                await self._settle(dc.context, actor, card_id(data, NOT_FOUND), str(error))
                return
            except NotAllowed:
                raise
            except DomainError as error:
                await dc.context.send_activity(refusal(error))
                try:
                    await self._send_form(dc.context, actor, cmd, breach_id=card_id(data, NOT_FOUND), values=data)
                except DomainError:
                    pass  # closed meanwhile: the reason said so
                return
            await self._settle(dc.context, actor, card_id(data, NOT_FOUND), line)
        return run

    async def typed_command(self, context: TurnContext, utterance: str) -> None:
        """`mark reported to ICO BR-…`, `record decision BR-…`, `ask reporter BR-…`, `close BR-…`, `timeline BR-…`."""
        said, reference = " ".join(utterance.lower().split()), reference_in(utterance) or "-"
        cmd = next((cmd for pattern, cmd in _TYPED if pattern.search(said)), None)
        if cmd is None:
            await self._send_detail(context, actor_of(context), breach_id=None, reference=reference)
        else:
            await self._send_form(context, actor_of(context), cmd, reference=reference)

    async def decide(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> str:
        """Save the DPO's decision (a reason is required for "not notifiable")."""
        async with self._deps.sessions() as session:
            breach = await record_decision(
                session, actor=actor, breach_id=card_id(data, NOT_FOUND), decision=card_text(data, "decision"),
                reason=card_text(data, "reason"), individuals=card_text(data, "individuals") or "undecided",
                individuals_note=card_text(data, "individuals_note"), now=self._deps.clock(), seen=data.get("seen"),
            )
            line = await outcome_line(session, breach)
        said = f"Recorded for **{breach.reference}**: {DECISIONS[breach.decision or '']}. It stays in the breach log."
        if breach.decision == "not_notifiable":
            said += " The deadline reminders have stopped."
        elif breach.ico_reported_at is None:
            said += f" Deadline reminders continue until you mark it reported (deadline {format_uk(breach.deadline_at)})."
        await dc.context.send_activity(said)
        if breach.decision == "notify":
            await send_pack(dc.context, self._deps, breach_id=breach.id)
        return line

    async def reported(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> str:
        """Record the ICO report; stops every deadline reminder."""
        now = self._deps.clock()
        when = card_text(data, "reported_at").strip()
        reported_at = now if when.lower() in ("", "now", "just now") else parse_uk_datetime(when, now=now, prefer="past")
        async with self._deps.sessions() as session:
            breach = await mark_reported(
                session, actor=actor, breach_id=card_id(data, NOT_FOUND), ico_reference=card_text(data, "ico_reference"),
                reported_at=reported_at, late_reason=card_text(data, "late_reason"), now=now, seen=data.get("seen"),
            )
            line = await outcome_line(session, breach)
        await dc.context.send_activity(
            f"Recorded: **{breach.reference}** reported to the ICO (case {breach.ico_reference}) on "
            f"{format_uk(reported_at)} UK time. "
            "The remaining deadline reminders are cancelled. Close it with the lessons learned when you're done."
        )
        return line

    async def ask(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> str:
        """Send the reporter a question."""
        async with self._deps.sessions() as session:
            breach = await request_info(session, actor=actor, breach_id=card_id(data, NOT_FOUND),
                                        question=card_text(data, "question"),
                                        now=self._deps.clock())
        self._deps.wake_reminders()
        await dc.context.send_activity(f"Sent your question to the reporter of **{breach.reference}**. "
                                       "Their answer will come to you here.")
        return f"Question sent to the reporter by {actor.name} on {format_uk(self._deps.clock())}"

    async def close(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> str:
        """Close with lessons learned; the reporter is told."""
        async with self._deps.sessions() as session:
            breach = await close_breach(session, actor=actor, breach_id=card_id(data, NOT_FOUND),
                                        lessons=card_text(data, "lessons"),
                                        now=self._deps.clock(), seen=data.get("seen"))
            line = await outcome_line(session, breach)
        self._deps.wake_reminders()
        told = " I'm telling the reporter now." if breach.reporter_aad_id != actor.aad_id else ""
        await dc.context.send_activity(f"**{breach.reference}** is closed. It stays in the breach log.{told}")
        return line

    async def update(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Start adding information (the reporter answering a question, or a DPO)."""
        breach_id = card_id(data, NOT_FOUND)
        if dc.active_dialog is not None:
            raise DomainError("Please finish what you're doing first (or type **cancel**), then press the button again.")
        await dc.begin_dialog(UPDATE_DIALOG_ID, {"breach_id": breach_id})

    async def show_command(self, context: TurnContext, utterance: str) -> None:
        """`breach BR-2026-0007`."""
        await self._send_detail(context, actor_of(context), breach_id=None, reference=reference_in(utterance) or "-")

    async def list_command(self, context: TurnContext, utterance: str) -> None:
        """`open breaches`: a DPO sees the school's, staff their own."""
        actor = actor_of(context)
        async with self._deps.sessions() as session:
            breaches = await visible_breaches(session, actor=actor)
        await context.send_activity(card_activity(cards.list_card(breaches, self._deps.clock(), is_dpo=actor.is_dpo)))

    async def export_command(self, context: TurnContext, utterance: str) -> None:
        """`export breaches` (DPO only): the school's breach log as a CSV file."""
        actor = actor_of(context)
        async with self._deps.sessions() as session:
            content = await export_log(session, actor=actor)
        log.info("breach log exported in tenant %s", actor.tenant_id)
        name = f"breach-log-{to_local(self._deps.clock()).strftime('%Y-%m-%d')}.csv"
        await offer_file(context, self._deps, name=name, content=content, audit_action=LOG_EXPORTED,
                         description="Your school's breach log. It contains personal data: keep it safe.",
                         again="Ask for it again with **export breaches**.")


def _safe(handler: Callable[[TurnContext, str], Awaitable[None]]) -> Callable[[TurnContext, str], Awaitable[None]]:
    """Answer a refusal in chat, so the one-step dialog still ends cleanly."""
    async def run(context: TurnContext, utterance: str) -> None:
        try:
            await handler(context, utterance)
        except DomainError as error:
            await context.send_activity(refusal(error))
    return run


def breach_feature(deps: Deps, report_intent: Intent) -> Feature:
    """Breach reporting: the report and update dialogs, DPO forms and commands, reminders and status."""
    actions = BreachActions(deps)
    commands = ((SHOW_INTENT, actions.show_command), (LIST_INTENT, actions.list_command),
                (EXPORT_INTENT, actions.export_command), (TYPED_INTENT, actions.typed_command))
    return Feature(
        dialogs=(BreachReportDialog(deps, report_intent), BreachUpdateDialog(deps),
                 *(CommandDialog(intent.dialog_id, _safe(fn)) for intent, fn in commands)),
        intents=(SHOW_INTENT, UPDATE_INTENT, TYPED_INTENT, LIST_INTENT, EXPORT_INTENT, report_intent),
        actions=actions.handlers(),
        reminder_kinds=reminder_kinds(),
        status=breach_status,
    )
