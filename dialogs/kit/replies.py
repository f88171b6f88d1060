"""Turning cards into Bot Framework activities."""

from __future__ import annotations

from typing import Any

import aiohttp
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.compat.sent_card import SentCard

# What sending, updating or uploading to Teams can fail with (an answer Teams refused, or no answer at all).
SEND_FAILURES = (HttpOperationError, ClientRequestError, aiohttp.ClientError, TimeoutError, OSError)


def card_activity(card: dict[str, Any], summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card; `summary` (default: the card's `fallbackText`) is the notification
    text Teams shows in the activity feed and on phones."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(SentCard(card)))
    summary = summary or card.get("fallbackText")
    if summary:
        activity.summary = summary
    return activity
