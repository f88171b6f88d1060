"""`update BR-2026-0007`: the reporter (or a DPO) adds a note or corrects one fact; the breach is reassessed."""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from dialogs.breach.forms import pick_card, question_card
from dialogs.breach.questions import BACK_WORDS, date_echo, question_prompt, read_answer, said_in
from dialogs.feature import Deps, Intent, actor_of
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import ask_again, refusal
from dialogs.kit.replies import card_activity
from services.breach.assessment import RISK_ADVICE
from services.breach.decisions import UPDATABLE, update_facts
from services.breach.facts import FIELD_LABELS, clean_text, facts_to_answers
from services.breach.records import REFERENCE_WORDS, facts_of, load_breach, reference_in
from services.errors import DomainError

UPDATE_DIALOG_ID = "breach.update"
UPDATE_INTENT = Intent(UPDATE_DIALOG_ID, (), (rf"^(update|add to|add info(rmation)? to)( breach)?\s+{REFERENCE_WORDS}$",),
                       private=True)
NOTE = "note"
_STEPS, _PROMPT = f"{UPDATE_DIALOG_ID}.steps", f"{UPDATE_DIALOG_ID}.prompt"
_CHOICES = {NOTE: "Add a note or answer the DPO's question", **{key: FIELD_LABELS[key] for key in UPDATABLE}}


class BreachUpdateDialog(ComponentDialog):
    """Pick what to add or change, answer it, save it to the timeline."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(UPDATE_DIALOG_ID)
        self._deps = deps
        self.add_dialog(CardPrompt(_PROMPT, self._validate))
        self.add_dialog(WaterfallDialog(_STEPS, [self.pick_step, self.field_step, self.save_step]))
        self.initial_dialog_id = _STEPS

    async def pick_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options if isinstance(step.options, dict) else {}
        reference = reference_in(str(options.get("utterance", "")))
        breach_id = options.get("breach_id") if isinstance(options.get("breach_id"), int) else None
        try:
            async with self._deps.sessions() as session:
                breach = await load_breach(session, actor=actor_of(step.context), breach_id=breach_id, reference=reference)
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        if breach.closed_at is not None:
            await step.context.send_activity(f"{breach.reference} is closed. If something new has come up, tell your DPO.")
            return await step.end_dialog()
        step.values.update(breach_id=breach.id, reference=breach.reference, answers=facts_to_answers(facts_of(breach)))
        card = pick_card(f"What would you like to add to **{breach.reference}**, or change?", q="pick", options=_CHOICES,
                         go="Next", back_title="Never mind")
        return await step.prompt(_PROMPT, PromptOptions(prompt=card_activity(card), validations={"at": "pick"}))

    async def field_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result.get("nav") == "back":
            await step.context.send_activity("OK, nothing changed.")
            return await step.end_dialog()
        key = step.values["field"] = step.result["value"]
        card = (question_card("**What would you like to add?**", q=NOTE, style="text") if key == NOTE
                else question_prompt(key, step.values["answers"], back=True))
        validations = {"at": key, "answers": step.values["answers"]}
        return await step.prompt(_PROMPT, PromptOptions(prompt=card_activity(card), validations=validations))

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result.get("nav") == "back":
            return await step.replace_dialog(_STEPS, {"breach_id": step.values["breach_id"]})
        key, value = step.values["field"], step.result["value"]
        try:
            async with self._deps.sessions() as session:
                update = await update_facts(
                    session, actor=actor_of(step.context), breach_id=step.values["breach_id"],
                    changes={} if key == NOTE else {key: value}, note=value if key == NOTE else "", now=self._deps.clock(),
                )
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        self._deps.wake_reminders()
        echo = date_echo(key, {key: value})
        said = f"Saved to the timeline of **{update.breach.reference}**." + (f" {echo}." if echo else "")
        if update.risk_changed:
            said += f" The suggested assessment is now: {RISK_ADVICE[update.new_risk]}."
            if update.dpos_told:  # never "your DPO" to the DPO who made the change
                said += " I'm telling the other DPOs now." if actor_of(step.context).is_dpo else " I'm telling your DPO now."
        await step.context.send_activity(f"{said} Type **update {update.breach.reference}** to add more.")
        return await step.end_dialog()

    async def _validate(self, prompt: PromptValidatorContext) -> bool:
        if not prompt.recognized.succeeded:
            return False
        at: str = prompt.options.validations["at"]
        value: dict[str, Any] = prompt.recognized.value
        said = said_in(value)
        try:
            if "q" in value and value["q"] != at:
                raise DomainError("That button belongs to an earlier question. Please answer this one:")
            if value.get("nav") in ("back", "keep") or said.lower() in BACK_WORDS:
                if value.get("nav") == "keep":
                    raise DomainError("Nothing changed. Type a new answer, or press **Back**.")
                prompt.recognized.value = {"nav": "back"}
            elif at == "pick":
                picked = [k for k, label in _CHOICES.items() if said.lower() in (k, label.lower())]
                if not picked:
                    raise DomainError("Please choose what to add or change.")
                prompt.recognized.value = {"value": picked[0]}
            elif at == NOTE:
                prompt.recognized.value = {"value": clean_text(said)}
            else:
                answers = prompt.options.validations["answers"]
                prompt.recognized.value = {"value": read_answer(at, said, answers, now=self._deps.clock())}
        except DomainError as error:
            return await ask_again(prompt, error)
        return True
