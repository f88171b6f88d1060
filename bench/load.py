"""The load generator: N conversations, each running a script turn after turn against one bot.

A turn counts only when the bot answered 2xx *and* its reply reached the fake Teams channel
(which runs in this process, not the bot's). Replies that are the bot's error notice count as failed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.pgwire import WireCounter
from bench.procs import cpu_seconds
from bench.scripts import Script, Turn
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

ERROR_NOTICE = "something went wrong"
SCHOOLS = tuple(f"{n:08x}-0000-4000-8000-0000000000be" for n in range(0xBE000001, 0xBE000005))
_ids = itertools.count(1)


def bench_users(count: int) -> list[TeamsUser]:
    """`count` made-up staff spread over the bench schools (tenants)."""
    return [TeamsUser(f"Bench User {i}", f"be{i:06d}-0000-4000-8000-00000000be00", SCHOOLS[i % len(SCHOOLS)])
            for i in range(count)]


def bench_dpos() -> list[TeamsUser]:
    """One DPO per bench school."""
    return [TeamsUser(f"Bench DPO {i}", f"d0{i:06d}-0000-4000-8000-00000000be00", school) for i, school in enumerate(SCHOOLS)]


@dataclass
class LoadResult:
    """What one (target, concurrency) run measured inside its window."""

    concurrency: int
    seconds: float
    turns: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    dialogs_done: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_seconds: float = 0.0
    loader_cpu_seconds: float = 0.0
    db_requests: int | None = None  # requests the bot sent to PostgreSQL in the window (None: not counted)
    db_cpu_seconds: float | None = None  # the PostgreSQL cluster's CPU in the window

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_turn(self) -> float:
        return 1000 * self.server_cpu_seconds / self.turns if self.turns else float("nan")

    @property
    def db_round_trips_per_turn(self) -> float:
        return self.db_requests / self.turns if self.db_requests is not None and self.turns else float("nan")

    @property
    def db_cpu_ms_per_turn(self) -> float:
        return 1000 * self.db_cpu_seconds / self.turns if self.db_cpu_seconds is not None and self.turns else float("nan")

    def percentile(self, p: float) -> float:
        """Latency percentile in ms over counted turns."""
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def activity_for(client: TeamsClient, user: TeamsUser, step: Turn) -> dict[str, Any]:
    """The Teams message for one script turn: typed text, or a card submit."""
    return client.message(user, step) if isinstance(step, str) else client.message(user, None, step)


async def say(client: TeamsClient, user: TeamsUser, step: Turn) -> list[Received]:
    """Send one script turn and return the bot's replies (for probes and walks, not timed)."""
    return await client.send(activity_for(client, user, step))


class LoadRun:
    """One measurement: warm up, then count turns finished inside [t0, t0 + seconds]."""

    def __init__(self, client: TeamsClient, channel: FakeTeamsChannel, script: Script, *, expect_reply: bool,
                 check_done: bool = False, also: Sequence[TeamsClient] = ()) -> None:
        self.client = client
        self._clients = itertools.cycle([client, *also])  # other processes of the same bot: turns alternate
        self.channel = channel
        self.script = script
        self.expect_reply = expect_reply
        self.check_done = check_done  # the last reply must show the script's done_marker (a bot that runs the flow)

    async def turn(self, user: TeamsUser, index: int) -> tuple[str, float]:
        """Send turn `index` of the script as `user`; (why it failed or "", latency in ms)."""
        activity = activity_for(self.client, user, self.script.turns[index])
        activity["id"] = f"bench-{next(_ids)}"
        payload = json.dumps(activity)
        before = len(self.channel.received)
        started = time.perf_counter()
        try:
            status, _ = await next(self._clients).post(payload)
        except (TimeoutError, OSError, aiohttp.ClientError) as error:
            return type(error).__name__, 0.0
        latency = 1000 * (time.perf_counter() - started)
        if not 200 <= status < 300:
            return f"HTTP {status}", latency
        if not self.expect_reply:
            return "", latency
        replies = [r for r in self.channel.received[before:] if r.conversation_id == user.conversation_id]
        said = texts(replies)
        marker = self.script.done_marker if self.check_done and index == len(self.script.turns) - 1 else None
        if not replies:
            return "no reply at the channel", latency
        if ERROR_NOTICE in said:
            return "the bot's error notice", latency
        return (f"last reply without {marker!r}" if marker and marker not in said else ""), latency

    async def measure(self, users: list[TeamsUser], pids: Sequence[int], *, warmup: float, seconds: float,
                      wire: WireCounter | None = None) -> LoadResult:
        """Run len(users) conversations concurrently; only the window after `warmup` counts (CPU: all `pids`;
        PostgreSQL round trips: `wire`'s)."""
        result = LoadResult(concurrency=len(users), seconds=seconds)
        loop = asyncio.get_running_loop()
        t0 = loop.time() + warmup
        t1 = t0 + seconds

        async def worker(user: TeamsUser) -> None:
            index = 0
            while loop.time() < t1:
                failure, latency = await self.turn(user, index)
                inside = t0 <= loop.time() <= t1
                last = index == len(self.script.turns) - 1
                if inside and not failure:
                    result.turns += 1
                    result.latencies_ms.append(latency)
                    result.dialogs_done += int(last)
                elif inside:
                    result.failures[failure] += 1
                index = 0 if (last or failure) else index + 1

        async def window() -> None:
            await asyncio.sleep(max(0.0, t0 - loop.time()))
            cpu0, mine0 = sum(map(cpu_seconds, pids)), _own_cpu()
            db0, db_cpu0 = (wire.requests, wire.server_cpu_seconds()) if wire else (0, 0.0)
            await asyncio.sleep(max(0.0, t1 - loop.time()))
            result.server_cpu_seconds = sum(map(cpu_seconds, pids)) - cpu0
            result.loader_cpu_seconds = _own_cpu() - mine0
            if wire:
                result.db_requests, result.db_cpu_seconds = wire.requests - db0, wire.server_cpu_seconds() - db_cpu0

        await asyncio.gather(window(), *(worker(user) for user in users))
        self.channel.received.clear()
        return result


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system
