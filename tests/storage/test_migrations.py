"""Schema migrations: head matches the models, a baseline database keeps every row through the upgrade, and a
database newer than the code is refused with a clear message (SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, insert, select, text
from sqlmodel import SQLModel

from bot.runtime import Runtime
from storage import migrate
from storage.db import create_schema, make_engine
from tests.conftest import SCHOOL_A, START
from tests.support.breach import breaches, file_report
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.process import ROOT

Rows = dict[str, list[tuple[Any, ...]]]
# Tables that later revisions create.
ADDED_SINCE_BASELINE = {"handled_activity", "held_file", "membership", "subject_access_request", "sar_event",
                        "sar_counter", "social_account", "account_access_task", "breach_drill", "school_dates",
                        "school_profile"}
COLUMNS_ADDED_SINCE_BASELINE = {  # compared as the baseline had them
    "post": {"account_id", "account_other"}, "reminder": {"activity_id"}, "removaltask": {"kept_reason"},
    "organisation": {"app_blocked_at"}, "training_booking": {"attended"},
}


def _value(column: Any, table: str) -> Any:
    """A value any column of its type accepts (every table's one row has id 1, so every foreign key finds its row)."""
    kind = column.type.python_type
    if column.name == "tenant_id":
        return SCHOOL_A
    if kind is datetime:
        return START
    if kind is date:
        return START.date()
    if kind in (dict, list):
        return {}
    return {int: 1, bool: False, float: 1.0}.get(kind, f"{table[:4]}-{column.name[:4]}")


def _fill_every_table(conn: Connection) -> Rows:
    """One row in every table the baseline made (in foreign key order); returns every row of every table."""
    tables = MetaData()
    tables.reflect(conn)
    for table in tables.sorted_tables:
        if table.name != "alembic_version":
            generated = [c.name for c in table.primary_key.columns if c.name == "id"]  # its sequence says 1
            conn.execute(insert(table).values({c.name: _value(c, table.name) for c in table.columns
                                               if c.name not in generated}))
    return {name: rows for name, rows in _rows(conn, tables).items() if name != "alembic_version"}


def _rows(conn: Connection, tables: MetaData) -> Rows:
    def columns(table: Any) -> list[Any]:
        return [c for c in table.columns if c.name not in COLUMNS_ADDED_SINCE_BASELINE.get(table.name, set())]
    return {t.name: sorted(map(tuple, conn.execute(select(*columns(t))).all()), key=repr) for t in tables.sorted_tables}


def _at_baseline(conn: Connection) -> Rows:
    command.upgrade(migrate.alembic_config(conn), migrate.BASELINE)
    return _fill_every_table(conn)


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """These tests build their databases from nothing (not from the test template at head)."""
    return empty_db_url


@pytest.fixture
async def baseline_rows(db_url: str) -> AsyncIterator[Rows]:
    """The database at the baseline revision (today's schema before any later revision), a row in every table."""
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        rows = await conn.run_sync(_at_baseline)
    await engine.dispose()
    yield rows


async def test_models_and_head_agree(db_url: str) -> None:
    """No model change can ship without its revision (`make migration m="..."` writes it)."""
    engine = make_engine(db_url)
    await create_schema(engine)

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    chain = [script.revision for script in scripts.walk_revisions()]  # newest first, one line of revisions
    assert chain == list(reversed(migrate.revisions())) and scripts.get_current_head() == migrate.head()
    async with engine.connect() as conn:
        await conn.run_sync(lambda sync: command.check(migrate.alembic_config(sync)))  # raises on any difference
        assert await conn.run_sync(migrate.current_revision) == migrate.head()
    await engine.dispose()


async def test_a_baseline_database_keeps_every_row_and_the_app_works_on_it(
    db_url: str, baseline_rows: Rows, runtime: Runtime, teams: TeamsClient, staff_a: TeamsUser,
) -> None:
    # `runtime` started the app on the baseline database: it upgraded it to head.
    assert set(baseline_rows) == set(SQLModel.metadata.tables) - ADDED_SINCE_BASELINE
    assert all(len(rows) == 1 for rows in baseline_rows.values())

    def kept(conn: Connection) -> tuple[str | None, Rows]:
        baseline = MetaData()
        baseline.reflect(conn, only=list(baseline_rows))
        return migrate.current_revision(conn), {name: rows for name, rows in _rows(conn, baseline).items()
                                                if name in baseline_rows}  # not the tables foreign keys lead to

    async with runtime.engine.connect() as conn:
        revision, rows = await conn.run_sync(kept)
    assert revision == migrate.head() != migrate.BASELINE
    assert rows == baseline_rows
    receipt = texts(await file_report(teams, staff_a))
    assert "Your reference is BR-" in receipt
    assert len(await breaches(runtime)) == 2


async def test_a_database_made_before_migrations_is_taken_as_the_baseline(db_url: str) -> None:
    engine = make_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(_at_baseline)
        await conn.execute(text("DROP TABLE alembic_version"))  # as create_all left it
    await create_schema(engine)
    async with engine.connect() as conn:
        assert await conn.run_sync(migrate.current_revision) == migrate.head()
    await engine.dispose()


async def test_a_database_newer_than_the_code_is_refused_with_a_clear_message(db_url: str) -> None:
    engine = make_engine(db_url)
    await create_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrate.SchemaTooNew, match="revision 9999, which this version of Custodian does not know"):
        await create_schema(engine)
    await engine.dispose()
    started = subprocess.run([sys.executable, str(ROOT / "app.py")], capture_output=True, text=True, timeout=60, cwd=ROOT,
                             env={"PATH": "/usr/bin:/bin", "DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)})
    assert started.returncode == 1
    assert "Custodian did not start. The database is at schema revision 9999" in started.stderr
    assert "Traceback" not in started.stderr


async def test_ready_only_while_the_database_has_this_versions_schema(teams: TeamsClient, runtime: Runtime) -> None:
    url = teams.bot_url.replace("/api/messages", "/readyz")
    async with teams.http.get(url) as response:
        assert response.status == 200
    async with runtime.engine.begin() as conn:  # a newer version has upgraded the database
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    async with teams.http.get(url) as response:
        assert response.status == 503 and (await response.json())["status"] == "not ready"
    async with teams.http.get(url.replace("/readyz", "/healthz")) as response:
        assert response.status == 200  # alive, but not to be sent turns
