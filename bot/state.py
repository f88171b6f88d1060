"""Whose dialog a turn continues: one conversation's state, and in a group chat or channel one member's."""

from __future__ import annotations

from botbuilder.core import TurnContext

from bot.compat.state import EncodedOnceConversationState
from dialogs.kit.activity import in_group


class CustodianConversationState(EncodedOnceConversationState):
    """Conversation state on SQL (bot/compat/state.py), keyed so a group's members never share a dialog."""

    def get_storage_key(self, turn_context: TurnContext) -> str:
        """Per conversation; in a group chat or channel per member too, so a dialog there (and the personal data it
        carries) belongs to the person who started it: another member cannot see or continue it."""
        key = str(super().get_storage_key(turn_context))
        activity = turn_context.activity
        if in_group(activity):
            sender = activity.from_property
            key += f"/users/{(sender.aad_object_id or sender.id or '').lower() if sender else ''}"
        return key
