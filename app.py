"""Start Custodian: `python app.py` (what `make run` does)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys

from aiohttp import web
from pydantic import ValidationError

from bot.logs import configure_logging
from bot.server import create_app
from config import Settings
from storage.migrate import head, revision_of

log = logging.getLogger(__name__)


def tune_gc() -> None:
    """Collect garbage less often; call again once started, to freeze start-up objects out of full passes.

    Turns make many short-lived objects. Collecting every 700 allocations (the default), with a full pass
    over the heap every 100 collections, cost ~0.5 ms CPU per turn in the bench (bench/RESULTS.md).
    """
    gc.set_threshold(3_000, 10, 10)
    gc.freeze()


def upgrade_schema(settings: Settings) -> None:
    """Bring the database to this version's schema before serving (a load balancer sees no instance of this version
    until it is in place). Alembic runs in a short-lived child process, so the server never holds it in memory."""
    if asyncio.run(revision_of(settings.database_url)) == head():
        return
    here = os.path.dirname(os.path.abspath(__file__))  # importable from any working directory (which stays ours)
    path = os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))
    upgraded = subprocess.run([sys.executable, "-m", "storage.migrate", "upgrade"], check=False,
                              env={**os.environ, "DATABASE_URL": settings.database_url, "PYTHONPATH": path})
    if upgraded.returncode:
        sys.exit(upgraded.returncode)  # the child said why (a newer schema, or the database unreachable)


def main() -> None:
    """Read settings, build the app, serve until stopped."""
    try:
        settings = Settings()
    except ValidationError as error:
        wrong = "\n".join(f"- {'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors())
        sys.exit(f"Custodian did not start: a setting is wrong (see the README's settings tables).\n{wrong}")
    tune_gc()
    configure_logging(settings.log_level)
    for name in settings.deprecated_settings():
        log.warning("setting %s is deprecated and still read: write it into HOUSEKEEPING_MONTHS instead", name)
    upgrade_schema(settings)
    app = create_app(settings)

    async def started(_app: web.Application) -> None:
        tune_gc()  # modules, settings and clients now live as long as the process

    app.on_startup.append(started)
    web.run_app(app, host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
