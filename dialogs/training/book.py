"""`book training`, `my bookings`, `cancel booking`, and the training feature that wires them up."""

from __future__ import annotations

import calendar
import re
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, Feature, Intent, actor_of
from dialogs.intents import normalise
from dialogs.kit.card_data import card_id
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import polite
from dialogs.kit.replies import card_activity
from dialogs.kit.steps import begin_with, stop, yes_no, yes_no_ok
from dialogs.training import cards
from dialogs.training.admin import admin_actions, admin_dialogs, admin_intents
from dialogs.training.common import STALE, Catalogue, reminder_kinds, send_invite, training_status
from services.dates import to_local
from services.errors import DomainError
from services.identity import Actor
from services.training import booking as training
from storage.training_models import BookingStatus, TrainingBooking, TrainingSession

MY_BOOKINGS_INTENT = Intent(
    "training.bookings", ("my bookings", "my booking", "bookings"),
    (r"^(show |list )?(me )?my (training )?bookings?$",),
)
CANCEL_BOOKING_INTENT = Intent(
    "training.cancel_booking",
    ("cancel booking", "cancel my booking", "cancel training", "cancel my place"),
    (r"\bcancel\b.*\b(booking|place|seat)\b",),
)
SESSION, ROLE, EXPECTED_SEAT, BOOKING = "session_id", "role", "expected_seat", "booking_id"
_MONTHS = [name.lower() for name in calendar.month_name[1:]]
_MONTH = re.compile(r"\b(?:(?:in|for|during) (?P<may>may)|(?P<month>{}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec))\b".format(
    "|".join(name for name in _MONTHS if name != "may")))
ROLE_PROMPT, CONFIRM_PROMPT = "training.role", "training.confirm"


def role_from(value: object) -> str | None:
    """A role from a button ({"role": ...}) or typed text ("head teacher", "Governor")."""
    if not isinstance(value, dict):
        return None
    said = value.get("role") or value.get("text") or ""
    key = normalise(str(said)).replace(" ", "").replace("_", "")
    matches = (role for role, label in cards.ROLES.items() if key in (role.replace("_", ""), label.lower().replace(" ", "")))
    return next(matches, None)


async def _role_ok(prompt: PromptValidatorContext) -> bool:
    return prompt.recognized.succeeded and role_from(prompt.recognized.value) is not None


def _options(step: WaterfallStepContext) -> dict[str, Any]:
    return step.options if isinstance(step.options, dict) else {}


def month_in(text: str) -> int | None:
    """The month named in e.g. "book me on the AI training in May" (1-12); "may" only after in/for/during."""
    match = _MONTH.search(normalise(text))
    if match is None:
        return None
    word = match.group("may") or match.group("month")
    return next(number for number, name in enumerate(_MONTHS, 1) if name.startswith(word[:3]))


def _catalogue(offers: list[training.Offer], utterance: str) -> dict[str, Any]:
    """The catalogue, only the month asked for when there are sessions in it (else all, saying so)."""
    month = month_in(utterance)
    if month is None:
        return cards.catalogue_card(offers)
    name = calendar.month_name[month]
    chosen = [offer for offer in offers if to_local(offer.training.starts_at).month == month]
    if chosen:
        return cards.catalogue_card(chosen, month=name)
    return cards.catalogue_card(offers, note=f"There are no sessions open for booking in {name}. These are all the dates:")


class BookDialog(ComponentDialog):
    """Shows the catalogue; with a session chosen (card button): role, confirm, book, invite."""

    def __init__(self, deps: Deps, catalogue: Catalogue, dialog_id: str) -> None:
        super().__init__(dialog_id)
        self._deps, self._catalogue = deps, catalogue
        self.add_dialog(CardPrompt(ROLE_PROMPT, _role_ok))
        self.add_dialog(CardPrompt(CONFIRM_PROMPT, yes_no_ok))
        self.add_dialog(WaterfallDialog(f"{dialog_id}.steps", [self.session_step, self.confirm_step, self.book_step]))
        self.initial_dialog_id = f"{dialog_id}.steps"

    async def session_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        session_id, now = _options(step).get(SESSION), self._deps.clock()
        async with self._deps.sessions() as session:
            await self._catalogue.ready(session)
            if not isinstance(session_id, int):
                offers = await training.upcoming(session, now=now)
                await step.context.send_activity(card_activity(_catalogue(offers, str(_options(step).get("utterance") or "")),
                                                               "Training you can book"))
                return await step.end_dialog()
            try:
                offer = await training.open_offer(session, actor=actor_of(step.context), session_id=session_id, now=now)
            except DomainError as error:
                return await stop(step, error)
        step.values[SESSION] = session_id
        return await step.prompt(ROLE_PROMPT, PromptOptions(
            prompt=card_activity(cards.role_card(offer.training)),
            retry_prompt=MessageFactory.text("Please choose your role: head teacher, senior leader, governor or other."),
        ))

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values[ROLE] = role_from(step.result)
        async with self._deps.sessions() as session:
            try:
                offer = await training.open_offer(
                    session, actor=actor_of(step.context), session_id=step.values[SESSION], now=self._deps.clock()
                )
            except DomainError as error:
                return await stop(step, error)
        step.values[EXPECTED_SEAT] = offer.seats_left > 0
        return await step.prompt(CONFIRM_PROMPT, PromptOptions(
            prompt=card_activity(cards.confirm_card(offer, step.values[ROLE])),
            retry_prompt=MessageFactory.text("Please answer yes or no."),
        ))

    async def book_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not yes_no(step.result):
            return await stop(step, "OK, I haven't booked anything. Type **book training** whenever you're ready.")
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                booking = await training.book(session, actor=actor_of(step.context), session_id=step.values[SESSION],
                                              role=step.values[ROLE], now=now)
            except DomainError as error:
                return await stop(step, error)
            position = await training.waiting_position(session, booking) if booking.status == BookingStatus.WAITING else None
            session_row = await training.get_training(session, booking.session_id)
        if position is not None and step.values[EXPECTED_SEAT]:
            await step.context.send_activity("The last seat went just before you, so I've put you on the waiting list.")
        await step.context.send_activity(card_activity(cards.booked_card(session_row, booking, position=position)))
        if booking.status == BookingStatus.BOOKED:
            await send_invite(step.context, self._deps, session_row, booking)
        return await step.end_dialog()


async def _my_items(session: AsyncSession, actor: Actor, deps: Deps) -> list[tuple[TrainingBooking, TrainingSession, int | None]]:
    items = []
    for booking, session_row in await training.my_bookings(session, actor=actor, now=deps.clock()):
        waiting = booking.status == BookingStatus.WAITING
        items.append((booking, session_row, await training.waiting_position(session, booking) if waiting else None))
    return items


class MyBookingsDialog(ComponentDialog):
    """Lists the user's upcoming bookings with their buttons."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(MY_BOOKINGS_INTENT.dialog_id)
        self._deps, self._catalogue = deps, catalogue
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", [self.list_step]))
        self.initial_dialog_id = f"{self.id}.steps"

    async def list_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        async with self._deps.sessions() as session:
            await self._catalogue.ready(session)
            items = await _my_items(session, actor_of(step.context), self._deps)
        await step.context.send_activity(card_activity(cards.bookings_card(items)))
        return await step.end_dialog()


class CancelBookingDialog(ComponentDialog):
    """Which booking (unless only one or a button said), are you sure, cancel — and the calendar removal."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(CANCEL_BOOKING_INTENT.dialog_id)
        self._deps, self._catalogue = deps, catalogue
        self.add_dialog(CardPrompt(CONFIRM_PROMPT, yes_no_ok))
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", [self.pick_step, self.cancel_step]))
        self.initial_dialog_id = f"{self.id}.steps"

    async def pick_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        booking_id, actor = _options(step).get(BOOKING), actor_of(step.context)
        async with self._deps.sessions() as session:
            await self._catalogue.ready(session)
            if not isinstance(booking_id, int):
                items = await _my_items(session, actor, self._deps)
                month = month_in(str(_options(step).get("utterance") or ""))
                in_month = [item for item in items if to_local(item[1].starts_at).month == month]
                items = in_month if len(in_month) == 1 else items  # "I can't come to the training in May"
                if len(items) != 1:
                    title = "Which booking do you want to cancel?" if items else "Your bookings"
                    await step.context.send_activity(card_activity(cards.bookings_card(items, title=title)))
                    return await step.end_dialog()
                booking_id = int(items[0][0].id or 0)
            try:
                booking, session_row = await training.booking_of(session, actor=actor, booking_id=booking_id)
            except DomainError as error:
                return await stop(step, error)
        if booking.status not in training.ACTIVE:
            return await stop(step, "That booking is already cancelled.")
        step.values[BOOKING] = booking_id
        return await step.prompt(CONFIRM_PROMPT, PromptOptions(
            prompt=card_activity(cards.cancel_confirm_card(booking, session_row)),
            retry_prompt=MessageFactory.text("Please answer yes or no."),
        ))

    async def cancel_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not yes_no(step.result):
            return await stop(step, "OK, your booking stays as it is.")
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                done = await training.cancel_booking(
                    session, actor=actor_of(step.context), booking_id=step.values[BOOKING], now=now
                )
            except DomainError as error:
                return await stop(step, error)
        if done.promoted:
            self._deps.wake_reminders()
        await step.context.send_activity(card_activity(cards.cancelled_card(done.training, was_booked=done.was_booked)))
        if done.was_booked:
            await send_invite(step.context, self._deps, done.training, done.booking)
        return await step.end_dialog()


def training_feature(deps: Deps, book_intent: Intent) -> Feature:
    """Booking for staff, catalogue management for organisers, reminders and status lines."""
    catalogue = Catalogue(deps)

    async def invite_again(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        booking_id = card_id(data, STALE, key=BOOKING, error=DomainError)
        async with deps.sessions() as session:
            booking, session_row = await training.booking_of(session, actor=actor, booking_id=booking_id)
        if booking.status == BookingStatus.WAITING:
            raise DomainError("You're on the waiting list for that session: you'll get the invite if a seat frees up.")
        await send_invite(dc.context, deps, session_row, booking)

    async def show_mine(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(MY_BOOKINGS_INTENT.dialog_id)

    return Feature(
        dialogs=(BookDialog(deps, catalogue, book_intent.dialog_id), MyBookingsDialog(deps, catalogue),
                 CancelBookingDialog(deps, catalogue), *admin_dialogs(deps, catalogue)),
        intents=(CANCEL_BOOKING_INTENT, MY_BOOKINGS_INTENT, *admin_intents(), book_intent),
        actions={
            cards.BOOK: begin_with(book_intent.dialog_id, SESSION, STALE),
            cards.CANCEL_BOOKING: begin_with(CANCEL_BOOKING_INTENT.dialog_id, BOOKING, STALE),
            cards.ICS: polite(invite_again),
            cards.MINE: polite(show_mine),
            **admin_actions(),
        },
        # As the typed commands: booking and session buttons work in group chats (each person's dialog is their own).
        public_actions=frozenset({cards.BOOK, cards.CANCEL_BOOKING, cards.ICS, cards.MINE, cards.EDIT, cards.CANCEL_SESSION}),
        reminder_kinds=reminder_kinds(deps.settings.hub_tenant_id),
        status=training_status,
    )
