"""Schema migrations (Alembic): start-up brings the database to the newest revision ("head").

Revisions are numbered 0001, 0002, ... in storage/migrations/versions/. `python -m storage.migrate revision
"what changed"` (what `make migration m=...` runs) writes the next one from the difference between the models
and head; read it, then commit it with the model change. Alembic itself is loaded only when a database needs
an upgrade (a process at head never carries it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

from storage.db import make_engine

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from alembic.config import Config

SCRIPTS = Path(__file__).parent / "migrations"
BASELINE = "0001"  # the schema every database had before migrations (made by create_all)
_LOCK = 0x637573746F6479  # PostgreSQL advisory lock: one instance migrates, the others wait, then find nothing to do
_VERSION = text("SELECT version_num FROM alembic_version")


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


@cache
def revisions() -> tuple[str, ...]:
    """Every revision this code has, oldest first (their files are named by number)."""
    return tuple(sorted(path.name[:4] for path in (SCRIPTS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")))


def head() -> str:
    """The newest revision this code knows."""
    return revisions()[-1]


def current_revision(conn: Connection) -> str | None:
    """The database's revision (None before the first migration)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(_VERSION).scalar()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, run on `connection` (storage/migrations/env.py takes it from here)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def _upgrade(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    revision = current_revision(conn)
    if revision == head():
        return
    if revision is not None and revision not in revisions():
        raise SchemaTooNew(revision)
    from alembic import command

    config = alembic_config(conn)
    if revision is None and inspect(conn).has_table("organisation"):
        command.stamp(config, BASELINE)  # made by create_all before migrations existed: it is the baseline
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


async def revision_of(url: str) -> str | None:
    """The revision of the database at `url` (None before the first migration), without loading Alembic."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current_revision)
    finally:
        await engine.dispose()


async def at_head(engine: AsyncEngine) -> bool:
    """True when the database answers and is at this code's head (the readiness check)."""
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current_revision) == head()
    except Exception:  # noqa: BLE001 - unreachable or mid-migration both mean "not ready"
        return False


async def new_revision(message: str, url: str = "") -> None:
    """Write the next revision: the difference between the models and head, found on an empty scratch database
    (`url`, e.g. a throwaway PostgreSQL for a change only PostgreSQL sees; default a temporary SQLite file)."""
    from alembic import command

    def write(conn: Connection) -> None:
        _upgrade(conn)
        command.revision(alembic_config(conn), message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}")

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(url or f"sqlite+aiosqlite:///{scratch}/head.db")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(write)
        finally:
            await engine.dispose()


def main(argv: list[str]) -> None:
    """`upgrade` (the database at $DATABASE_URL: what app start-up runs) or `revision "what changed"`."""
    if argv == ["upgrade"] and os.environ.get("DATABASE_URL"):
        try:
            print(f"database schema at revision {asyncio.run(upgrade_database(os.environ['DATABASE_URL']))}")
        except SchemaTooNew as error:
            sys.exit(f"Custodian did not start. {error}")
    elif len(argv) == 2 and argv[0] == "revision" and argv[1].strip():
        asyncio.run(new_revision(argv[1], os.environ.get("MIGRATION_DATABASE_URL", "")))
    else:
        sys.exit('usage: DATABASE_URL=... python -m storage.migrate upgrade | python -m storage.migrate revision "what changed"')


if __name__ == "__main__":
    main(sys.argv[1:])
