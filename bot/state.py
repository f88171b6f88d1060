"""Conversation state whose change check uses storage.state_codec instead of botbuilder's jsonpickle hash."""

from __future__ import annotations

from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.bot_state import CachedBotState

from storage import state_codec


class _CachedState(CachedBotState):  # type: ignore[misc]
    """botbuilder's cached state; its "hash" (compared to see whether to save) is its JSON."""

    def compute_hash(self, obj: object) -> str:
        return state_codec.fingerprint(obj)


class CustodianConversationState(ConversationState):  # type: ignore[misc]
    """ConversationState with botbuilder's `load`, but the cheap change check (jsonpickle was ~30% of a turn)."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached: Any = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            items = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = _CachedState(items.get(key))
