"""Small waterfall and button helpers every feature uses: stop with a reason, start a dialog from a button, yes/no."""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import DialogContext, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptValidatorContext

from dialogs.feature import ActionHandler
from dialogs.intents import normalise
from dialogs.kit.card_data import card_id
from dialogs.kit.refusals import polite, refusal
from services.errors import DomainError
from services.identity import Actor


async def stop(step: WaterfallStepContext, why: str | DomainError) -> DialogTurnResult:
    """Say why (a rule's "no" as `refusal` shows it), and end the dialog."""
    await step.context.send_activity(refusal(why) if isinstance(why, DomainError) else why)
    return await step.end_dialog()


def begin_with(dialog_id: str, key: str, stale: str) -> ActionHandler:
    """A card action that (re)starts a dialog with one id from the button (`stale`: what a damaged button gets)."""

    async def run(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(dialog_id, {key: card_id(data, stale, key=key, error=DomainError)})

    return polite(run)


def yes_no(value: object) -> bool | None:
    """True/False from the confirm buttons or typed yes/no; None when unclear."""
    if not isinstance(value, dict):
        return None
    said = normalise(str(value.get("confirm") or value.get("text") or ""))
    if said in ("yes", "y", "yes please", "ok", "book", "confirm"):
        return True
    return False if said in ("no", "n", "not now") else None


async def yes_no_ok(prompt: PromptValidatorContext) -> bool:
    """Prompt validator: a clear yes or no."""
    return prompt.recognized.succeeded and yes_no(prompt.recognized.value) is not None
