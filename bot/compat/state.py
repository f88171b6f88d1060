"""Conversation state saved only when its stored text changes: one encoding per turn, not botbuilder's five walks."""

from __future__ import annotations

from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.bot_state import CachedBotState
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.compat.state_storage import SqlStorage

_NOTHING_STORED = SqlStorage.encode_item({})


class _CachedState(CachedBotState):  # type: ignore[misc]
    """botbuilder's cached state; its "hash" is the text the state is stored as (compared in `save_changes`,
    which replaces botbuilder's, the only user of its `compute_hash` and `is_changed`)."""

    def __init__(self, state: dict[str, Any] | None, stored: str) -> None:  # botbuilder's would walk the state here
        self.state = state if state is not None else {}
        self.hash = stored


class EncodedOnceConversationState(ConversationState):  # type: ignore[misc]
    """ConversationState on SqlStorage. botbuilder walks the whole state five times a turn (a hash on load,
    another to see whether it changed, two to store it, one more after); this encodes it once."""

    def __init__(self, storage: SqlStorage) -> None:
        super().__init__(storage)
        self._sql = storage

    async def load(self, turn_context: TurnContext, force: bool = False, conn: AsyncConnection | None = None) -> None:
        """botbuilder's load; `conn` (ours) reads on a connection the turn already holds."""
        cached: Any = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            item, stored = (await self._sql.read_stored([key], conn)).get(key, (None, _NOTHING_STORED))
            turn_context.turn_state[self._context_service_key] = _CachedState(item, stored)

    async def save_changes(self, turn_context: TurnContext, force: bool = False, conn: AsyncConnection | None = None) -> None:
        """botbuilder's save; `conn` (ours) writes in the caller's transaction, which the caller commits."""
        cached: Any = self.get_cached_state(turn_context)
        if cached is None:
            return
        data = SqlStorage.encode_item(cached.state)
        if force or data != cached.hash:
            await self._sql.write_encoded(self.get_storage_key(turn_context), cached.state, data, conn)
            cached.hash = data
