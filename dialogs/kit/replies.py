"""Turning cards into Bot Framework activities."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


class SentCard(dict[str, Any]):
    """A card's JSON once handed to botbuilder: never changed again, so never copied.

    botbuilder deep-copies every outgoing activity, card and all (~0.2 ms a message).
    Dialog state stores it as the plain dict it is.
    """

    STORE_AS_DICT = True

    def __copy__(self) -> SentCard:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> SentCard:
        return self


def card_activity(card: dict[str, Any], summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card; `summary` (default: the card's `fallbackText`) is the notification
    text Teams shows in the activity feed and on phones."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(SentCard(card)))
    summary = summary or card.get("fallbackText")
    if summary:
        activity.summary = summary
    return activity
