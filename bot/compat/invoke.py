"""The answer to an `adaptiveCard/action` invoke, built by us.

Upstream defect (botbuilder-core 4.17.1): `ActivityHandler.on_adaptive_card_invoke`'s response is serialised
twice, so Teams gets HTTP 500 for every Action.Execute. bot/handler.py answers the invoke itself with this.
"""

from __future__ import annotations

from botbuilder.core import InvokeResponse


def card_action_answer(message: str) -> InvokeResponse:
    """The answer to an `adaptiveCard/action` invoke: a message Teams shows the person who pressed the button."""
    return InvokeResponse(
        status=200, body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": message},
    )
