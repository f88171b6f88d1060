"""Where a Custodian turn spends its CPU: the real app.py under cProfile, driven by the same load.

`python -m bench.run --only profile` (part of the default run). The bot runs as
`python -m bench.profile --stats FILE --port N`, i.e. app.main() with cProfile switched on by
SIGUSR1 (after the warm-up) and off by SIGUSR2, which writes the stats: start-up is not profiled.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import re
import signal
import time
from collections import defaultdict
from pathlib import Path

import aiohttp

from bench.load import LoadRun, bench_users
from bench.scripts import Script
from tests.teams.process import ROOT


def main() -> None:
    """Run app.py's main() on 127.0.0.1:--port; SIGUSR1 starts cProfile, SIGUSR2 stops it and writes --stats."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--stats", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.update({"HOST": "127.0.0.1", "PORT": str(args.port)})
    from app import main as app_main

    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting in epoll is not cost

    def stop(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(args.stats)

    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR2, stop)
    app_main()


def package_of(filename: str) -> str:
    """'sqlalchemy', 'custodian:storage', 'stdlib:asyncio', 'C builtins' ... for a profiled file."""
    site = re.search(r"site-packages/([^/]+)", filename)
    if site:
        return site.group(1).removesuffix(".py")
    ours = re.match(re.escape(str(ROOT)) + r"/([^/]+)", filename)
    if ours:
        return "custodian:" + ours.group(1).removesuffix(".py")
    std = re.search(r"lib/python3\.\d+/([^/]+)", filename)
    return "stdlib:" + std.group(1).removesuffix(".py") if std else "C builtins"


def top(stats_path: Path, *, limit: int = 25) -> str:
    """Own CPU time by package, then the functions with the most own time."""
    stats = pstats.Stats(str(stats_path), stream=io.StringIO())
    shares: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        shares[package_of(filename)] += own
    total = sum(shares.values()) or 1.0
    lines = ["Own CPU time by package:"] + [f"  {100 * own / total:5.1f}%  {name}"
                                           for name, own in sorted(shares.items(), key=lambda x: -x[1])[:15]]
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    body = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(body) if line.lstrip().startswith("ncalls")), 0)
    return "\n".join([*lines, "", f"Top {limit} functions by own CPU time:", *body[start:]]).rstrip()


async def profile_custodian(script: Script, workdir: Path, *, concurrency: int, warmup: float, seconds: float,
                            database_url: str = "") -> str:
    """Drive the profiled bot (on `database_url`, SQLite by default) with `script` and return the top functions."""
    from bench.turns import PROFILED, greet_dpos, serve
    from tests.teams.client import TeamsClient
    from tests.teams.fake_channel import FakeTeamsChannel

    channel = FakeTeamsChannel()
    await channel.start()
    stats = workdir / "custodian.prof"
    try:
        database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'profile.db'}"
        async with serve(PROFILED, workdir, database_url, stats=stats) as (url, pid):
            async with aiohttp.ClientSession() as http:
                client = TeamsClient(url, channel, http)
                await greet_dpos(client)
                run = LoadRun(client, channel, script, expect_reply=True, check_done=True)
                await run.measure(bench_users(concurrency), [pid], warmup=0, seconds=warmup)
                os.kill(pid, signal.SIGUSR1)
                result = await run.measure(bench_users(concurrency), [pid], warmup=0, seconds=seconds)
                os.kill(pid, signal.SIGUSR2)
                while not stats.exists():  # written by the bot on SIGUSR2 (a guard, bounded by the stop below)
                    await asyncio.sleep(0.05)
    finally:
        await channel.close()
    head = (f"{result.turns} turns at {concurrency} conversations in {seconds:.0f} s under cProfile "
            f"({result.turns_per_second:.0f} turns/s; profiling slows everything, compare shares not totals).")
    return head + "\n\n" + top(stats)


if __name__ == "__main__":
    main()
