"""Section 2: reminder fan-out under Teams' send limits.

10,000 due reminders across 20 schools; the fake Teams channel (this process) enforces 7 sends/s per
conversation and 50/s per tenant and answers 429 beyond. The bot's reminder engine drains the ledger
in another process (`bench.sweeper`). Deliveries are told apart by the reminder id on each card.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlmodel import col

from bench.sweeper import KIND, OPEN_STATES
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import FakeTeamsChannel, Limits
from tests.teams.process import ROOT

ID_IN_CARD = re.compile(r"bench reminder (\d+)")
TENANT_LIMIT = 50


@dataclass(frozen=True)
class FanoutOptions:
    """How many reminders, schools and people; how long the engine may take."""

    reminders: int = 10_000
    tenants: int = 20
    recipients_per_tenant: int = 50
    deadline: float = 150.0
    profile: Path | None = None  # run the engine under cProfile and write its stats here


@dataclass
class FanoutReport:
    """What reached the channel, what the ledger says, and how fast."""

    options: FanoutOptions
    skipped: str = ""
    setup_seconds: float = 0.0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0  # never reached the channel, yet the ledger no longer has them pending
    still_open: int = 0  # pending or being sent when the deadline came
    rejected_429: int = 0
    seconds: float = 0.0  # first delivery to last delivery
    tenant_rates: list[float] = field(default_factory=list)  # sends/s per tenant over its busy span
    peak_tenant_rate: int = 0  # most sends to one tenant inside any one second
    ledger: dict[str, int] = field(default_factory=dict)
    sweeper: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_rate(self) -> float:
        return sum(self.tenant_rates) / len(self.tenant_rates) if self.tenant_rates else 0.0


def engine_missing() -> str:
    """Why the fan-out cannot run yet ('' when the reminder engine is there)."""
    try:
        from bot.runtime import Runtime
    except ImportError as error:
        return f"bot.runtime does not import: {error}"
    if not hasattr(Runtime, "sweep_reminders"):
        return "the reminder engine (Runtime.sweep_reminders) is not built yet"
    return ""


def recipients(opts: FanoutOptions) -> list[TeamsUser]:
    """Made-up staff: `recipients_per_tenant` in each of `tenants` schools."""
    return [
        TeamsUser(f"Fanout {t}-{r}", f"fa{r:06d}-0000-4000-8000-{t:012d}", f"f0{t:06d}-0000-4000-8000-00000000fa00")
        for t in range(opts.tenants) for r in range(opts.recipients_per_tenant)
    ]


async def prepare(database_url: str, channel: FakeTeamsChannel, opts: FanoutOptions) -> list[int]:
    """Store each recipient with the conversation reference the bot builds from a real message, then the reminders.

    Rows are inserted in bulk (record_visit and reminders.schedule row by row take about a minute for 10,000);
    the fields are the ones those functions write.
    """
    from bot.compat.inbound import parse_activity
    from dialogs.kit.activity import visit_of
    from storage.db import create_schema, make_engine, make_session_factory
    from storage.models import Organisation, Person
    from storage.reminder_models import Reminder

    engine = make_engine(database_url)
    await create_schema(engine)
    now = datetime.now(UTC)
    people = recipients(opts)
    async with aiohttp.ClientSession() as http:
        client = TeamsClient("http://127.0.0.1:9", channel, http)  # only builds activities; posts nothing
        visits = []
        for user in people:
            activity = client.message(user, "hi")
            activity["serviceUrl"] = f"{channel.url}emea/{user.tenant_id}/"  # Teams puts the tenant in it
            visits.append(visit_of(parse_activity(activity)))
    async with make_session_factory(engine)() as session:
        session.add_all(Organisation(tenant_id=tenant, created_at=now) for tenant in sorted({u.tenant_id for u in people}))
        session.add_all(
            Person(tenant_id=v.tenant_id, aad_id=v.aad_id, name=v.name, teams_user_id=v.teams_user_id,
                   conversation_reference=v.reference_json, created_at=now, last_seen_at=now)
            for v in visits if v is not None
        )
        rows = []
        for n in range(opts.reminders):
            # Round-robin over schools, as many schools' deadlines fall due together.
            user = people[(n % opts.tenants) * opts.recipients_per_tenant + (n // opts.tenants) % opts.recipients_per_tenant]
            rows.append(Reminder(key=f"bench:{n}", tenant_id=user.tenant_id, kind=KIND, recipient_aad_id=user.aad_id,
                                 subject_type="bench", subject_id=str(n), due_at=now, created_at=now, payload={}))
        session.add_all(rows)
        await session.commit()
        ids = [int(row.id or 0) for row in rows]
    await engine.dispose()
    return ids


async def ledger_states(database_url: str) -> dict[str, int]:
    """Reminder count by state."""
    from storage.db import make_engine, make_session_factory
    from storage.reminder_models import Reminder

    engine = make_engine(database_url)
    async with make_session_factory(engine)() as session:
        rows = await session.execute(select(col(Reminder.state), func.count()).group_by(col(Reminder.state)))
        states = {str(state): int(count) for state, count in rows.all()}
    await engine.dispose()
    return states


async def watch(channel: FakeTeamsChannel, proc: subprocess.Popen[bytes]) -> tuple[Counter[int], dict[str, list[float]]]:
    """Until the worker exits: each delivered reminder id (counted) and each tenant's delivery times."""
    delivered: Counter[int] = Counter()
    times: dict[str, list[float]] = defaultdict(list)
    seen = 0
    while True:
        try:
            await channel.wait_for(seen + 1, timeout=0.5)
        except TimeoutError:
            if proc.poll() is not None:
                return delivered, times
            continue
        now = time.monotonic()
        for item in channel.received[seen:]:
            found = ID_IN_CARD.search(json.dumps(item.activity))
            if found:
                delivered[int(found.group(1))] += 1
                times[item.prefix].append(now)
        seen = len(channel.received)


def rates(times: dict[str, list[float]]) -> tuple[list[float], int, float]:
    """(sends/s per tenant over its busy span, peak sends to one tenant in one second, overall span)."""
    per_tenant, peak = [], 0
    for stamps in times.values():
        if len(stamps) > 1 and stamps[-1] > stamps[0]:
            per_tenant.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
        start = 0
        for end, stamp in enumerate(stamps):
            while stamp - stamps[start] >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
    everything = [stamp for stamps in times.values() for stamp in stamps]
    return per_tenant, peak, (max(everything) - min(everything)) if everything else 0.0


async def drain_in_worker(database_url: str, channel: FakeTeamsChannel, opts: FanoutOptions,
                          workdir: Path) -> tuple[Counter[int], dict[str, list[float]], dict[str, Any]]:
    """Run `bench.sweeper` and watch the channel until it exits: (deliveries, times per tenant, its summary)."""
    argv = [sys.executable, "-m", "bench.sweeper", "--db", database_url, "--deadline", str(opts.deadline)]
    argv += ["--profile", str(opts.profile)] if opts.profile else []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (workdir / "sweeper.log").open("ab") as log:
        proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log)
        try:
            delivered, times = await watch(channel, proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        out = proc.communicate()[0].decode().strip()
    return delivered, times, json.loads(out.splitlines()[-1]) if out else {"error": "no summary (see sweeper.log)"}


async def bench_fanout(opts: FanoutOptions, workdir: Path, database_url: str | None = None) -> FanoutReport:
    """Prepare the ledger, let the engine drain it, and check every reminder arrived exactly once."""
    report = FanoutReport(opts, skipped=engine_missing())
    if report.skipped:
        return report
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    channel = FakeTeamsChannel(Limits(tenant=((TENANT_LIMIT, 1.0),)))
    await channel.start()
    try:
        started = time.monotonic()
        ids = await prepare(database_url, channel, opts)
        report.setup_seconds = time.monotonic() - started
        delivered, times, report.sweeper = await drain_in_worker(database_url, channel, opts, workdir)
        report.delivered = len(delivered)
        report.duplicates = sum(count - 1 for count in delivered.values())
        report.rejected_429 = channel.rejected_429
        report.tenant_rates, report.peak_tenant_rate, report.seconds = rates(times)
        report.ledger = await ledger_states(database_url)
        report.still_open = sum(report.ledger.get(state, 0) for state in OPEN_STATES)
        report.lost = len(set(ids) - set(delivered)) - report.still_open
    finally:
        await channel.close()
    return report
