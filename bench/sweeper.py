"""The fan-out worker: the bot's own runtime and reminder engine, sweeping until the ledger is drained.

`python -m bench.sweeper --db URL --deadline SECONDS` prints one JSON line when done. It adds one
bench-only reminder kind (`bench.ping`, urgent, a card naming the reminder id so the bench can spot
duplicates at the fake channel); everything else is the engine as the bot runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app import tune_gc
from bot.logs import configure_logging
from bot.runtime import Runtime, start_runtime
from config import Settings
from dialogs.feature import ReminderKind
from dialogs.kit.cards import card, heading, text
from services.clock import system_clock
from storage.reminder_models import Reminder, ReminderState

KIND = "bench.ping"
OPEN_STATES = (ReminderState.PENDING, ReminderState.SENDING)


async def render(_session: AsyncSession, reminder: Reminder, _now: datetime) -> dict[str, Any]:
    """A small card that names the reminder (ids only)."""
    return card([heading("Bench reminder"), text(f"bench reminder {reminder.id}")])


async def open_count(runtime: Runtime) -> int:
    """Reminders still pending or being sent."""
    async with runtime.deps.sessions() as session:
        query = select(func.count()).select_from(Reminder).where(col(Reminder.state).in_(OPEN_STATES))
        return int((await session.execute(query)).scalar_one())


async def drain(database_url: str, deadline: float) -> dict[str, Any]:
    """Sweep again and again (as the scheduler would, back to back) until nothing is open or time is up."""
    settings = Settings(_env_file=None, DATABASE_URL=database_url, SCHEDULER_ENABLED=False)
    configure_logging(settings.log_level)  # as app.py does: the engine logs each reminder at INFO
    runtime = await start_runtime(settings, system_clock)
    tune_gc()  # as app.py does once started
    runtime.reminders.kinds = {**runtime.reminders.kinds, KIND: ReminderKind(render=render, urgent=True, snoozable=False)}
    started = time.monotonic()
    cpu0 = sum(os.times()[:2])
    sweeps, totals = 0, {"sent": 0, "retry": 0, "failed": 0, "unreachable": 0, "cancelled": 0}
    try:
        while time.monotonic() - started < deadline:
            report = await runtime.sweep_reminders()
            sweeps += 1
            for name in totals:
                totals[name] += getattr(report, name, 0)
            if report.total == 0:
                if await open_count(runtime) == 0:
                    break
                await asyncio.sleep(0.1)  # only retries not yet due are left
    finally:
        await runtime.close()
    return {"seconds": time.monotonic() - started, "cpu_seconds": sum(os.times()[:2]) - cpu0, "sweeps": sweeps, **totals}


def main() -> None:
    """Drain the ledger in --db and print a JSON summary (under cProfile, CPU time, with --profile FILE)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--profile")
    args = parser.parse_args()
    profiler = cProfile.Profile(time.process_time)
    if args.profile:
        profiler.enable()
    summary = asyncio.run(drain(args.db, args.deadline))
    if args.profile:
        profiler.disable()
        profiler.dump_stats(args.profile)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
