"""`report a breach`: one question at a time, `back` to the previous one, a summary to confirm or edit.

Started by the router ({"utterance": ...}: a phrasing becomes the first answer) or by another feature
with {"prefill": {...}} (e.g. photo consent: a photo published without consent). Ends with
{"breach_id": N, "reference": "BR-..."} when a report was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from dialogs.breach.cards import receipt_card
from dialogs.breach.forms import pick_card, summary_card
from dialogs.breach.questions import (
    BACK_WORDS,
    ORDER,
    clean_prefill,
    date_echo,
    preselected,
    question_prompt,
    read_answer,
    said_in,
    summary_pairs,
)
from dialogs.feature import Deps, Intent, actor_of
from dialogs.intents import recognise
from dialogs.kit.cards import Card, toggled
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import ask_again, refusal
from dialogs.kit.replies import card_activity
from services.breach.facts import FIELD_LABELS, MAX_TEXT, describes_event, facts_from_answers, guess_kind
from services.breach.records import submit_report
from services.errors import DomainError

REPORT_DIALOG_ID = "breach.report"  # the id of the intent given to the dialog (dialogs/features.py)
SUMMARY, EDIT = "summary", "edit"
_LOOP, _PROMPT, _STATE = "breach.report.loop", "breach.report.prompt", "state"
_CONFIRM_WORDS = frozenset({"send", "confirm", "yes", "submit", "send to the dpo"})
_EDIT_WORDS = frozenset({"edit", "change", "change an answer"})


def first_state(options: dict[str, Any], *, prefilled: dict[str, Any], intent: Intent) -> dict[str, Any]:
    """The dialog's starting state (JSON only): answers so far, prefilled keys to skip, where we are."""
    answers, guess = dict(prefilled), None
    utterance = str(options.get("utterance") or "").strip()
    match = recognise(utterance, [intent]) if utterance else None
    if utterance and not (match and match.exact) and len(utterance) <= MAX_TEXT and "what_happened" not in answers \
            and describes_event(utterance):
        answers["what_happened"], guess = utterance, guess_kind(utterance)
    start = next((key for key in ORDER if key not in answers), SUMMARY)
    return {"answers": answers, "skip": sorted(prefilled), "at": start, "guess": guess, "editing": False}


def step_after(state: dict[str, Any], *, forward: bool) -> str | None:
    """The next (or previous) question not prefilled; SUMMARY after the last; None before the first."""
    if state["editing"] or state["at"] == EDIT:
        return SUMMARY
    keys = [key for key in ORDER if key not in state["skip"]]
    at = state["at"]
    position = len(keys) if at == SUMMARY else keys.index(at)
    target = position + 1 if forward else position - 1
    if target < 0:
        return None
    return keys[target] if target < len(keys) else SUMMARY


def interpret(at: str, value: dict[str, Any], answers: dict[str, Any], now: datetime,
              preselected: str | None = None) -> dict[str, Any]:
    """What a reply means at this point: {"nav": back|keep|confirm|edit} or {"value": answer}.

    Next pressed on a card whose choice was pre-selected (the guessed kind, an earlier answer) counts as that
    choice even from a client that sends only what was changed."""
    if "q" in value and value["q"] != at:
        raise DomainError("That button belongs to an earlier question. Please answer this one:")
    if "q" in value and "answer" not in value and toggled(value) is None and not value.get("nav") and preselected:
        value = {**value, "answer": preselected}
    said = said_in(value)
    nav = value.get("nav") or ("back" if said.lower() in BACK_WORDS else None)
    if at == SUMMARY:
        nav = nav or ("confirm" if said.lower() in _CONFIRM_WORDS else "edit" if said.lower() in _EDIT_WORDS else None)
        if nav not in ("confirm", "edit", "back"):
            raise DomainError("Press **Send to the DPO** to send it, or **Change an answer**.")
        return {"nav": nav}
    if nav in ("back", "keep") and not (nav == "keep" and at not in answers):
        return {"nav": nav}
    if at == EDIT:
        picked = [key for key, label in FIELD_LABELS.items() if said.lower() in (key, label.lower()) and key in ORDER]
        if not picked:
            raise DomainError("Please choose which answer to change.")
        return {"value": picked[0]}
    return {"value": read_answer(at, said, answers, now=now)}


class BreachReportDialog(ComponentDialog):
    """Asks the reporter one question at a time and files the breach."""

    def __init__(self, deps: Deps, intent: Intent) -> None:
        super().__init__(intent.dialog_id)
        self._deps, self._intent = deps, intent
        self.add_dialog(CardPrompt(_PROMPT, self._validate))
        self.add_dialog(WaterfallDialog(_LOOP, [self.ask_step, self.answer_step]))
        self.initial_dialog_id = _LOOP

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options if isinstance(step.options, dict) else {}
        state = options if "answers" in options else await self._start(step, options)
        step.values[_STATE] = state
        prompt = PromptOptions(prompt=card_activity(self._card(state)),
                               validations={"at": state["at"], "answers": state["answers"],
                                            "preselected": preselected(state["at"], state["answers"], state.get("guess"))})
        return await step.prompt(_PROMPT, prompt)

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        state: dict[str, Any] = step.values[_STATE]
        move: dict[str, Any] = step.result
        nav, at = move.get("nav"), state["at"]
        if at == SUMMARY and nav == "confirm":
            return await self._send(step, state)
        state = {**state, "echo": None}
        if nav == "back":
            target = step_after(state, forward=False)
            if target is None:
                await step.context.send_activity("That's the first question. Type **cancel** to stop.")
            state = {**state, "at": target or at, "editing": False}
        elif at == SUMMARY:
            state = {**state, "at": EDIT}
        elif at == EDIT:
            state = {**state, "at": move["value"], "editing": True}
        else:
            answers = state["answers"] if nav == "keep" else {**state["answers"], at: move["value"]}
            state = {**state, "answers": answers, "at": step_after(state, forward=True)}
            state["editing"] = False
            echo = date_echo(at, answers) if nav != "keep" else None
            state["echo"] = f"{echo} \u2014 not right? Type **back** to change it." if echo else None
            if at == "what_happened":  # the kind question then starts on what this sounds like
                state["guess"] = guess_kind(answers[at])
        return await step.replace_dialog(_LOOP, state)

    async def _start(self, step: WaterfallStepContext, options: dict[str, Any]) -> dict[str, Any]:
        prefill = options.get("prefill")
        prefill = prefill if isinstance(prefill, dict) else {}
        state = first_state(options, prefilled=clean_prefill(prefill, now=self._deps.clock()), intent=self._intent)
        intro = "I'll help you report this. I'll ask one thing at a time; type **back** to go back or **cancel** to stop."
        if "what_happened" in state["answers"]:
            intro += " I've noted what happened from your message (you can change it before sending)."
        await step.context.send_activity(intro)
        return state

    def _card(self, state: dict[str, Any]) -> Card:
        at, answers = state["at"], state["answers"]
        if at == SUMMARY:
            return summary_card(summary_pairs(answers), back=step_after(state, forward=False) is not None)
        if at == EDIT:
            return pick_card("Which answer do you want to change?", q=EDIT, options={k: FIELD_LABELS[k] for k in ORDER},
                             go="Change this", back_title="Back to the summary")
        back = state["editing"] or step_after(state, forward=False) is not None
        return question_prompt(at, answers, back=back, guess=state.get("guess"), echo=state.get("echo") or "")

    async def _validate(self, prompt: PromptValidatorContext) -> bool:
        if not prompt.recognized.succeeded:
            return False
        rules = prompt.options.validations
        try:
            prompt.recognized.value = interpret(rules["at"], prompt.recognized.value, rules["answers"], self._deps.clock(),
                                                rules.get("preselected"))
        except DomainError as error:
            return await ask_again(prompt, error)
        return True

    async def _send(self, step: WaterfallStepContext, state: dict[str, Any]) -> DialogTurnResult:
        missing = [key for key in ORDER if key not in state["answers"]]
        if missing:
            return await step.replace_dialog(_LOOP, {**state, "at": missing[0], "editing": True})
        try:
            async with self._deps.sessions() as session:
                breach, told = await submit_report(session, reporter=actor_of(step.context),
                                                   facts=facts_from_answers(state["answers"]), now=self._deps.clock())
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.replace_dialog(_LOOP, state)
        self._deps.wake_reminders()
        receipt = receipt_card(breach, dpos_told=told, by_dpo=actor_of(step.context).is_dpo)
        await step.context.send_activity(card_activity(receipt, summary=breach.reference))
        return await step.end_dialog({"breach_id": breach.id, "reference": breach.reference})
