"""Turns across app processes: one at a time per conversation, and each inbound activity run once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import bindparam, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import insert_ignore, table_of
from storage.models import HandledActivity

_KEY = table_of(HandledActivity).c.key
_SEEN = select(literal(1)).where(_KEY == bindparam("b_key"))
# PostgreSQL: the conversation's lock, held until the transaction ends (commit, rollback, or the process dying).
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:conversation, 0))"
_LOCK_ONLY = text(_LOCK)
# ... then the activity marked handled in one round trip. A key another turn committed while this one waited for the
# lock is a conflict here (uniqueness is checked against committed rows, whatever the statement's snapshot): no row.
_LOCK_AND_MARK = text(f"WITH locked AS ({_LOCK}) INSERT INTO handled_activity (key, at) SELECT :key, :at FROM locked "
                      "ON CONFLICT (key) DO NOTHING RETURNING 1")


class TurnGuard:
    """What a turn holds: its conversation's lock (PostgreSQL), and whether its activity has run already."""

    def __init__(self, conn: AsyncConnection, already_handled: bool, to_mark: str | None) -> None:
        self.conn = conn  # the turn saves its state on it, so state and "handled" commit together in `done`
        self.already_handled = already_handled
        self._to_mark = to_mark

    async def done(self, now: datetime) -> None:
        """The turn has run: commit its state with its activity marked handled (a redelivery will be skipped)."""
        if self._to_mark is not None:
            await insert_ignore(self.conn, HandledActivity, {"key": self._to_mark, "at": now}, ["key"])
        await self.conn.commit()


@asynccontextmanager
async def guard_turn(engine: AsyncEngine, conversation_key: str, activity_key: str | None,
                     now: datetime) -> AsyncIterator[TurnGuard]:
    """Wait for the conversation (another process may be running a turn of it), then look the activity up.

    PostgreSQL marks the activity handled at once, in the transaction `done` commits (a crash rolls the mark back).
    SQLite has one process (the caller's in-process lock serialises turns) and marks it in `done`: a write at the
    start would hold SQLite's one write lock for the whole turn.
    """
    async with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            seen = activity_key is not None and (await conn.execute(_SEEN, {"b_key": activity_key})).first() is not None
            guard = TurnGuard(conn, seen, activity_key)
        elif activity_key is None:
            await conn.execute(_LOCK_ONLY, {"conversation": conversation_key})
            guard = TurnGuard(conn, False, None)
        else:
            params = {"conversation": conversation_key, "key": activity_key, "at": now}
            guard = TurnGuard(conn, (await conn.execute(_LOCK_AND_MARK, params)).first() is None, None)
        yield guard
