"""Placeholders for flows that are not built yet: they say so and end."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.deps import Feature, Intent


class ComingSoonDialog(ComponentDialog):
    """Tells the user this flow is on its way."""

    def __init__(self, dialog_id: str, what: str) -> None:
        super().__init__(dialog_id)
        self._what = what
        self.add_dialog(WaterfallDialog(f"{dialog_id}.steps", [self.say_step]))
        self.initial_dialog_id = f"{dialog_id}.steps"

    async def say_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"{self._what} is coming soon. Type **help** to see what I can do today.")
        return await step.end_dialog()


def stub_feature(dialog_id: str, what: str, intent: Intent) -> Feature:
    """A feature made of one ComingSoonDialog."""
    return Feature(dialogs=(ComingSoonDialog(dialog_id, what),), intents=(intent,))
