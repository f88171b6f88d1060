"""The CloudAdapter, its authentication settings and the turn error handler."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter

from bot.compat.auth import create_authentication
from bot.compat.connector import PooledAuthentication, PooledDriver, patch_retry_policy_cost
from config import Settings
from dialogs.kit.cards import notice_card
from dialogs.kit.replies import card_activity

log = logging.getLogger(__name__)


def create_adapter(settings: Settings, driver: PooledDriver) -> CloudAdapter:
    """A CloudAdapter whose connector clients share `driver`'s connection pool."""
    patch_retry_policy_cost()
    adapter = CloudAdapter(PooledAuthentication(create_authentication(settings), driver))
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log ids and the error type only; tell the user something went wrong."""
    activity = context.activity
    log.error(
        "turn failed: %s activity=%s conversation=%s",
        type(error).__name__,
        activity.id,
        activity.conversation.id if activity.conversation else None,
        exc_info=error,
    )
    if activity.type == "message":
        try:
            await context.send_activity(
                card_activity(notice_card("Sorry, something went wrong", "Please try again in a moment."))
            )
        except Exception as send_error:  # noqa: BLE001 - the channel may be the thing that failed
            log.warning("could not tell the user about the error: %s", type(send_error).__name__)
