"""Organisers: `add session`, `edit session`, `cancel session`, `attendees <session>`."""

from __future__ import annotations

import re
from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from dialogs.feature import ActionHandler, Deps, Intent, actor_of
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.replies import card_activity
from dialogs.kit.steps import begin_with, stop, yes_no, yes_no_ok
from dialogs.training import cards
from dialogs.training.common import STALE, Catalogue
from services.errors import DomainError
from services.ids import parse_id
from services.training import booking as training
from services.training import catalogue as catalogue_service
from services.training.booking import Offer
from storage.training_models import TrainingFormat, TrainingStatus

ADD = Intent("training.add_session", ("add session", "add a session", "add training session", "new session"),
             (r"^(add|new) (a )?(training )?session\b",))
EDIT = Intent("training.edit_session", ("edit session", "change session"), (r"^(edit|change) (a )?(training )?session\b",))
CANCEL = Intent("training.cancel_session", ("cancel session", "cancel a session"), (r"^cancel (a )?(training )?session\b",))
ATTENDEES = Intent("training.attendees", ("attendees", "attendee list"), (r"^attendees?\b", r"\battendee list\b"), private=True)
FORM_PROMPT, CONFIRM_PROMPT = "training.admin.form", "training.admin.confirm"
SESSION = "session_id"
_TRAILING_ID = re.compile(r"#?([0-9]+)\s*$")


def session_id_of(options: object) -> int | None:
    """The session from a button ({"session_id": 12}) or the end of what was typed ("attendees 12", "edit session #12")."""
    if not isinstance(options, dict):
        return None
    if SESSION in options:
        return parse_id(options[SESSION])
    match = _TRAILING_ID.search(str(options.get("utterance") or ""))
    return parse_id(match[1]) if match else None


class OrganiserDialog(ComponentDialog):
    """Organiser-only flows on one session: refuse others, list sessions when none was named."""

    def __init__(self, dialog_id: str, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(dialog_id)
        self._deps, self._catalogue = deps, catalogue

    def _steps(self, *steps: Any) -> None:
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", list(steps)))
        self.initial_dialog_id = f"{self.id}.steps"

    async def _target(self, step: WaterfallStepContext, *, to_come: bool = False) -> Offer | DialogTurnResult:
        """The chosen session with its counts, or the dialog's end (refused, or the list shown to pick from).

        `to_come`: refuse sessions that are cancelled or have started (nothing to edit or cancel)."""
        actor, now = actor_of(step.context), self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                catalogue_service.require_organiser(actor)
                await self._catalogue.ready(session)
                session_id = session_id_of(step.options)
                if session_id is None:
                    offers = await training.upcoming(session, now=now, open_only=False)
                    await step.context.send_activity(card_activity(cards.admin_card(offers, title="Which session?")))
                    return await step.end_dialog()
                (offer,) = await training.offers(session, [await training.get_training(session, session_id)])
            except DomainError as error:
                return await stop(step, error)
        if to_come and (offer.training.status != TrainingStatus.SCHEDULED or offer.training.starts_at <= now):
            return await stop(step, f"Session #{session_id} is cancelled or has already started, so it can't be changed.")
        step.values[SESSION] = session_id
        return offer

    async def _form(self, step: WaterfallStepContext, values: dict[str, str], title: str) -> DialogTurnResult:
        return await step.prompt(FORM_PROMPT, PromptOptions(
            prompt=card_activity(cards.session_form_card(values, title=title)), validations={"title": title},
        ))

    async def _form_ok(self, prompt: PromptValidatorContext) -> bool:
        """Check the form; when it doesn't check out, show it again with the problem and what was typed."""
        value = prompt.recognized.value if prompt.recognized.succeeded else None
        values = {k: str(v) for k, v in value.items() if k != "form"} if isinstance(value, dict) else {}
        try:
            if not isinstance(value, dict) or value.get("form") != cards.SESSION_FORM:
                raise DomainError("Please fill in the form and press **Save** (or type **cancel**).")
            catalogue_service.read_draft(value, now=self._deps.clock())
        except DomainError as error:
            title = str((prompt.options.validations or {}).get("title", "Training session"))
            prompt.options.retry_prompt = card_activity(cards.session_form_card(values, title=title, error=str(error)))
            return False
        return True


class AddSessionDialog(OrganiserDialog):
    """The session form, then the new session."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(ADD.dialog_id, deps, catalogue)
        self.add_dialog(CardPrompt(FORM_PROMPT, self._form_ok))
        self._steps(self.form_step, self.save_step)

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        actor = actor_of(step.context)
        try:
            catalogue_service.require_organiser(actor)
        except DomainError as error:
            return await stop(step, error)
        defaults = {"format": TrainingFormat.ONLINE, "capacity": "30", "organiser_name": actor.name}
        return await self._form(step, defaults, "Add a training session")

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                draft = catalogue_service.read_draft(step.result, now=now)
                added = await catalogue_service.add_session(session, actor=actor_of(step.context), draft=draft, now=now)
            except DomainError as error:
                return await stop(step, error)
            offers = await training.offers(session, [added])
        await step.context.send_activity(card_activity(cards.admin_card(offers, title="Session added")))
        return await step.end_dialog()


class EditSessionDialog(OrganiserDialog):
    """Pick a session, the form filled in with it, save (people booked are told if time or place changed)."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(EDIT.dialog_id, deps, catalogue)
        self.add_dialog(CardPrompt(FORM_PROMPT, self._form_ok))
        self._steps(self.form_step, self.save_step)

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        offer = await self._target(step, to_come=True)
        if not isinstance(offer, Offer):
            return offer
        values = catalogue_service.form_values(offer.training)
        return await self._form(step, values, f"Edit session #{offer.training.id}")

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        now = self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                draft = catalogue_service.read_draft(step.result, now=now)
                edit = await catalogue_service.edit_session(
                    session, actor=actor_of(step.context), session_id=step.values[SESSION], draft=draft, now=now
                )
            except DomainError as error:
                return await stop(step, error)
            offers = await training.offers(session, [edit.training])
        if edit.changed or edit.promoted:
            self._deps.wake_reminders()
        notes = [f"Everyone booked or waiting is being told what changed ({', '.join(edit.changed)})."] if edit.changed else []
        notes += [f"{len(edit.promoted)} moved up from the waiting list."] if edit.promoted else []
        await step.context.send_activity(card_activity(cards.admin_card(offers, title="Session saved")))
        if notes:
            await step.context.send_activity(" ".join(notes))
        return await step.end_dialog()


class CancelSessionDialog(OrganiserDialog):
    """Pick a session, are you sure, cancel it and tell everyone at once."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(CANCEL.dialog_id, deps, catalogue)
        self.add_dialog(CardPrompt(CONFIRM_PROMPT, yes_no_ok))
        self._steps(self.confirm_step, self.cancel_step)

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        offer = await self._target(step, to_come=True)
        if not isinstance(offer, Offer):
            return offer
        return await step.prompt(CONFIRM_PROMPT, PromptOptions(prompt=card_activity(cards.cancel_session_confirm_card(offer))))

    async def cancel_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not yes_no(step.result):
            return await stop(step, "OK, the session stays on.")
        async with self._deps.sessions() as session:
            try:
                told = await catalogue_service.cancel_session(
                    session, actor=actor_of(step.context), session_id=step.values[SESSION], now=self._deps.clock()
                )
            except DomainError as error:
                return await stop(step, error)
        self._deps.wake_reminders()
        told_text = f"I'm telling the {len(told)} people booked or waiting now."
        return await stop(step, f"Session #{step.values[SESSION]} is cancelled. {told_text}")


class AttendeesDialog(OrganiserDialog):
    """Who is booked and waiting, with their schools (organisers only)."""

    def __init__(self, deps: Deps, catalogue: Catalogue) -> None:
        super().__init__(ATTENDEES.dialog_id, deps, catalogue)
        self._steps(self.show_step)

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        offer = await self._target(step)
        if not isinstance(offer, Offer):
            return offer
        async with self._deps.sessions() as session:
            _, people = await catalogue_service.attendees(session, actor=actor_of(step.context), session_id=step.values[SESSION],
                                                          hub_tenant_id=self._deps.settings.hub_tenant_id)
        await step.context.send_activity(card_activity(cards.attendees_card(offer.training, people)))
        return await step.end_dialog()


def admin_intents() -> tuple[Intent, ...]:
    """Organiser commands, tried before `book training`."""
    return (ADD, EDIT, CANCEL, ATTENDEES)


def admin_dialogs(deps: Deps, catalogue: Catalogue) -> tuple[ComponentDialog, ...]:
    """The organiser dialogs."""
    return (AddSessionDialog(deps, catalogue), EditSessionDialog(deps, catalogue),
            CancelSessionDialog(deps, catalogue), AttendeesDialog(deps, catalogue))


def admin_actions() -> dict[str, ActionHandler]:
    """Buttons on organiser cards and status lines."""
    return {
        cards.ATTENDEES: begin_with(ATTENDEES.dialog_id, SESSION, STALE),
        cards.EDIT: begin_with(EDIT.dialog_id, SESSION, STALE),
        cards.CANCEL_SESSION: begin_with(CANCEL.dialog_id, SESSION, STALE),
    }
