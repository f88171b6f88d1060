"""The embedded SQLite engine: statements run inline and wait, without blocking, for a busy lock."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import db


async def _engine_with_table(path: Path) -> db.AsyncEngine:
    engine = db.make_engine(f"sqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


async def test_a_write_waits_for_another_connections_lock_then_lands(tmp_path: Path) -> None:
    engine = await _engine_with_table(tmp_path / "x.db")
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock

    async def insert() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    task = asyncio.create_task(insert())
    for _ in range(5):
        await asyncio.sleep(0)  # let the insert run into the lock; the loop stays free
    assert not task.done()
    holder.execute("COMMIT")
    await task
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    holder.close()
    await engine.dispose()


async def test_a_lock_held_too_long_is_an_error_not_a_hang(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = await _engine_with_table(tmp_path / "x.db")
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(db, "BUSY_WAIT_SECONDS", 0.0)
    with pytest.raises(Exception, match="locked"):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
    holder.execute("ROLLBACK")
    holder.close()
    await engine.dispose()


async def test_in_memory_database_is_one_database(tmp_path: Path) -> None:
    engine = db.make_engine("sqlite:///:memory:")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    await engine.dispose()
