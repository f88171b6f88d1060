"""Asking who is in a photo: names (typos tolerated), a class or a year; same-named pupils told apart by asking.

Ends with {"ids": [...], "who": "short description"}. Shared by the staff check and the DPO's commands.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from bot.consent_cards import pick_card, purpose_card, who_card
from bot.replies import card_activity
from dialogs.deps import Deps, actor_of
from dialogs.prompts import CardPrompt
from services.consent import purpose_in
from services.pupil_search import Lookup, load_index
from storage.consent_models import Purpose

WHO_DIALOG = "consent.who"
PURPOSE_PROMPT = "consent.purpose_prompt"
_ASK, _PICK = f"{WHO_DIALOG}.ask", f"{WHO_DIALOG}.pick"
_WHO_PROMPT, _PICK_PROMPT = f"{WHO_DIALOG}.who_prompt", f"{WHO_DIALOG}.pick_prompt"
MAX_CHOICES = 8  # more same-named pupils than this: ask for a surname or class instead of listing them


def purpose_of(value: Any) -> Purpose | None:
    """A purpose from a purpose-card button, typed words ("facebook", "website"), or a step's {"purpose": ...}."""
    if isinstance(value, dict) and value.get("purpose") in {p.value for p in Purpose}:
        return Purpose(value["purpose"])
    typed = value.get("text") if isinstance(value, dict) else None
    found = purpose_in(typed) if isinstance(typed, str) else None
    return found[0] if found else None


async def valid_purpose(prompt: PromptValidatorContext) -> bool:
    """PURPOSE_PROMPT's validator: the answer becomes {"purpose": "<value>"}."""
    purpose = purpose_of(prompt.recognized.value) if prompt.recognized.succeeded else None
    if purpose is not None:
        prompt.recognized.value = {"purpose": purpose.value}
    return purpose is not None


def ask(card: dict[str, Any], retry: dict[str, Any] | None = None, validations: Any = None) -> PromptOptions:
    """Prompt options sending `card` (and `retry`, or the same card again, when the answer doesn't do)."""
    return PromptOptions(prompt=card_activity(card), retry_prompt=card_activity(retry or card), validations=validations)


def purpose_prompt(who: str) -> PromptOptions:
    """Options for PURPOSE_PROMPT."""
    return ask(purpose_card(who))


def _problem(lookup: Lookup) -> str | None:
    if lookup.group and not lookup.matches:
        return f"There is nobody on roll in \u201c{lookup.said}\u201d."
    if not lookup.matches:
        return f"I couldn't find \u201c{lookup.said}\u201d. Check the spelling, or add their class (e.g. *Oliver Brown 5C*)."
    if len(lookup.matches) > MAX_CHOICES and not lookup.group:
        return (f"{len(lookup.matches)} pupils match \u201c{lookup.said}\u201d: "
                "please give the full name, and the class if you know it.")
    return None


def _who(lookups: list[Lookup]) -> str:
    parts = [f"{x.group} ({len(x.matches)} pupils)" if x.group else x.matches[0].label for x in lookups if x.resolved]
    text = "; ".join(parts)
    return text if len(text) <= 300 else text[:297] + "..."


class PupilsDialog(ComponentDialog):
    """Who is in the photo? Options: {"said": text to start from, "single": true for exactly one pupil, "note": ...}."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(WHO_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_ASK, [self.ask_step, self.resolve_step, self.picked_step]))
        self.add_dialog(WaterfallDialog(_PICK, [self.choice_step, self.chosen_step]))
        self.add_dialog(CardPrompt(_WHO_PROMPT, self._valid_who))
        self.add_dialog(CardPrompt(_PICK_PROMPT, self._valid_pick))
        self.initial_dialog_id = _ASK

    @staticmethod
    async def _valid_who(prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value if prompt.recognized.succeeded else {}
        return bool(str(value.get("who") or value.get("text") or "").strip())

    @staticmethod
    async def _valid_pick(prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value if prompt.recognized.succeeded else {}
        allowed = {str(o["id"]) for o in prompt.options.validations["options"]} | {"none"}
        return str(value.get("pupil")) in allowed

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        step.values["single"] = bool(options.get("single"))
        if options.get("said"):
            return await step.next({"text": options["said"]})
        return await step.prompt(_WHO_PROMPT, ask(who_card(str(options.get("note") or ""))))

    async def resolve_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        said = str(step.result.get("who") or step.result.get("text") or "")
        async with self._deps.sessions() as session:
            lookups = (await load_index(session, tenant_id=actor_of(step.context).tenant_id)).lookup_all(said)
        problems = [p for p in map(_problem, lookups) if p]
        if not lookups:
            problems.append("Please type at least one name, class or year.")
        if step.values["single"] and (len(lookups) > 1 or any(x.group for x in lookups)):
            problems.append("Please name one pupil at a time for this.")
        if problems:
            return await step.replace_dialog(_ASK, {"note": " ".join(problems), "single": step.values["single"]})
        ids = list(dict.fromkeys(r.id for x in lookups if x.resolved for r in x.matches))
        clashes = [{"said": x.said, "options": [{"id": r.id, "label": r.label} for r in x.matches]}
                   for x in lookups if not x.resolved]
        if clashes:
            return await step.begin_dialog(_PICK, {"ids": ids, "clashes": clashes, "who": _who(lookups)})
        return await step.end_dialog({"ids": ids, "who": _who(lookups)})

    async def picked_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result.get("restart"):
            note = "OK, tell me again who is in the photo."
            return await step.replace_dialog(_ASK, {"note": note, "single": step.values["single"]})
        return await step.end_dialog(step.result)

    async def choice_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        clash = step.options["clashes"][0]
        card = pick_card(clash["said"], [(o["id"], o["label"]) for o in clash["options"]])
        return await step.prompt(_PICK_PROMPT, ask(card, validations={"options": clash["options"]}))

    async def chosen_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options
        picked = str(step.result.get("pupil"))
        if picked == "none":
            return await step.end_dialog({"restart": True})
        chosen = next(o for o in options["clashes"][0]["options"] if str(o["id"]) == picked)
        ids = [*options["ids"], chosen["id"]]
        who = "; ".join(x for x in (options["who"], chosen["label"]) if x)
        if len(options["clashes"]) > 1:
            return await step.replace_dialog(_PICK, {"ids": ids, "clashes": options["clashes"][1:], "who": who})
        return await step.end_dialog({"ids": list(dict.fromkeys(ids)), "who": who})
