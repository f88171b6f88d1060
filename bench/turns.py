"""Section 1 (and 4): turn throughput, latency and CPU per turn, side by side, plus the bot's memory.

Targets, each its own process: a bare aiohttp handler (ceiling), the stock botbuilder echo bot
(floor), the Microsoft 365 Agents SDK echo agent, and Custodian itself (`app.py`) on SQLite and
PostgreSQL, and two Custodian processes on one PostgreSQL with turns alternating between them. The fake Teams
channel and the load generator run in this process.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench import agents_venv
from bench.load import LoadResult, LoadRun, bench_dpos, bench_users, say
from bench.pg import postgres
from bench.pgwire import WireCounter, counted
from bench.procs import Server, bot_pid, rss_mb
from bench.scripts import HELP, SCRIPTS, Script
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel
from tests.teams.process import ROOT, BotProcess

BARE, STOCK, AGENTS, SQLITE, POSTGRES = "bare", "botbuilder", "agents", "custodian-sqlite", "custodian-postgres"
POSTGRES_X2 = "custodian-postgres-x2"
CUSTODIAN = (SQLITE, POSTGRES, POSTGRES_X2)
PROFILED = "custodian-profiled"
LABELS = {
    BARE: "bare aiohttp handler (ceiling, no reply)",
    STOCK: "stock botbuilder 4.17.1 echo (floor)",
    AGENTS: "Agents SDK 1.9.0 echo (anonymous)",
    SQLITE: "Custodian app.py, SQLite",
    POSTGRES: "Custodian app.py, PostgreSQL",
    POSTGRES_X2: "Custodian app.py x2 processes, PostgreSQL (turns alternate)",
}
ORDER = (BARE, STOCK, AGENTS, SQLITE, POSTGRES, POSTGRES_X2)


@dataclass(frozen=True)
class TurnOptions:
    """How long and how wide the turn benchmark runs."""

    concurrency: tuple[int, ...] = (1, 8, 32, 128)
    warmup: float = 1.5
    seconds: float = 5.0
    script: str | None = None  # force a script by name; default: the breach report if the bot has it
    targets: tuple[str, ...] = ORDER


@dataclass
class TargetResult:
    """Every concurrency level of one target, and its memory."""

    key: str
    runs: list[LoadResult] = field(default_factory=list)
    rss_idle_mb: float = 0.0
    rss_after_mb: float = 0.0
    skipped: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.key]


@dataclass
class TurnsReport:
    """The whole section: which script ran and each target's results."""

    script: Script
    script_note: str
    probed: bool = False  # set once a Custodian run has chosen the script
    targets: dict[str, TargetResult] = field(default_factory=dict)


def custodian_env(database_url: str) -> dict[str, str]:
    """Custodian's settings for the bench: its database and the bench schools' DPOs; the rest as deployed."""
    dpos = ",".join(f"{dpo.tenant_id}:{dpo.aad_id}" for dpo in bench_dpos())
    return {"DATABASE_URL": database_url, "DPO_AAD_IDS": dpos, "LOG_LEVEL": "INFO", "MicrosoftAppId": "", "ALLOWED_TENANTS": "",
            "RATE_LIMIT_PER_MINUTE": "0"}  # each bench conversation talks far faster than a person


async def greet_dpos(client: TeamsClient) -> None:
    """DPOs must have written to the bot once before it can alert them."""
    for dpo in bench_dpos():
        await client.say(dpo, "hi")


@asynccontextmanager
async def serve(key: str, workdir: Path, database_url: str = "", stats: Path | None = None) -> AsyncIterator[tuple[str, int]]:
    """Start one target; yields (base URL, pid)."""
    log = workdir / f"{key}.log"
    if key in (SQLITE, POSTGRES):
        bot = BotProcess(workdir=workdir, env=custodian_env(database_url))
        bot.log_path = log
        await bot.start(timeout=120)
        try:
            yield bot.url, bot_pid(bot)
        finally:
            await bot.stop()
        return
    if key == AGENTS:
        python, why = agents_venv.ensure()
        if python is None:
            raise RuntimeError(why)
        argv = [str(python), str(ROOT / "bench" / "echo_agents.py")]
    elif key == PROFILED:
        argv = [sys.executable, "-m", "bench.profile", "--stats", str(stats)]
    else:
        argv = [sys.executable, "-m", "bench.servers", key]
    server = Server(argv, log, env=custodian_env(database_url) if key == PROFILED else {})
    await server.start()
    try:
        yield server.url, server.pid
    finally:
        await server.stop()


@asynccontextmanager
async def serve_all(key: str, workdir: Path, database_url: str) -> AsyncIterator[tuple[list[str], list[int]]]:
    """Start one target (two processes for POSTGRES_X2); yields their base URLs and pids."""
    if key != POSTGRES_X2:
        async with serve(key, workdir, database_url) as (url, pid):
            yield [url], [pid]
        return
    bots = [BotProcess(workdir=workdir, env={**custodian_env(database_url), "INSTANCES": "2"}) for _ in range(2)]
    for n, bot in enumerate(bots):
        bot.log_path = workdir / f"{key}-{n}.log"
    try:
        await asyncio.gather(*(bot.start(timeout=120) for bot in bots))
        yield [bot.url for bot in bots], [bot_pid(bot) for bot in bots]
    finally:
        await asyncio.gather(*(bot.stop() for bot in bots))


async def choose_script(client: TeamsClient, report: TurnsReport, forced: str | None) -> None:
    """The breach report if the bot has it (probed through the real server), else the help script."""
    report.probed = True
    if forced:
        report.script, report.script_note = SCRIPTS[forced], "chosen with --script"
        return
    wanted = SCRIPTS["breach-report"]
    probe = TeamsUser("Bench Probe", "be999999-0000-4000-8000-00000000be00", bench_users(1)[0].tenant_id)
    replies = await say(client, probe, wanted.turns[0])
    await client.say(probe, "cancel")
    if wanted.unavailable_marker and wanted.unavailable_marker in texts(replies).lower():
        report.script = HELP
        report.script_note = f"the {wanted.name} dialog is not built yet (the bot said '{wanted.unavailable_marker}')"
    else:
        report.script, report.script_note = wanted, "the bot has it"


async def walk(script_name: str, workdir: Path) -> list[str]:
    """One conversation through a script against Custodian (SQLite), each turn with the start of its reply."""
    from dialogs.kit.card_text import render_card

    channel = FakeTeamsChannel()
    await channel.start()
    lines: list[str] = []
    try:
        async with serve(SQLITE, workdir, f"sqlite+aiosqlite:///{workdir / 'walk.db'}") as (url, _pid):
            async with aiohttp.ClientSession() as http:
                client = TeamsClient(url, channel, http)
                await greet_dpos(client)
                user = bench_users(1)[0]
                for step in SCRIPTS[script_name].turns:
                    replies = await say(client, user, step)
                    shown = [r.text for r in replies] + [" / ".join(render_card(c).lines) for r in replies for c in r.cards]
                    lines.append(f"> {step}\n  " + " | ".join(x for x in shown if x)[:300])
    finally:
        await channel.close()
    return lines


async def run_target(key: str, report: TurnsReport, opts: TurnOptions, workdir: Path, channel: FakeTeamsChannel,
                     database_url: str, wire: WireCounter | None = None) -> TargetResult:
    """Start `key`, measure every concurrency level, record memory; the first Custodian run picks the script."""
    result = TargetResult(key)
    async with serve_all(key, workdir, database_url) as (urls, pids):
        result.rss_idle_mb = max(map(rss_mb, pids))
        connector = aiohttp.TCPConnector(limit=max(opts.concurrency) + 8)
        async with aiohttp.ClientSession(connector=connector) as http:
            client, *others = [TeamsClient(url, channel, http) for url in urls]
            if key in CUSTODIAN:
                await greet_dpos(client)
                if not report.probed:
                    await choose_script(client, report, opts.script)
            run = LoadRun(client, channel, report.script, expect_reply=key != BARE, check_done=key in CUSTODIAN, also=others)
            for concurrency in opts.concurrency:
                users = bench_users(concurrency)
                result.runs.append(await run.measure(users, pids, warmup=opts.warmup, seconds=opts.seconds, wire=wire))
                print(f"  {key:<20} c={concurrency:<4} {result.runs[-1].turns_per_second:8.1f} turns/s", flush=True)
        result.rss_after_mb = max(map(rss_mb, pids))
    channel.received.clear()
    return result


async def bench_turns(opts: TurnOptions, workdir: Path) -> TurnsReport:
    """Every target in turn (Custodian first: its first run decides which script runs)."""
    channel = FakeTeamsChannel()
    await channel.start()
    report = TurnsReport(SCRIPTS[opts.script or HELP.name], "no Custodian target ran to probe the bot")
    results: dict[str, TargetResult] = {}
    try:
        for key in sorted(opts.targets, key=lambda k: (k not in CUSTODIAN, ORDER.index(k))):
            try:
                if key in (POSTGRES, POSTGRES_X2):  # each on a fresh cluster, its round trips counted on the wire
                    async with postgres() as (url, why):
                        if url is None:
                            results[key] = TargetResult(key, skipped=f"no PostgreSQL: {why}")
                            continue
                        async with counted(url) as (relayed, wire):
                            results[key] = await run_target(key, report, opts, workdir, channel, relayed, wire)
                else:
                    db = f"sqlite+aiosqlite:///{workdir / 'turns.db'}"
                    results[key] = await run_target(key, report, opts, workdir, channel, db)
            except (RuntimeError, TimeoutError, AssertionError, aiohttp.ClientError) as error:  # that row only
                results[key] = TargetResult(key, skipped=str(error)[:300])
                print(f"  {key}: skipped: {error}", flush=True)
    finally:
        await channel.close()
    report.targets = {key: results[key] for key in ORDER if key in results}
    return report
