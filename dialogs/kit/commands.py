"""One-shot commands: a dialog of one step that runs a handler on what the user typed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.kit.refusals import refusal
from services.errors import DomainError

CommandHandler = Callable[[TurnContext, str], Awaitable[None]]


class CommandDialog(ComponentDialog):
    """Runs `handler(context, utterance)` once and ends."""

    def __init__(self, dialog_id: str, handler: CommandHandler) -> None:
        super().__init__(dialog_id)
        self._handler = handler
        self.add_dialog(WaterfallDialog(f"{dialog_id}.steps", [self.run_step]))
        self.initial_dialog_id = f"{dialog_id}.steps"

    async def run_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options if isinstance(step.options, dict) else {}
        try:
            await self._handler(step.context, str(options.get("utterance", "")))
        except DomainError as error:
            await step.context.send_activity(refusal(error))
        return await step.end_dialog()
