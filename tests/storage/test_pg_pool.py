"""PostgreSQL's pooled connections: checked before use only after sitting idle (not three round trips at every
checkout), and one the server dropped is replaced rather than failing a turn."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage import db

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="the pool check is PostgreSQL's")


async def _backend(engine: db.AsyncEngine) -> int:
    """The server process behind the pooled connection a unit of work gets."""
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _drop(db_url: str, pid: int) -> None:
    """The server ends one connection (as a restart or a dropped link would), waiting up to 5 s for it to go."""
    admin = db.make_engine(db_url)
    async with admin.connect() as conn:
        assert (await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})).scalar_one()
    await admin.dispose()


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    db_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = db.make_engine(db_url)
    first = await _backend(engine)
    await _drop(db_url, first)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has sat in the pool long enough to be checked
    assert await _backend(engine) != first  # a fresh connection answered: nothing failed
    await engine.dispose()


async def test_a_connection_in_use_moments_ago_is_not_checked_and_the_pool_recovers_after_one_failure(
    db_url: str,
) -> None:
    engine = db.make_engine(db_url)
    first = await _backend(engine)
    await _drop(db_url, first)
    with pytest.raises(DBAPIError):  # not pinged (busy connections cost no extra round trips): the statement fails
        await _backend(engine)
    assert await _backend(engine) != first  # and the pool opened a new one
    await engine.dispose()
