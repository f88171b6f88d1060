"""A throwaway PostgreSQL cluster for the bench, started by the tests' own `tests/with_postgres.sh`.

The script runs one command with TEST_DATABASE_URL set and removes the cluster when it exits;
our command prints the URL and waits for stdin to close, so the cluster lives as long as we need it.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.teams.process import ROOT

SCRIPT = ROOT / "tests" / "with_postgres.sh"
_HOLD = 'echo "URL=$TEST_DATABASE_URL"; exec cat >/dev/null'


@asynccontextmanager
async def postgres() -> AsyncIterator[tuple[str | None, str]]:
    """Yields (database URL, "") while the cluster runs, or (None, why) when there is none."""
    proc = subprocess.Popen(["bash", str(SCRIPT), "sh", "-c", _HOLD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdin is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    try:
        if line.startswith("URL="):
            yield line.strip().removeprefix("URL="), ""
        else:
            _, err = await asyncio.to_thread(proc.communicate, None, 120)
            yield None, " ".join(err.split())[-300:] or "tests/with_postgres.sh started no cluster"
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            await asyncio.to_thread(proc.wait, 60)
