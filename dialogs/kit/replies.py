"""Turning cards into Bot Framework activities."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.compat.sent_card import SentCard


def card_activity(card: dict[str, Any], summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card; `summary` (default: the card's `fallbackText`) is the notification
    text Teams shows in the activity feed and on phones."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(SentCard(card)))
    summary = summary or card.get("fallbackText")
    if summary:
        activity.summary = summary
    return activity
