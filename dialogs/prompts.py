"""Prompts shared by the dialogs."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult


class CardPrompt(Prompt):
    """Sends `options.prompt` (usually a card) and accepts either a card submit or typed text.

    The recognised value is the submitted dict, or {"text": "..."} for typed text. Use a validator
    to check it; `options.retry_prompt` is sent when the validator says no.
    """

    async def on_prompt(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions, is_retry: bool
    ) -> None:
        activity = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        if activity is not None:
            await turn_context.send_activity(activity)

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
