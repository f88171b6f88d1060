"""Prompts shared by the dialogs."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from dialogs.kit.card_answers import answered_card
from dialogs.kit.card_updates import replace_pressed

CARD_ID = "cardId"  # the id Teams gave the question's card (in the prompt's own state)
OUTDATED = ("That card is from an earlier step, so nothing was changed. Answer the latest card above, "
            "or type **cancel** to stop.")


class CardPrompt(Prompt):
    """Sends `options.prompt` (usually a card) and accepts either a card submit or typed text.

    The recognised value is the submitted dict, or {"text": "..."} for typed text. Use a validator
    to check it; `options.retry_prompt` is sent when the validator says no. A card answered with its
    buttons becomes what was answered (no buttons left); a button pressed on an earlier card of the
    dialog changes nothing and says so.
    """

    async def on_prompt(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions, is_retry: bool
    ) -> None:
        activity = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        if activity is not None:
            sent = await turn_context.send_activity(activity)
            if activity.attachments and sent is not None and sent.id:
                state[CARD_ID] = sent.id

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult:
        result = PromptRecognizerResult()
        activity = turn_context.activity
        if isinstance(activity.value, dict) and "cmd" not in activity.value:
            result.succeeded, result.value = True, dict(activity.value)
        elif activity.text and activity.text.strip():
            result.succeeded, result.value = True, {"text": activity.text.strip()}
        return result

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        instance = dialog_context.active_dialog
        state: dict[str, Any] = instance.state if instance is not None else {}
        card_id = (state.get(self.persisted_state) or {}).get(CARD_ID)
        activity = dialog_context.context.activity
        value = activity.value if isinstance(activity.value, dict) and "cmd" not in activity.value else None
        pressed = activity.reply_to_id if value is not None else None
        if pressed and card_id and pressed != card_id:
            await dialog_context.context.send_activity(OUTDATED)
            return Dialog.end_of_turn
        result = await super().continue_dialog(dialog_context)
        options = state.get(self.persisted_options)
        if pressed and value is not None and dialog_context.active_dialog is not instance and isinstance(options, PromptOptions):
            question = _card_of(options.prompt)
            if question is not None:  # answered with this card's buttons: it shows the answer instead of them
                await replace_pressed(dialog_context.context, answered_card(question, value))
        return result


def _card_of(activity: object) -> dict[str, Any] | None:
    """The Adaptive Card a prompt activity carries, if any."""
    for attachment in getattr(activity, "attachments", None) or []:
        content = getattr(attachment, "content", None)
        if getattr(attachment, "content_type", "") == "application/vnd.microsoft.card.adaptive" and isinstance(content, dict):
            return content
    return None
