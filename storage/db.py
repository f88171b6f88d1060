"""Async engine and sessions: SQLite by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Generator
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy import CursorResult, Insert, Result, Table, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
T = TypeVar("T")

BUSY_WAIT_SECONDS = 30.0  # how long a statement waits for another connection's write lock
IDLE_PING_SECONDS = 10.0  # a PostgreSQL connection unused this long is checked before a turn uses it
_IDLE_SINCE = "custodian_idle_since"


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url


class InlineSQLiteConnection(aiosqlite.Connection):
    """aiosqlite connection that runs each SQLite call on the event loop thread, with no thread of its own.

    Custodian's statements take microseconds (WAL, synchronous=NORMAL), far less than
    aiosqlite's hop to a worker thread and back, which cost more CPU than the queries and
    made turns wait on the GIL. A lock held by another connection is not waited for inside
    SQLite (that would block the loop holding it): busy_timeout is 0 and the call is retried
    after an asyncio sleep, for up to BUSY_WAIT_SECONDS.
    """

    def __await__(self) -> Generator[Any, None, InlineSQLiteConnection]:
        return self._connect().__await__()

    async def _connect(self) -> InlineSQLiteConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def stop(self) -> None:
        """Close now (aiosqlite would queue this for its thread)."""
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        delay = 0.001
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


def _sqlite_creator(path: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """SQLAlchemy async_creator: open `path` as an InlineSQLiteConnection."""

    async def create() -> aiosqlite.Connection:
        connector = partial(sqlite3.connect, path, check_same_thread=False, timeout=0)
        return await InlineSQLiteConnection(connector, iter_chunk_size=64)

    return create


def is_sqlite(engine: AsyncEngine) -> bool:
    """True for the embedded SQLite default."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> AsyncEngine:
    """Create the engine; for SQLite make the folder, use WAL and run statements inline."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A turn holds two at once (its conversation's lock, storage.turns, and its work): MAX_CONCURRENT_TURNS (8)
        # turns and the reminder sweeps fit with room to spare.
        engine = create_async_engine(url, pool_size=10, max_overflow=20)
        _ping_when_idle(engine)
        return engine
    path = parsed.database or ":memory:"
    if path == ":memory:":
        engine = create_async_engine(url, async_creator=_sqlite_creator(path), poolclass=StaticPool)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # 8 kept open (each holds ~0.6 MiB of page and statement caches); up to 24 more in a burst.
        engine = create_async_engine(url, async_creator=_sqlite_creator(path), pool_size=8, max_overflow=24)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-256")
        cursor.close()

    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it has been idle a while (a restarted server or a dropped
    link shows up there). SQLAlchemy's pool_pre_ping checks at every checkout: three round trips to PostgreSQL
    (BEGIN, ping, ROLLBACK) each time, several times a turn. A connection that breaks while busy fails its
    statement instead, and SQLAlchemy then replaces every pooled connection opened before it."""

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _returned(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checked_out(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # just opened, or in use moments ago
        try:
            dbapi_conn.ping()
        except Exception as error:  # any failure: the pool opens a new connection instead (up to three tries)
            raise DisconnectionError from error


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema revision (storage.migrate); raises SchemaTooNew when it is ahead."""
    from storage import migrate  # Alembic loads the models and revisions only when a database is opened

    await migrate.upgrade(engine)


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    """One session per unit of work; objects stay usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "unreachable" for /healthz
        return False
    return True


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    # Session.execute() is typed as returning Result for every statement; for DML it is a CursorResult.
    return int(cast(CursorResult[Any], result).rowcount or 0)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model."""
    # SQLModel does not declare the __table__ that SQLAlchemy's declarative mapping sets on a table model.
    return model.__table__  # type: ignore[attr-defined]


async def insert_ignore(
    executor: AsyncSession | AsyncConnection, model: type[SQLModel], values: dict[str, Any], keys: list[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL alike (in a session or on a connection)."""
    bind = executor if isinstance(executor, AsyncConnection) else executor.bind
    dialect = bind.dialect.name if bind is not None else "sqlite"
    statement = _insert_ignore(dialect, table_of(model), tuple(values), tuple(keys))
    await executor.execute(statement, {f"b_{name}": value for name, value in values.items()})


@cache
def _insert_ignore(dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> Insert:
    """Built once per shape: a Core statement with parameters (the ORM's insert, built per call, cost more)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in columns}
    return insert(table).values(values).on_conflict_do_nothing(index_elements=list(keys))
