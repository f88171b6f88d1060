"""Schema migrations (Alembic): start-up brings the database to the newest revision ("head").

`python -m storage.migrate revision "what changed"` (what `make migration m=...` runs) writes the next
revision from the difference between the models and head; read it, then commit it with the model change.
"""

from __future__ import annotations

import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

from storage.db import make_engine

SCRIPTS = Path(__file__).parent / "migrations"
BASELINE = "0001"  # the schema every database had before migrations (made by create_all)
_LOCK = 0x637573746F6479  # PostgreSQL advisory lock: one instance migrates, the others wait, then find nothing to do


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer Custodian than this one."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"The database is at schema revision {revision}, which this version of Custodian does not know "
            f"(it knows up to {head()}): a newer version has upgraded it. Start that version, or restore the "
            "backup taken before the upgrade."
        )


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write columns as plain SQLAlchemy types, so a revision never imports the app's own types."""
    if kind != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this code knows."""
    return str(_scripts().get_current_head())


def current_revision(conn: Connection) -> str | None:
    """The database's revision (None before the first migration)."""
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    revision = current_revision(conn)
    if revision == head():
        return
    config = _config(conn)
    if revision is None and inspect(conn).has_table("organisation"):
        command.stamp(config, BASELINE)  # made by create_all before migrations existed: it is the baseline
    elif revision is not None and revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise SchemaTooNew(revision)
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to head in one transaction; raises SchemaTooNew when it is ahead of this code."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def upgrade_database(url: str) -> str:
    """Open the database at `url`, bring it to head and close it (app start-up); returns the revision."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return head()


async def at_head(engine: AsyncEngine) -> bool:
    """True when the database answers and is at this code's head (the readiness check)."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current_revision) == head()
    except Exception:  # noqa: BLE001 - unreachable or mid-migration both mean "not ready"
        return False


def new_revision(message: str) -> None:
    """Write the next revision: the difference between the models and head, found on a scratch SQLite database."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/head.db")
        with engine.begin() as conn:
            _upgrade(conn)
            number = int(head()) + 1 if head() != "None" else 1
            command.revision(_config(conn), message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "revision" or not sys.argv[2].strip():
        sys.exit('usage: python -m storage.migrate revision "what changed"')
    new_revision(sys.argv[2])
