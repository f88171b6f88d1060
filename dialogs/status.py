"""`status`: one card of what needs this person now, gathered from every feature."""

from __future__ import annotations

from collections.abc import Sequence

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from bot.cards import card, heading, text
from bot.replies import card_activity
from dialogs.deps import Deps, Feature, Intent, StatusLine, StatusProvider, actor_of

STATUS_INTENT = Intent(
    "dpo.status",
    ("status", "what's due", "whats due", "my status"),
    (r"\bwhat('s| is) (due|open|outstanding)\b", r"\bstatus\b"),
)


def status_card(lines: Sequence[StatusLine], *, is_dpo: bool) -> dict:
    """Pure: lines grouped by section, most urgent first, each with its button."""
    title = "What needs you now (your school)" if is_dpo else "Your items"
    body: list[dict] = [heading(title)]
    if not lines:
        body.append(text("Nothing needs you right now."))
    for section in dict.fromkeys(line.section for line in sorted(lines, key=lambda x: -x.urgency)):
        body.append(text(f"**{section}**"))
        for line in sorted((x for x in lines if x.section == section), key=lambda x: -x.urgency):
            item: dict = {"type": "Container", "items": [text(line.text)]}
            if line.button is not None:
                item["selectAction"] = line.button
            body.append(item)
    return card(body)


class StatusDialog(ComponentDialog):
    """Shows the status card and ends."""

    def __init__(self, deps: Deps, providers: Sequence[StatusProvider]) -> None:
        super().__init__(STATUS_INTENT.dialog_id)
        self._deps = deps
        self._providers = providers
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", [self.show_step]))
        self.initial_dialog_id = f"{self.id}.steps"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        actor = actor_of(step.context)
        lines: list[StatusLine] = []
        async with self._deps.sessions() as session:
            for provider in self._providers:
                lines += await provider(session, actor, self._deps.clock())
        await step.context.send_activity(card_activity(status_card(lines, is_dpo=actor.is_dpo)))
        return await step.end_dialog()


def status_feature(deps: Deps, features: Sequence[Feature]) -> Feature:
    """The status dialog over every feature's status provider."""
    providers = [f.status for f in features if f.status is not None]
    return Feature(dialogs=(StatusDialog(deps, providers),), intents=(STATUS_INTENT,))
