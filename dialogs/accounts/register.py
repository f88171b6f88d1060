"""The social media account register: `social media accounts`, `add account`, `edit account 2`, `retire account 2 - why`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.accounts.cards import (
    EDIT_ACCOUNT,
    FORM,
    LEAVER_DONE,
    REVIEW,
    REVIEWED,
    account_form_card,
    register_card,
    review_card,
    review_reminder,
)
from dialogs.accounts.leavers import LEFT, access_done, access_status, left_staff, render_leaver
from dialogs.consent.post_cards import SHOW_POST
from dialogs.feature import Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.kit.card_data import card_id
from dialogs.kit.cards import submit
from dialogs.kit.commands import CommandDialog
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import polite
from dialogs.kit.replies import card_activity
from dialogs.kit.steps import begin_with, stop
from services.accounts import register as service
from services.accounts.leavers import KIND_LEAVER
from services.accounts.reviews import KIND_REVIEW, due_review, mark_reviewed, review_due, schedule_review
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.ids import parse_id
from storage.reminder_models import Reminder

LIST = Intent("accounts.list", ("social media accounts", "list accounts", "our accounts"),
              (r"^(our |the school'?s |list )?social media accounts?$",), private=True)
ADD = Intent("accounts.add", ("add account", "add social media account", "new account"),
             (r"^(add|new|register) (an? )?(social media )?account\b",), private=True)
EDIT = Intent("accounts.edit", ("edit account", "change account"), (r"^(edit|change) (social media )?account\b",),
              private=True)
RETIRE = Intent("accounts.retire", ("retire account",), (r"^(retire|close) (social media )?account\b",), private=True)
NUMBER, SECTION = "number", "Social media accounts"
_FORM_PROMPT = "accounts.form"
STALE = "Sorry, that button is no longer valid. Type **social media accounts** to see the list."
_NUMBERED = re.compile(r"\baccount\s+#?([0-9]+)\b(?:\s*(?:-|\u2013|:|because|reason:?)\s*(?P<reason>.*))?", re.IGNORECASE)


async def show_register(context: TurnContext, deps: Deps, _: str = "") -> None:
    """The register: everything for the DPO (retired accounts too), the live accounts for staff."""
    actor = actor_of(context)
    async with deps.sessions() as session:
        found = await service.accounts(session, actor=actor, retired=True)
    await context.send_activity(card_activity(register_card(found, is_dpo=actor.is_dpo)))


async def retire(context: TurnContext, deps: Deps, said: str) -> None:
    """`retire account 2 - page closed`."""
    match = _NUMBERED.search(said)
    number = parse_id(match[1]) if match else None
    if match is None or number is None:
        raise DomainError("Which account? Say it like this: **retire account 2 - page closed**.")
    async with deps.sessions() as session:
        account = await service.retire_account(session, actor=actor_of(context), number=number,
                                               reason=match["reason"] or "", now=deps.clock())
    await context.send_activity(f"Account {account.number} is retired. It stays in the register with your reason.")


class AccountFormDialog(ComponentDialog):
    """The account form, then the saved account: a new one, or the one named (`edit account 2`)."""

    def __init__(self, intent: Intent, deps: Deps) -> None:
        super().__init__(intent.dialog_id)
        self._deps, self._editing = deps, intent is EDIT
        self.add_dialog(CardPrompt(_FORM_PROMPT, self._form_ok))
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", [self.form_step, self.save_step]))
        self.initial_dialog_id = f"{self.id}.steps"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        actor = actor_of(step.context)
        if not actor.is_dpo:
            return await stop(step, service.NOT_DPO)
        values: dict[str, str] = {}
        if self._editing:
            options = step.options if isinstance(step.options, dict) else {}
            match = _NUMBERED.search(str(options.get("utterance") or ""))
            number = parse_id(options[NUMBER]) if NUMBER in options else parse_id(match[1]) if match else None
            if number is None:
                return await stop(step, "Which account? Say it like this: **edit account 2**.")
            async with self._deps.sessions() as session:
                try:
                    account = await service.get_account(session, actor=actor, number=number)
                except DomainError as error:
                    return await stop(step, error)
            values, step.values[NUMBER] = service.form_values(account), number
        title = f"Edit account {step.values[NUMBER]}" if self._editing else "Add a social media account"
        return await step.prompt(_FORM_PROMPT, PromptOptions(
            prompt=card_activity(account_form_card(values, title=title)), validations={"title": title}))

    async def _form_ok(self, prompt: PromptValidatorContext) -> bool:
        """Check the form; when it doesn't check out, show it again with the problem and what was typed."""
        value = prompt.recognized.value if prompt.recognized.succeeded else None
        values = {k: str(v) for k, v in value.items() if k != "form"} if isinstance(value, dict) else {}
        try:
            if not isinstance(value, dict) or value.get("form") != FORM:
                raise DomainError("Please fill in the form and press **Save** (or type **cancel**).")
            service.read_draft(value, today=self._deps.clock().date())
        except DomainError as error:
            title = str((prompt.options.validations or {}).get("title", "Social media account"))
            prompt.options.retry_prompt = card_activity(account_form_card(values, title=title, error=str(error)))
            return False
        return True

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        actor, now = actor_of(step.context), self._deps.clock()
        async with self._deps.sessions() as session:
            try:
                draft = service.read_draft(step.result, today=now.date())
                if self._editing:
                    account = await service.edit_account(session, actor=actor, number=step.values[NUMBER],
                                                         draft=draft, now=now)
                else:
                    account = await service.add_account(session, actor=actor, draft=draft, now=now)
                    await schedule_review(session, account, months=self._deps.settings.account_review_months, now=now)
                    await session.commit()
            except DomainError as error:
                return await stop(step, error)
        title = "Account saved" if self._editing else f"Account {account.number} added"
        await step.context.send_activity(card_activity(register_card([account], is_dpo=True, title=title)))
        return await step.end_dialog()


async def account_status(session: AsyncSession, actor: Actor, now: datetime, *, months: int) -> list[StatusLine]:
    """For the DPO: live accounts with no DPIA date or no backup admin or an overdue review, and posts to
    unregistered accounts."""
    if not actor.is_dpo:
        return []
    live = await service.accounts(session, actor=actor)
    lines = [
        StatusLine(SECTION, f"Account {account.number}: " + ", ".join(missing), urgency=10,
                   button=submit("Edit account", {"cmd": EDIT_ACCOUNT, NUMBER: account.number}))
        for account in live if (missing := service.gaps(account))
    ]
    lines += [
        StatusLine(SECTION, f"Account {account.number}: review due since {due:%d/%m/%Y}", urgency=15,
                   button=submit("Review", {"cmd": REVIEW, NUMBER: account.number}))
        for account in live if (due := review_due(account, months)) <= now.date()
    ]
    return lines + [
        StatusLine(SECTION, f"Post #{post.id} went to an account that isn't registered", urgency=20,
                   button=submit("Open", {"cmd": SHOW_POST, "post": post.id}))
        for post in await service.unregistered_posts(session, actor=actor)
    ]


class ReviewActions:
    """The review checklist: opened from `status` or a reminder, and recorded with every check ticked."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self.months = deps.settings.account_review_months

    async def open(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The checklist card for one account (DPO only)."""
        if not actor.is_dpo:
            raise NotAllowed(service.NOT_DPO)
        number = card_id(data, STALE, key=NUMBER, error=DomainError)
        async with self._deps.sessions() as session:
            account = await service.live_account(session, actor=actor, number=number)
        await dc.context.send_activity(card_activity(review_card(account)))

    async def reviewed(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Record the review."""
        now, number = self._deps.clock(), card_id(data, STALE, key=NUMBER, error=DomainError)
        async with self._deps.sessions() as session:
            account = await mark_reviewed(session, actor=actor, number=number, ticked=data,
                                          months=self.months, now=now)
        due = review_due(account, self.months)
        await dc.context.send_activity(f"Review of account {account.number} recorded. The next is due {due:%d/%m/%Y}.")

    async def render(self, session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
        """A review that is due (None once it is done or the account is retired)."""
        account = await due_review(session, reminder, self.months)
        if account is None:
            return None
        return review_reminder(account, reminder_id=int(reminder.id or 0),
                               due=f"{review_due(account, self.months):%d/%m/%Y}")


def accounts_feature(deps: Deps) -> Feature:
    """The account register's dialogs, commands, buttons, reminders and status lines."""
    reviews = ReviewActions(deps)

    async def status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
        return [*await account_status(session, actor, now, months=reviews.months), *await access_status(session, actor, now)]

    async def left(context: TurnContext, said: str) -> None:
        await left_staff(context, deps, said)

    async def show(context: TurnContext, said: str) -> None:
        await show_register(context, deps, said)

    async def retire_it(context: TurnContext, said: str) -> None:
        await retire(context, deps, said)

    return Feature(
        dialogs=(CommandDialog(LIST.dialog_id, show), AccountFormDialog(ADD, deps), AccountFormDialog(EDIT, deps),
                 CommandDialog(RETIRE.dialog_id, retire_it), CommandDialog(LEFT.dialog_id, left)),
        intents=(LIST, ADD, EDIT, RETIRE, LEFT),
        actions={EDIT_ACCOUNT: begin_with(EDIT.dialog_id, NUMBER, STALE), REVIEW: polite(reviews.open),
                 REVIEWED: polite(reviews.reviewed), LEAVER_DONE: polite(access_done(deps))},
        reminder_kinds={KIND_REVIEW: ReminderKind(reviews.render), KIND_LEAVER: ReminderKind(render_leaver)},
        status=status,
    )
