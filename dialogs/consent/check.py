"""`check consent`: who is in the photo, where it goes, the answer per pupil; if all OK, the checklist and the post record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.consent.admin import admin_feature
from dialogs.consent.cards import ASK_ADD, CHECKLIST, add_pupil_card, checklist_card, details_card, verdict_card
from dialogs.consent.post_cards import receipt_card
from dialogs.consent.posts import posts_feature
from dialogs.consent.who import PURPOSE_PROMPT, WHO_DIALOG, PupilsDialog, ask, purpose_prompt, valid_purpose
from dialogs.feature import Deps, Feature, Intent, ReminderKind, actor_of
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import refusal
from dialogs.kit.replies import card_activity
from services.accounts.register import accounts, picked_account
from services.consent.posts import record_post, view_of
from services.consent.register_requests import KIND_ADD_PUPIL, ask_dpos_to_add, missing_for
from services.consent.rules import check_pupils, purpose_in
from services.errors import DomainError
from services.identity import Actor
from storage.account_models import SocialAccount
from storage.consent_models import Purpose
from storage.reminder_models import Reminder

CHECK_DIALOG = "consent.check"
_STEPS, _CHECKLIST, _DETAILS = f"{CHECK_DIALOG}.steps", f"{CHECK_DIALOG}.checklist", f"{CHECK_DIALOG}.details"
IDS, WHO, UNKNOWN, PURPOSE, CHECK_ID, OFFERED = "ids", "who", "unknown", "purpose", "check_id", "accounts_offered"


def only_purpose(utterance: str) -> Purpose | None:
    """The purpose named in a phrasing like "can I put this on Facebook?", if exactly one is named."""
    found = purpose_in(utterance)
    return found[0] if found and purpose_in(found[1]) is None else None


class CheckDialog(ComponentDialog):
    """The staff member's pre-post check; the rules live in services.consent.rules, this only asks and shows."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(CHECK_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_STEPS, [self.who_step, self.purpose_step, self.answer_step, self.checklist_step,
                                                 self.record_step]))
        self.add_dialog(PupilsDialog(deps))
        self.add_dialog(CardPrompt(PURPOSE_PROMPT, valid_purpose))
        self.add_dialog(CardPrompt(_CHECKLIST, self._all_ticked))
        self.add_dialog(CardPrompt(_DETAILS, self._details_given))
        self.initial_dialog_id = _STEPS

    @staticmethod
    async def _all_ticked(prompt: PromptValidatorContext) -> bool:
        value: dict[str, Any] = prompt.recognized.value if prompt.recognized.succeeded else {}
        return all(str(value.get(key)).lower() == "true" for key, _ in CHECKLIST)

    @staticmethod
    async def _details_given(prompt: PromptValidatorContext) -> bool:
        value: dict[str, Any] = prompt.recognized.value if prompt.recognized.succeeded else {}
        choice = picked_account(value)
        needed = (("description", 200),) if choice and choice[0] else (("account", 100), ("description", 200))
        return choice is not None and all(0 < len(str(value.get(key) or "").strip()) <= limit for key, limit in needed)

    async def who_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        utterance = str((step.options or {}).get("utterance") or "")
        purpose = only_purpose(utterance)
        step.values[PURPOSE] = purpose.value if purpose else None
        return await step.begin_dialog(WHO_DIALOG, {"utterance": utterance, "allow_unknown": True})

    async def purpose_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values[IDS], step.values[WHO], step.values[UNKNOWN] = step.result["ids"], step.result["who"], step.result["unknown"]
        if step.values[PURPOSE]:
            return await step.next({"purpose": step.values[PURPOSE]})
        return await step.prompt(PURPOSE_PROMPT, purpose_prompt(step.values[WHO]))

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        purpose = Purpose(step.result["purpose"])  # set by the purpose prompt's validator, or from the phrasing
        async with self._deps.sessions() as session:
            result = await check_pupils(session, actor=actor_of(step.context), pupil_ids=step.values[IDS], purpose=purpose,
                                        now=self._deps.clock(), unknown=step.values[UNKNOWN])
        await step.context.send_activity(card_activity(verdict_card(result)))
        if not result.allowed:
            return await step.end_dialog()
        step.values[CHECK_ID], step.values[PURPOSE] = result.check_id, purpose.value
        retry = checklist_card("Please tick all four. If one isn't true, don't post this image (type **cancel**).")
        return await step.prompt(_CHECKLIST, ask(checklist_card(), retry))

    async def checklist_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        purpose = Purpose(step.values[PURPOSE])
        registered: list[SocialAccount] = []
        if purpose == Purpose.SOCIAL_MEDIA:
            async with self._deps.sessions() as session:
                registered = await accounts(session, actor=actor_of(step.context))
        step.values[OFFERED] = bool(registered)
        retry = details_card(purpose, "Please fill in the account or page and a short description (up to 200 characters).",
                             registered)
        return await step.prompt(_DETAILS, ask(details_card(purpose, accounts=registered), retry))

    async def record_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        value: dict[str, Any] = step.result
        number, other = picked_account(value) or (None, True)
        try:
            async with self._deps.sessions() as session:
                post = await record_post(
                    session, actor=actor_of(step.context), check_id=step.values[CHECK_ID], account=str(value.get("account")),
                    description=str(value.get("description")), link=str(value.get("link") or ""),
                    months=self._deps.settings.housekeeping_months, now=self._deps.clock(),
                    account_number=number, other=other or (step.values[OFFERED] and number is None),
                )
                view = await view_of(session, post)
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        await step.context.send_activity(card_activity(receipt_card(view), summary=f"Post #{post.id} recorded"))
        return await step.end_dialog()


class AskToAdd:
    """The verdict's "Ask the DPO to add them" button."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def __call__(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Ask every DPO of the school to add the names the check found missing; say honestly who was asked."""
        async with self._deps.sessions() as session:
            told = await ask_dpos_to_add(session, actor=actor, check_id=data.get("check"), now=self._deps.clock())
        self._deps.wake_reminders()
        if not told:
            await dc.context.send_activity("No DPO of your school has opened Custodian yet, so I couldn't ask anyone. "
                                           "Please tell your DPO yourself; the photo can't be used until they add the pupil.")
            return
        await dc.context.send_activity(f"I've asked your DPO{'s' if told > 1 else ''} to add them to the register (the "
                                       "message goes out in school hours). The photo can't be used until they have: "
                                       "check it again then.")


async def render_add_pupil(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """To a DPO: names a staff check found missing from the register."""
    missing = await missing_for(session, reminder)
    return add_pupil_card(missing.names, missing.purpose, missing.asked_by, missing.check_id) if missing else None


def consent_feature(deps: Deps, check_intent: Intent) -> Feature:
    """Photo consent: the staff check, the post register and removals, and the DPO's register commands."""
    admin, posts = admin_feature(deps), posts_feature(deps)
    return Feature(
        dialogs=(CheckDialog(deps), *admin.dialogs, *posts.dialogs),
        intents=(*admin.intents, *posts.intents, check_intent),
        actions={**admin.actions, **posts.actions, ASK_ADD: AskToAdd(deps)},
        reminder_kinds={**posts.reminder_kinds, KIND_ADD_PUPIL: ReminderKind(render=render_add_pupil, snoozable=False)},
        status=posts.status,
        staff_only=True,  # the pupil register: never for guests or people outside the school
    )
