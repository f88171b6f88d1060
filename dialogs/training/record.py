"""Training that counts: `attendance 3` (organisers), `my training`, and for DPOs who is due with a one-click invitation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.kit.card_data import card_id
from dialogs.kit.cards import Card, plain, submit
from dialogs.kit.commands import CommandDialog
from dialogs.kit.refusals import polite
from dialogs.kit.replies import card_activity
from dialogs.training import record_cards as cards
from dialogs.training.admin import session_id_of
from dialogs.training.cards import OPEN_REGISTER, SHOW_DUE
from dialogs.training.common import STALE, Catalogue
from services.dates import format_uk
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.reminders import ledger as reminders
from services.training.booking import ACTIVE, upcoming
from services.training.record import attended, mark_attendance, register, training_due, unmarked, valid_since
from storage.reminder_models import Reminder
from storage.training_models import TrainingBooking, TrainingSession, TrainingStatus

ATTENDANCE_INTENT = Intent("training.attendance", ("attendance", "mark attendance", "take the register"),
                           (r"^(mark |take )?(the )?(attendance|register)( for)?( session)? #?\d+$",), private=True)
RECORD_INTENT = Intent("training.record", ("my training", "my training record", "training record"), private=True)
DUE_INTENT = Intent("training.due", ("training due", "who needs training", "staff training due"), private=True)
INVITE_KIND = "training.invite"


def training_record_feature(deps: Deps) -> Feature:
    """Attendance, personal training records, and training due for DPOs (status line, list, invitations)."""
    months, catalogue = deps.settings.training_valid_months, Catalogue(deps)

    async def attendance(context: TurnContext, utterance: str) -> None:
        session_id = session_id_of({"utterance": utterance})
        if session_id is None:
            await context.send_activity("Which session? Type **attendance** and its number, e.g. **attendance 3** "
                                        "(the number is on **attendees** and the session cards).")
            return
        async with deps.sessions() as session:
            training, booked = await register(session, actor=actor_of(context), session_id=session_id,
                                              hub_tenant_id=deps.settings.hub_tenant_id, now=deps.clock())
        await context.send_activity(card_activity(cards.attendance_card(training, booked)))

    async def save_attendance(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        came = {int(key[len(cards.CAME):]) for key, value in data.items()
                if key.startswith(cards.CAME) and key[len(cards.CAME):].isdigit() and str(value).lower() == "true"}
        session_id = card_id(data, STALE, key="session_id", error=DomainError)
        async with deps.sessions() as session:
            ticked, booked = await mark_attendance(session, actor=actor, session_id=session_id, came=came,
                                                   hub_tenant_id=deps.settings.hub_tenant_id, now=deps.clock())
        await dc.context.send_activity(f"Saved: {ticked} of {booked} came. Their training records are up to date "
                                       "(each person sees theirs with **my training**).")

    async def record(context: TurnContext, utterance: str) -> None:
        actor = actor_of(context)
        async with deps.sessions() as session:
            sessions = await attended(session, tenant_id=actor.tenant_id, aad_id=actor.aad_id)
        await context.send_activity(card_activity(
            cards.record_card(sessions, valid_from=valid_since(deps.clock(), months), months=months)))

    async def _due_card(session: AsyncSession, actor: Actor) -> Card:
        if not actor.is_dpo:
            raise NotAllowed("Only your school's DPO can see who needs training.")
        now = deps.clock()
        due = await training_due(session, tenant_id=actor.tenant_id, now=now, months=months)
        if not due:
            raise DomainError(f"Everyone has attended a data-protection session in the last {months} months.")
        await catalogue.ready(session)
        offers = await upcoming(session, now=now)
        return cards.due_card(due, months=months, next_session=offers[0].training if offers else None)

    async def due(context: TurnContext, utterance: str) -> None:
        async with deps.sessions() as session:
            await context.send_activity(card_activity(await _due_card(session, actor_of(context))))

    async def show_due(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        async with deps.sessions() as session:
            await dc.context.send_activity(card_activity(await _due_card(session, actor)))

    async def invite(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        if not actor.is_dpo:
            raise NotAllowed("Only your school's DPO can send training invitations.")
        session_id, now = card_id(data, STALE, key="session_id", error=DomainError), deps.clock()
        async with deps.sessions() as session:
            people = await training_due(session, tenant_id=actor.tenant_id, now=now, months=months)
            for person in people:
                await reminders.schedule(session, key=f"training-invite:{actor.tenant_id}:{person.aad_id}:{session_id}",
                                         tenant_id=actor.tenant_id, kind=INVITE_KIND, recipient_aad_id=person.aad_id,
                                         subject_type="training_session", subject_id=session_id, due_at=now, now=now)
            await session.commit()
        deps.wake_reminders()
        await dc.context.send_activity(f"Invited {len(people)} people to session #{session_id}; "
                                       "they'll each get a card with a button to book it.")

    async def render_invite(session: AsyncSession, reminder: Reminder, now: datetime) -> Card | None:
        training = await session.get(TrainingSession, int(reminder.subject_id))
        if training is None or training.status != TrainingStatus.SCHEDULED or training.booking_closes_at <= now:
            return None
        booked = await session.execute(select(col(TrainingBooking.id)).where(
            col(TrainingBooking.session_id) == training.id, col(TrainingBooking.tenant_id) == reminder.tenant_id,
            col(TrainingBooking.aad_id) == reminder.recipient_aad_id, col(TrainingBooking.status).in_(ACTIVE)))
        return None if booked.first() else cards.invitation_card(training, months=months)

    async def open_register(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        await attendance(dc.context, f"attendance {card_id(data, STALE, key='session_id', error=DomainError)}")

    async def status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
        lines = [StatusLine("Training sessions", f"#{t.id} {plain(t.title)} \u2014 {format_uk(t.starts_at)} \u2014 "
                            "attendance not marked yet", urgency=10,
                            button=submit("Mark attendance", {"cmd": OPEN_REGISTER, "session_id": t.id}))
                 for t in (await unmarked(session, actor=actor, hub_tenant_id=deps.settings.hub_tenant_id, now=now)
                           if actor.is_organiser else [])]
        due_now = await training_due(session, tenant_id=actor.tenant_id, now=now, months=months) if actor.is_dpo else []
        if due_now:
            lines.append(StatusLine("Training", f"{len(due_now)} staff due data-protection training (none in {months} "
                                    "months)", urgency=10, button=submit("Who, and invite", {"cmd": SHOW_DUE}), standing=True))
        return lines

    commands = ((ATTENDANCE_INTENT, attendance), (RECORD_INTENT, record), (DUE_INTENT, due))
    return Feature(
        dialogs=tuple(CommandDialog(intent.dialog_id, fn) for intent, fn in commands),
        intents=tuple(intent for intent, _ in commands),
        actions={cards.ATTENDANCE_SAVE: polite(save_attendance), cards.INVITE_DUE: invite, SHOW_DUE: polite(show_due),
                 OPEN_REGISTER: polite(open_register)},
        reminder_kinds={INVITE_KIND: ReminderKind(render=render_invite, snoozable=False)},
        status=status,
    )
