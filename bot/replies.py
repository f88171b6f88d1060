"""Turning cards and files into Bot Framework activities."""

from __future__ import annotations

import base64
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, Attachment


def card_activity(card: dict[str, Any], summary: str | None = None) -> Activity:
    """A message carrying one Adaptive Card (summary = notification text)."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    if summary:
        activity.summary = summary
    return activity


def file_activity(name: str, content: bytes, mime: str, text: str) -> Activity:
    """A message with a small file inline (data URI), e.g. a CSV export or an .ics invite."""
    url = f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"
    activity = MessageFactory.text(text)
    activity.attachments = [Attachment(content_type=mime, content_url=url, name=name)]
    return activity
