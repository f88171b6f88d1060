"""Round trips to PostgreSQL, counted on the wire: a relay between the bot and the cluster.

asyncpg writes each request (a query, BEGIN, COMMIT, a pool pre-ping...) in one go and waits for the answer, so
the bot's writes to the relay are its round trips. The relay runs in the bench process: its CPU is not the bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.procs import TICKS


class WireCounter:
    """How many requests the bot has sent to PostgreSQL so far, and the CPU the cluster has used."""

    def __init__(self, port: int) -> None:
        self.requests = 0
        self._port = port

    def server_cpu_seconds(self) -> float:
        """User + system CPU of the cluster's server processes alive now (its postmaster and their children)."""
        stats = {int(p.name): _stat(p) for p in Path("/proc").iterdir() if p.name.isdigit()}
        main = [pid for pid, fields in stats.items() if fields and fields[0] == "postgres" and _listens(pid, self._port)]
        return sum((int(fields[12]) + int(fields[13])) / TICKS for pid, fields in stats.items()
                   if fields and (pid in main or int(fields[2]) in main))


@asynccontextmanager
async def counted(database_url: str) -> AsyncIterator[tuple[str, WireCounter]]:
    """Yields (the URL of a relay to `database_url`'s server, its counter) while the relay runs."""
    url = make_url(database_url)
    counter = WireCounter(url.port or 5432)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                counter.requests += count
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(url.host, url.port)
        await asyncio.gather(pipe(client_r, server_w, count=True), pipe(server_r, client_w, count=False))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield url.set(port=port).render_as_string(hide_password=False), counter
    finally:
        server.close()


def _stat(proc: Path) -> list[str]:
    """(comm, state, ppid, ... utime [12], stime [13] ...) of a process, or [] when it has gone."""
    try:
        text = (proc / "stat").read_text()
    except OSError:
        return []
    return [text[text.index("(") + 1 : text.rindex(")")], *text[text.rindex(")") + 2 :].split()]


def _listens(pid: int, port: int) -> bool:
    """True for the postmaster started with `-p port` (tests/with_postgres.sh)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"-p" in args and args[args.index(b"-p") + 1] == str(port).encode()
