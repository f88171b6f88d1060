"""The card whose button was pressed, replaced by what was done.

Teams' way (msteams-docs bots/how-to/update-and-delete-bot-messages): PUT the message again under its id
(`update_activity`); a card's Action.Submit arrives with the pressed message's id in `replyToId`. A failed update
is logged, never raised: what the button did is saved and said anyway. Cards sent earlier about the same subject
are brought up to date by bot/card_updates.py (through `Deps.refresh_cards`).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import TurnContext

from dialogs.kit.replies import SEND_FAILURES, card_activity

log = logging.getLogger(__name__)



async def replace_pressed(context: TurnContext, card: dict[str, Any]) -> None:
    """Replace the card whose button was just pressed with `card` (only for a card submit naming its message)."""
    message_id = context.activity.reply_to_id
    if not message_id or not isinstance(context.activity.value, dict):
        return
    activity = card_activity(card)
    activity.id = message_id
    try:
        await context.update_activity(activity)
    except SEND_FAILURES as error:
        log.warning("updating the pressed card %s failed: %s", message_id, type(error).__name__)
