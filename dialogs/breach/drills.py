"""Breach drills in chat: `start a breach drill`, `drill speed 60`, `drill`, `stop drill`, the drill's buttons,
its compressed-clock reminders and its `status` line. DPOs only; every card says DRILL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.breach import drill_cards as cards
from dialogs.breach.cards import ALERT_TITLE, DEADLINE_TITLE, OVERDUE_TITLE
from dialogs.breach.ico_pack import send_sections
from dialogs.feature import ActionHandler, Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.kit.card_data import card_id, card_text
from dialogs.kit.commands import CommandDialog
from dialogs.kit.replies import card_activity
from services.breach import drills
from services.breach.drill_pack import drill_pack, reference_of
from services.breach.facts import CLOCK_STAGES
from services.errors import DomainError
from services.identity import Actor, active_roles
from storage.models import Role
from storage.reminder_models import Reminder
from storage.school_models import SchoolProfile

log = logging.getLogger(__name__)

START_INTENT = Intent(
    "drill.start", ("start a breach drill", "start breach drill", "breach drill", "start a drill", "run a breach drill"),
    (r"^(start|run|begin|do|practise|practice|rehearse)\b.*\bdrill\b",), private=True)
SPEED_INTENT = Intent("drill.speed", (), (r"^(set )?(the )?drill( clock)? speed\b",), private=True)
SHOW_INTENT = Intent("drill.show", ("drill", "show drill", "show the drill", "current drill", "the drill"), private=True)
STOP_INTENT = Intent(
    "drill.stop", ("stop drill", "stop the drill", "end drill", "end the drill", "finish the drill", "stop breach drill"),
    (r"^(stop|end|finish)\b.*\bdrill\b",), private=True)
PACK_INTENT = Intent("drill.ico_pack", ("drill ico pack", "ico pack for the drill"), private=True)
# Asking for the ICO pack on a drill records the moment (for the report), then shows the practice pack.
ICO_PACK_ASKED = ("DRILL: asked for the ICO pack at {at} drill time (recorded for the drill report). The drill's "
                  "clock has stopped, as sending the report would stop it. Here is the practice pack:")


class DrillActions:
    """Commands and card buttons; each opens its own database session."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def handlers(self) -> dict[str, ActionHandler]:
        """The card commands this feature answers."""
        return {cards.SHOW: self.show, cards.DECIDE_FORM: self._form(cards.decision_form),
                cards.CONTAIN_FORM: self._form(cards.containment_form), cards.DECIDE: self.decide,
                cards.CONTAIN: self.contain, cards.ICO_PACK: self.ico_pack, cards.STOP: self.stop}

    async def start_command(self, context: TurnContext, utterance: str) -> None:
        """`start a breach drill` (optionally naming a scenario, or "at speed 60")."""
        said = utterance.lower()
        speed = drills.parse_speed(said.split("speed", 1)[1]) if "speed" in said else 1
        async with self._deps.sessions() as session:
            drill = await drills.start_drill(session, actor=actor_of(context), said=said, speed=speed,
                                             now=self._deps.clock())
        self._deps.wake_reminders()
        await context.send_activity(card_activity(cards.started_card(drill), "DRILL started"))

    async def speed_command(self, context: TurnContext, utterance: str) -> None:
        """`drill speed 60`: the 72 hours pass in 72 minutes from now on."""
        speed = drills.parse_speed(utterance.lower().split("speed", 1)[1])
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            drill = await drills.set_speed(session, actor=actor_of(context), speed=speed, now=now)
        before = [str(hours) for hours in CLOCK_STAGES[:-1]]  # the last stage is the deadline itself
        await context.send_activity(f"DRILL clock: {cards.drill_clock(drill, now)}. The reminders at {', '.join(before[:-1])} "
                                    f"and {before[-1]} hours come at their drill times.")

    async def show_command(self, context: TurnContext, utterance: str) -> None:
        """`drill`: the running drill's card."""
        await self._show(context, actor_of(context), None)

    async def stop_command(self, context: TurnContext, utterance: str) -> None:
        """`stop drill`: end the running drill and send the report."""
        await self._stop(context, actor_of(context), None)

    async def _stop(self, context: TurnContext, actor: Actor, drill_id: int | None) -> None:
        async with self._deps.sessions() as session:
            drill = await drills.stop_drill(session, actor=actor, drill_id=drill_id, now=self._deps.clock())
            report = await drills.report_of(session, drill)
        await context.send_activity(card_activity(cards.report_card(report), "DRILL report"))

    async def pack_command(self, context: TurnContext, utterance: str) -> None:
        """`drill ico pack`: as the button."""
        async with self._deps.sessions() as session:
            drill = await drills.load_drill(session, actor=actor_of(context))
        await self._step(context, actor_of(context), drill.id, "ico_pack")

    async def _show(self, context: TurnContext, actor: Actor, drill_id: int | None) -> None:
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            drill = await drills.load_drill(session, actor=actor, drill_id=drill_id)
            drills.first_look(drill, now)
            await session.commit()
        await context.send_activity(card_activity(cards.drill_card(drill, now), "DRILL"))

    async def show(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Open the drill (its first opening is the "first look")."""
        await self._show(dc.context, actor, card_id(data, drills.NOT_FOUND, error=DomainError))

    def _form(self, render: Callable[[Any], dict[str, Any]]) -> ActionHandler:
        async def send(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
            now = self._deps.clock()
            async with self._deps.sessions() as session:
                drill = await drills.load_drill(session, actor=actor, drill_id=card_id(data, drills.NOT_FOUND, error=DomainError))
                drills.ensure_running(drill)
                drills.first_look(drill, now)
                await session.commit()
            await dc.context.send_activity(card_activity(render(drill)))
        return send

    async def _step(self, context: TurnContext, actor: Actor, drill_id: int | None, step: str, **values: str) -> None:
        assert drill_id is not None
        async with self._deps.sessions() as session:
            drill = await drills.record_step(session, actor=actor, drill_id=drill_id, step=step, now=self._deps.clock(),
                                             **values)
        at = cards.hours({"decided": drill.decided_s, "contained": drill.contained_s,
                          "ico_pack": drill.ico_pack_s}[step])
        if step == "ico_pack":
            await context.send_activity(ICO_PACK_ASKED.format(at=at))
            await self._send_pack(context, drill)
            return
        said = "Decision" if step == "decided" else "Containment"
        stopped = "" if drills.clock_running(drill) else " The drill's deadline reminders have stopped."
        await context.send_activity(f"DRILL: {said} recorded at {at} drill time.{stopped} Type **stop drill** for "
                                    "the report when you're done.")

    async def _send_pack(self, context: TurnContext, drill: drills.BreachDrill) -> None:
        """The practice ICO pack: the real pack's cards from the scenario, each marked DRILL; nothing saved."""
        async with self._deps.sessions() as session:
            profile = await session.get(SchoolProfile, drill.tenant_id)
        sections = drill_pack(drill, profile, months=self._deps.settings.training_valid_months, now=self._deps.clock())
        log.info("drill %s ICO practice pack sent in tenant %s", drill.id, drill.tenant_id)
        await send_sections(context, reference_of(drill), sections, practice=cards.PRACTICE)

    async def decide(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The drill's decision: notify or not, and telling the people affected."""
        await self._step(dc.context, actor, card_id(data, drills.NOT_FOUND, error=DomainError), "decided",
                         decision=card_text(data, "decision"),
                         individuals=card_text(data, "individuals") or "undecided")

    async def contain(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """What was done to contain the practice breach."""
        await self._step(dc.context, actor, card_id(data, drills.NOT_FOUND, error=DomainError), "contained",
                         containment=card_text(data, "containment"))

    async def ico_pack(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The ICO pack button: records when it was asked for and shows the practice pack."""
        await self._step(dc.context, actor, card_id(data, drills.NOT_FOUND, error=DomainError), "ico_pack")

    async def stop(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The Stop drill button."""
        await self._stop(dc.context, actor, card_id(data, drills.NOT_FOUND, error=DomainError))


async def _drill(session: AsyncSession, reminder: Reminder) -> drills.BreachDrill | None:
    """The running drill a reminder is about, while its recipient is still a DPO of that school."""
    drill = await drills.drill_for_reminder(session, reminder.subject_id, reminder.tenant_id)
    if drill is None or drill.ended_at is not None:
        return None
    roles = await active_roles(session, tenant_id=drill.tenant_id, aad_id=reminder.recipient_aad_id)
    return drill if Role.DPO in roles else None


async def render_alert(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """The pretend reporter's breach, as the real alert would arrive."""
    drill = await _drill(session, reminder)
    if drill is None:
        return None
    left = cards.hours(max(0, drills.ICO_HOURS * 3600 - drills.drill_seconds(drill, now)))
    return cards.alert_card(drill, now, title=ALERT_TITLE, lead=f"{left} left on the drill clock until the "
                            "ICO deadline. Work it as you would a real one.")


async def render_clock(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """At each of CLOCK_STAGES' drill hours (the last is overdue), while the drill's clock runs."""
    drill = await _drill(session, reminder)
    if drill is None or not drills.clock_running(drill):
        return None
    hours = reminder.payload.get("hours")
    hours = hours if isinstance(hours, int) else 0
    if reminder.kind == drills.OVERDUE:
        return cards.alert_card(drill, now, title=OVERDUE_TITLE,
                                lead=f"The {drills.ICO_HOURS} hours have passed on the drill clock.")
    lead = f"{hours} hours since the school became aware (drill time). {drills.ICO_HOURS - hours}h 00m left."
    return cards.alert_card(drill, now, title=DEADLINE_TITLE, lead=lead)


async def drill_status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
    """A DPO sees the school's running drill."""
    drill = await drills.running_drill(session, actor.tenant_id) if actor.is_dpo else None
    if drill is None:
        return []
    line = f"DRILL \u00b7 {drills.scenario_of(drill).title} \u00b7 {cards.drill_clock(drill, now)}"
    return [StatusLine("Breach drill (practice)", line, 30, cards.act("Open", cards.SHOW, drill))]


def drill_feature(deps: Deps) -> Feature:
    """Breach drills: the commands, buttons, compressed-clock reminders and the status line."""
    actions = DrillActions(deps)
    commands = ((START_INTENT, actions.start_command), (SPEED_INTENT, actions.speed_command),
                (STOP_INTENT, actions.stop_command), (PACK_INTENT, actions.pack_command),
                (SHOW_INTENT, actions.show_command))
    kinds = {drills.ALERT: render_alert, drills.DEADLINE: render_clock, drills.OVERDUE: render_clock}
    return Feature(
        dialogs=tuple(CommandDialog(intent.dialog_id, fn) for intent, fn in commands),
        intents=tuple(intent for intent, _ in commands),
        actions=actions.handlers(),
        reminder_kinds={kind: ReminderKind(render=fn, urgent=True, snoozable=False) for kind, fn in kinds.items()},
        status=drill_status,
    )
