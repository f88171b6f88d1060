"""Turns across app processes: one at a time per conversation, and each inbound activity run once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import bindparam, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import insert_ignore
from storage.models import HandledActivity

_KEY = HandledActivity.__table__.c.key  # type: ignore[attr-defined]
_SEEN = select(literal(1)).where(_KEY == bindparam("b_key"))
# Held until the transaction ends: released by commit, rollback, or PostgreSQL itself when the process dies.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class TurnGuard:
    """What a turn holds: its conversation's lock (PostgreSQL), and whether its activity has run already."""

    def __init__(self, conn: AsyncConnection, activity_key: str | None) -> None:
        self.conn = conn  # the turn saves its state on it, so state and "handled" commit together in `done`
        self._activity_key = activity_key
        self.already_handled = False

    async def done(self, now: datetime) -> None:
        """The turn has run: commit its state with its activity marked handled (a redelivery will be skipped)."""
        if self._activity_key is not None:
            await insert_ignore(self.conn, HandledActivity, {"key": self._activity_key, "at": now}, ["key"])
        await self.conn.commit()


@asynccontextmanager
async def guard_turn(engine: AsyncEngine, conversation_key: str, activity_key: str | None) -> AsyncIterator[TurnGuard]:
    """Wait for the conversation (another process may be running a turn of it), then look the activity up.

    On SQLite there is one process (the caller's in-process lock serialises turns), so no database lock is taken.
    """
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(_LOCK, {"key": conversation_key})
        guard = TurnGuard(conn, activity_key)
        if activity_key is not None:
            guard.already_handled = (await conn.execute(_SEEN, {"b_key": activity_key})).first() is not None
        yield guard
