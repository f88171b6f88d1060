"""Round trips to PostgreSQL, counted on the wire: a relay between the bot and the cluster.

asyncpg writes each request (a query, BEGIN, COMMIT, a pool pre-ping...) in one go and waits for the answer, so
the bot's writes to the relay are its round trips. The relay runs in the bench process: its CPU is not the bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url


class WireCounter:
    """How many requests the bot has sent to PostgreSQL so far."""

    def __init__(self) -> None:
        self.requests = 0


@asynccontextmanager
async def counted(database_url: str) -> AsyncIterator[tuple[str, WireCounter]]:
    """Yields (the URL of a relay to `database_url`'s server, its counter) while the relay runs."""
    url = make_url(database_url)
    counter = WireCounter()

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
