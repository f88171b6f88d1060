"""Asking who is in a photo: names, a class or a year; near names confirmed, same-named pupils told apart by asking.

Shared by the staff check and the DPO's commands.
"""

from __future__ import annotations

import re
from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from dialogs.consent.cards import confirm_card, pick_card, purpose_card, unknown_card, who_card
from dialogs.feature import Deps, actor_of
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.replies import card_activity
from services.consent.pupil_search import Lookup, load_index
from services.consent.rules import purpose_in
from storage.consent_models import Purpose

WHO_DIALOG = "consent.who"
PURPOSE_PROMPT = "consent.purpose_prompt"
_ASK, _PICK = f"{WHO_DIALOG}.ask", f"{WHO_DIALOG}.pick"
_WHO_PROMPT, _PICK_PROMPT = f"{WHO_DIALOG}.who_prompt", f"{WHO_DIALOG}.pick_prompt"
MAX_CHOICES = 8  # more same-named pupils than this: ask for a surname or class instead of listing them
_YES, _NO = frozenset({"yes", "y", "yep", "yeah", "correct"}), frozenset({"no", "n", "nope"})
_NONE = frozenset({"none", "none of these", "neither", "no", "nope"})
_OPENING = re.compile(r"^\W*(?:(?:please )?(?:can|could|may|should) (?:i|we) (?:please )?|is it ok(?:ay)? (?:to|if i) |"
                      r"am i allowed to )?(?:check consent(?: for)?|"
                      r"check|put|post|use|share|upload|include|publish|show)\b(?: (?:a|this|that|the|my|our) "
                      r"(?:photo|picture|pic|image|video)s?)?(?: of)?\s*", re.IGNORECASE)
_CLOSING = re.compile(r"\s*(?:\b(?:on|in|for|to|onto|into)(?: the| our)?(?: school'?s?)?(?: page| account)?)?\s*[?.!]*$",
                      re.IGNORECASE)


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


def _question(lookup: Lookup) -> dict[str, Any] | None:
    """What must be asked about one part before any verdict (JSON), or None when it is settled."""
    options = [{"id": r.id, "label": r.label} for r in lookup.matches]
    if lookup.resolved:
        return None
    if lookup.group:
        return {"said": lookup.said, "kind": "unknown", "note": "There is nobody on roll in {said}."}
    if not lookup.matches:
        return {"said": lookup.said, "kind": "unknown", "note": "I couldn't find {said} on the register."}
    if len(lookup.matches) > MAX_CHOICES:
        return {"said": lookup.said, "kind": "unknown",
                "note": f"{len(lookup.matches)} pupils match {{said}}: please give the full name."}
    return {"said": lookup.said, "kind": "which" if lookup.exact else "confirm", "options": options}


def _settled(lookups: list[Lookup]) -> tuple[list[int], list[str]]:
    """Pupil ids and descriptions of the parts that need no question."""
    parts = [x for x in lookups if x.resolved]
    ids = list(dict.fromkeys(r.id for x in parts for r in x.matches))
    return ids, [f"{x.group} ({len(x.matches)} pupils)" if x.group else x.matches[0].label for x in parts]


def _who(parts: list[str], unknown: list[str]) -> str:
    text = "; ".join([*parts, *(f"{name} (not on the register)" for name in unknown)])
    return text if len(text) <= 300 else text[:297] + "..."


def named_in(utterance: str) -> str:
    """The names part of an opening like "can I put Olivia Smith and Jack Jones on Facebook?" ('' if none)."""
    found = purpose_in(utterance)
    rest = _OPENING.sub("", found[1] if found else utterance)
    return _CLOSING.sub("", rest).strip()


class PupilsDialog(ComponentDialog):
    """Who is in the photo? Options: {"said": text to start from, "utterance": the opening message, "single": true for
    exactly one pupil, "allow_unknown": true to let a name not on the register through (as not OK), "note": ...}.

    Ends with {"ids": [...], "who": "...", "unknown": [names]}. Exact names are accepted; anything only resembling a
    pupil is asked ("Did you mean ...?"); parts already settled are kept while only the others are asked again.
    """

    def __init__(self, deps: Deps) -> None:
        super().__init__(WHO_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_ASK, [self.ask_step, self.resolve_step]))
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
        question = prompt.options.validations
        typed = str(value.get("text") or "").strip()
        if question["kind"] == "confirm" and len(question["options"]) == 1 and typed.lower() in _YES | _NO:
            value = {"pupil": question["options"][0]["id"] if typed.lower() in _YES else "none"}
        elif question["kind"] != "unknown" and typed.lower() in _NONE:
            value = {"pupil": "none"}
        elif "pupil" not in value and (typed or str(value.get("who") or "").strip()):
            value = {"retype": typed or str(value.get("who")).strip()}  # the name typed again, e.g. with the class
        prompt.recognized.value = value
        allowed = {str(o["id"]) for o in question.get("options", [])} | {"none"}
        allowed |= {"unknown"} if question["kind"] == "unknown" and question["allow_unknown"] else set()
        return "retype" in value or str(value.get("pupil")) in allowed

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        step.values["single"] = bool(options.get("single"))
        step.values["allow_unknown"] = bool(options.get("allow_unknown"))
        if options.get("said"):
            return await step.next({"text": options["said"]})
        named = named_in(str(options.get("utterance") or ""))
        if named:
            async with self._deps.sessions() as session:
                lookups = (await load_index(session, tenant_id=actor_of(step.context).tenant_id)).lookup_all(named)
            if all(x.matches for x in lookups) and any(x.exact or x.group for x in lookups):
                return await step.next({"text": named})
        return await step.prompt(_WHO_PROMPT, ask(who_card(str(options.get("note") or ""))))

    async def resolve_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        said = str(step.result.get("who") or step.result.get("text") or "")
        async with self._deps.sessions() as session:
            lookups = (await load_index(session, tenant_id=actor_of(step.context).tenant_id)).lookup_all(said)
        problem = "Please type at least one name, class or year." if not lookups else ""
        if step.values["single"] and (len(lookups) > 1 or any(x.group for x in lookups)):
            problem = "Please name one pupil at a time for this."
        if problem:
            options = {"note": problem, "single": step.values["single"], "allow_unknown": step.values["allow_unknown"]}
            return await step.replace_dialog(_ASK, options)
        ids, parts = _settled(lookups)
        queue = [q for q in map(_question, lookups) if q]
        state = {"ids": ids, "parts": parts, "unknown": [], "queue": queue, "allow_unknown": step.values["allow_unknown"],
                 "single": step.values["single"]}
        return await step.replace_dialog(_PICK, state) if queue else await step.end_dialog(_result(state))

    async def choice_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        question = {**step.options["queue"][0], "allow_unknown": step.options["allow_unknown"]}
        said, choices = question["said"], [(o["id"], o["label"]) for o in question.get("options", [])]
        if question["kind"] == "which":
            card = pick_card(said, choices)
        elif question["kind"] == "confirm":
            card = confirm_card(said, choices)
        else:
            card = unknown_card(said, question["note"], allow_unknown=question["allow_unknown"])
        return await step.prompt(_PICK_PROMPT, ask(card, validations=question))

    async def chosen_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        state = dict(step.options)
        question, queue = state["queue"][0], state["queue"][1:]
        picked, value = str(step.result.get("pupil")), step.result
        if "retype" in value:
            async with self._deps.sessions() as session:
                index = await load_index(session, tenant_id=actor_of(step.context).tenant_id)
            lookups = index.lookup_all(str(value["retype"]))
            if state["single"] and (len(lookups) != 1 or lookups[0].group):
                again = {**question, "kind": "unknown", "note": "Please type one pupil's name for this."}
                return await step.replace_dialog(_PICK, {**state, "queue": [again, *queue]})
            ids, parts = _settled(lookups)
            state["ids"], state["parts"] = [*state["ids"], *ids], [*state["parts"], *parts]
            queue = [q for q in map(_question, lookups) if q] + queue
        elif picked == "unknown":
            state["unknown"] = [*state["unknown"], question["said"]]
        elif picked == "none":
            note = "No other pupil on the register matches {said}."
            queue = [{"said": question["said"], "kind": "unknown", "note": note}, *queue]
        else:
            chosen = next(o for o in question["options"] if str(o["id"]) == picked)
            state["ids"], state["parts"] = [*state["ids"], chosen["id"]], [*state["parts"], chosen["label"]]
        state["queue"] = queue
        return await step.replace_dialog(_PICK, state) if queue else await step.end_dialog(_result(state))


def _result(state: dict[str, Any]) -> dict[str, Any]:
    unknown = list(dict.fromkeys(state["unknown"]))
    return {"ids": list(dict.fromkeys(state["ids"])), "who": _who(state["parts"], unknown), "unknown": unknown}
