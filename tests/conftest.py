"""Fixtures: a fresh database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), a settable
clock, the fake Teams channel, and the bot served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import types
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import hypothesis
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import Connection, inspect, text
from sqlmodel import SQLModel

from bot.compat.state_storage import SqlStorage
from bot.runtime import Runtime
from bot.server import RUNTIME, create_app
from config import Settings
from services.clock import SettableClock
from storage import migrate
from storage.db import create_schema, make_engine
from tests.support.card_gallery import Gallery
from tests.support.card_render import CardCheck, CardRenderer, unavailable
from tests.support.card_schema import schema_errors
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import FakeTeamsChannel

# botbuilder-testing imports botbuilder.azure only for an isinstance check; we don't install Azure SDKs.
if "botbuilder.azure" not in sys.modules:
    _azure = types.ModuleType("botbuilder.azure")
    _azure.CosmosDbPartitionedStorage = type("CosmosDbPartitionedStorage", (), {})  # type: ignore[attr-defined]
    sys.modules["botbuilder.azure"] = _azure

# CI runs a fixed set of generated examples (a red CI must be reproducible); locally they vary.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

# Cards look the same on either database, so only the SQLite pass renders them.
RENDER_OFF = "off in the PostgreSQL pass (the SQLite pass renders the cards)" if os.environ.get("TEST_DATABASE_URL") \
    else unavailable()
_CARD_CHECKS: list[CardCheck] = []

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday, 10:00 in London
SCHOOL_A = "aaaaaaaa-0000-4000-8000-00000000000a"
SCHOOL_B = "bbbbbbbb-0000-4000-8000-00000000000b"


def pytest_configure(config: pytest.Config) -> None:
    needed = os.environ.get("CI") or os.environ.get("CARDS_DIR")  # CI, or `make cards`
    if needed and RENDER_OFF and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError(f"the card renderer is required (CI or CARDS_DIR is set): {RENDER_OFF}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line on the card renderer: how many card shapes it checked, or why it did not run."""
    if RENDER_OFF:
        loud = not os.environ.get("TEST_DATABASE_URL")
        terminalreporter.write_line(f"card renderer: {'SKIPPED, ' if loud else ''}{RENDER_OFF}", yellow=loud, bold=loud)
    for check in _CARD_CHECKS:
        terminalreporter.write_line(f"card renderer: {len(check.longest)} card shapes from the end-to-end tests rendered "
                                    f"in light and dark ({check.renders} cards, {check.seconds:.1f} s)")


@pytest.fixture(scope="session")
def card_renderer() -> Iterator[CardRenderer]:
    """The official Adaptive Cards renderer in headless Chromium, one session for the whole run."""
    if RENDER_OFF:
        pytest.skip(f"card renderer {RENDER_OFF}")
    renderer = CardRenderer()
    yield renderer
    renderer.close()


@pytest.fixture(scope="session")
def card_check(request: pytest.FixtureRequest) -> Iterator[CardCheck | None]:
    """Checks each new card shape the fake channel receives; None when the renderer is off.
    With CARDS_DIR set (`make cards`) it also saves pictures of the main cards there."""
    if RENDER_OFF:
        yield None
        return
    folder = os.environ.get("CARDS_DIR")
    check = CardCheck(request.getfixturevalue("card_renderer"), Gallery(Path(folder)) if folder else None)
    _CARD_CHECKS.append(check)
    yield check
    if check.gallery is not None:
        missing = check.gallery.save(check.renderer)
        assert not missing, f"no card for these pictures in the tests that ran: {missing}"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema revision, made once: each test starts from a copy."""
    path = tmp_path_factory.mktemp("template") / "head.db"

    async def build() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await create_schema(engine)
        await engine.dispose()

    with ThreadPoolExecutor(1) as thread:  # its own event loop: a test's loop may already be running
        thread.submit(asyncio.run, build()).result()
    return path


@pytest.fixture
async def db_url(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A database nobody else uses, at the newest schema: a copy of the SQLite template, or the PostgreSQL schema
    with its tables emptied (dropped instead when it is not at the newest revision; the app's start-up migrates it)."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "test.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    await _empty_postgres(pg, keep_schema=True)
    yield pg


@pytest.fixture
async def empty_db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all: a new SQLite file, or a dropped PostgreSQL schema."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    await _empty_postgres(pg, keep_schema=False)
    yield pg


async def _empty_postgres(url: str, *, keep_schema: bool) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        tables = await conn.run_sync(_tables_at_head) if keep_schema else []
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _tables_at_head(conn: Connection) -> list[str]:
    """The schema's tables (quoted) when it is at the newest revision with every model's table, else []."""
    if migrate.current_revision(conn) != migrate.head():
        return []
    names = set(inspect(conn).get_table_names()) - {"alembic_version"}
    return [f'"{name}"' for name in sorted(names)] if names >= set(SQLModel.metadata.tables) else []


@pytest.fixture
async def storage(db_url: str, clock: SettableClock) -> AsyncIterator[SqlStorage]:
    """botbuilder Storage on a fresh database."""
    engine = make_engine(db_url)
    await create_schema(engine)
    yield SqlStorage(engine, clock)
    await engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        _env_file=None,
        DATABASE_URL=db_url,
        SCHEDULER_ENABLED=False,
        # Dana (…a1) is DPO of school A and of school B (a trust DPO); Priya (…b1) of school B.
        DPO_AAD_IDS=f"{SCHOOL_A}:d0d0d0d0-0000-4000-8000-0000000000a1,{SCHOOL_B}:d0d0d0d0-0000-4000-8000-0000000000a1,"
                    f"{SCHOOL_B}:d0d0d0d0-0000-4000-8000-0000000000b1",
    )


@pytest.fixture
async def channel(card_check: CardCheck | None) -> AsyncIterator[FakeTeamsChannel]:
    """The fake Teams channel; every Adaptive Card the bot sent in the test must match the 1.5 schema and
    show in Teams without warnings or cut-off text (tests/support/card_render.py), and every message it wrote first must
    carry notification text."""
    fake = FakeTeamsChannel()
    await fake.start()
    yield fake
    await fake.close()
    assert not fake.silent, f"proactive messages with no notification text: {[r.activity for r in fake.silent][:3]}"
    cards = {json.dumps(c, sort_keys=True): c for r in fake.received for c in r.cards if c.get("type") == "AdaptiveCard"}
    invalid = {key[:200]: errors for key, c in cards.items() if (errors := schema_errors(c))}
    assert not invalid, f"cards that break the Adaptive Card 1.5 schema: {invalid}"
    if card_check is not None:
        badly_shown = card_check.problems(cards.values())
        assert not badly_shown, f"cards Teams would show badly: {badly_shown}"


@pytest.fixture
async def server(settings: Settings, clock: SettableClock) -> AsyncIterator[TestServer]:
    srv = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
def runtime(server: TestServer) -> Runtime:
    """The live runtime behind the test server (database sessions, settings)."""
    return server.app[RUNTIME]


@pytest.fixture
async def teams(server: TestServer, channel: FakeTeamsChannel) -> AsyncIterator[TeamsClient]:
    async with aiohttp.ClientSession() as http:
        yield TeamsClient(str(server.make_url("/")), channel, http)


@pytest.fixture
def staff_a() -> TeamsUser:
    return TeamsUser("Megan Bowen", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", SCHOOL_A)


@pytest.fixture
def dpo_a() -> TeamsUser:
    return TeamsUser("Dana Price", "d0d0d0d0-0000-4000-8000-0000000000a1", SCHOOL_A)


@pytest.fixture
def staff_b() -> TeamsUser:
    return TeamsUser("Ben Carter", "5c5c5c5c-0000-4000-8000-0000000000b2", SCHOOL_B)


@pytest.fixture
def dpo_b() -> TeamsUser:
    return TeamsUser("Priya Shah", "d0d0d0d0-0000-4000-8000-0000000000b1", SCHOOL_B)
