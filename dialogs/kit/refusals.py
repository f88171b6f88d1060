"""A rule's "no" (a `DomainError` from services) turned into a reply, one way everywhere."""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import DialogContext
from botbuilder.dialogs.prompts import PromptValidatorContext
from botbuilder.schema import Activity

from dialogs.feature import ActionHandler
from dialogs.kit.cards import plain, text
from dialogs.kit.replies import card_activity
from services.errors import DomainError, Outdated
from services.identity import Actor


def refusal(error: DomainError) -> Activity:
    """The reply to a rule's "no": its message, which services write for the person (never a traceback). An
    `Outdated` one quotes names and references people typed, so it is shown as plain text."""
    return MessageFactory.text(plain(str(error)) if isinstance(error, Outdated) else str(error))


def polite(handler: ActionHandler) -> ActionHandler:
    """A card action whose refusals (other school, not allowed, gone) are answered without ending the open dialog."""

    async def run(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        try:
            await handler(dc, actor, data)
        except DomainError as error:
            await dc.context.send_activity(refusal(error))

    return run


async def ask_again(prompt: PromptValidatorContext, error: DomainError) -> bool:
    """Show the same card again with why the answer was refused at its top (botbuilder only re-asks a silent turn)."""
    asked = prompt.options.prompt
    attachments = asked.attachments if asked is not None else None
    card = attachments[0].content if attachments and isinstance(attachments[0].content, dict) else None
    if card is None:
        await prompt.context.send_activity(refusal(error))
        if asked is not None:
            await prompt.context.send_activity(asked)
        return False
    await prompt.context.send_activity(card_activity({**card, "body": [text(str(error), attention=True), *card["body"]]}))
    return False
