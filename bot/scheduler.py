"""The reminder engine: a sweep over the ledger, triggered by APScheduler (which keeps no truth of its own).

A sweep takes `now`, reconciles stale claims, then repeatedly claims a small batch of due reminders
(committed as `sending` before anything is sent), renders each with its kind's renderer, sends the
batch through the proactive sender at once and stamps the outcomes in one transaction. A few batches
are on their way at once. A second sweep finds nothing left to send.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from botbuilder.schema import Activity
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.proactive import ProactiveSender
from bot.replies import card_activity
from dialogs.deps import ReminderKind
from services import digest, reminders
from services.clock import Clock
from services.reminders import Delivery, Outcome, QuietHours
from storage.db import SessionFactory
from storage.reminder_models import Reminder

log = logging.getLogger(__name__)

BATCH = 10  # claimed, sent and stamped together
BATCHES_IN_FLIGHT = 4  # a slow or throttled send holds up only its own batch; a crash leaves at most 40 unconfirmed
STOP_TIMEOUT_SECONDS = 60.0


@dataclass
class SweepReport:
    """What one sweep did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    waiting: int = 0
    reconciled: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one reminder's outcome."""
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    @property
    def total(self) -> int:
        """Everything this sweep touched."""
        return sum(getattr(self, f.name) for f in fields(self))


class ReminderEngine:
    """Claims, renders, sends and stamps due reminders."""

    def __init__(self, sessions: SessionFactory, sender: ProactiveSender, kinds: Mapping[str, ReminderKind], *,
                 quiet: QuietHours, max_attempts: int, digest_time: digest.DigestTime | None = None) -> None:
        self.sessions = sessions
        self.digest_time = digest_time or digest.DigestTime()
        self.sender = sender
        self.kinds = kinds
        self.quiet = quiet
        self.max_attempts = max_attempts
        self.worker = f"{socket.gethostname()[:30]}:{os.getpid()}"
        self._stamping = asyncio.Lock()  # concurrent SQLite writers would only wait on each other

    async def sweep(self, now: datetime) -> SweepReport:
        """Send everything due at `now` (urgent kinds only during quiet hours, and for schools closed today)."""
        report = SweepReport()
        async with self.sessions() as session:
            report.reconciled = await reminders.reconcile_stale(session, now=now)
            await digest.plan_digests(session, now=now, when=self.digest_time)
        urgent = [name for name, kind in self.kinds.items() if kind.urgent]
        always = [name for name, kind in self.kinds.items() if kind.urgent or not kind.term_time]
        urgent_only, held = (urgent, set[str]()) if self.quiet.holds(now) else (None, await self._closed_today(now, always))
        in_flight: set[asyncio.Task[list[tuple[Reminder, Outcome]]]] = set()
        drained = False  # the last claim found nothing; claim again when a batch is stamped (it may add follow-ups)
        while True:
            if not drained and len(in_flight) < BATCHES_IN_FLIGHT:
                async with self.sessions() as session:
                    batch = await reminders.claim_due(session, now=now, worker=self.worker, kinds=urgent_only, limit=BATCH,
                                                      held=held, urgent=always)
                if batch:
                    async with self.sessions() as session:  # its own: a failed render rolls it back, not the claim
                        people = await reminders.recipients_of(session, batch)
                        addresses = {key: person.conversation_reference for key, person in people.items()}
                        prepared = [await self._prepare(session, reminder, addresses, now) for reminder in batch]
                    in_flight.add(asyncio.create_task(self._deliver(batch, prepared, now)))
                    continue
                drained = True
            if not in_flight:
                break
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            drained = False
            for task in done:
                for reminder, outcome in task.result():
                    log.info("reminder %s (%s): %s", reminder.id, reminder.kind, outcome.value)
                    report.add(outcome)
        if report.total:
            log.info("reminder sweep: %s", report)
        return report

    async def _closed_today(self, now: datetime, always: list[str]) -> set[str]:
        """Schools whose term-time reminders wait for their next school day; piled-up repeats go as one."""
        async with self.sessions() as session:
            await reminders.supersede_piled(session, now=now, urgent=always)
            return await reminders.closed_today(session, now=now, urgent=always, quiet=self.quiet)

    async def _deliver(self, batch: list[Reminder], prepared: list[Delivery | tuple[str, Activity]],
                       now: datetime) -> list[tuple[Reminder, Outcome]]:
        """Send a claimed batch at once, then stamp every outcome in one transaction (one batch at a time)."""
        deliveries = await asyncio.gather(*(self._send(item) for item in prepared))
        async with self._stamping, self.sessions() as session:
            outcomes = await reminders.settle(session, settled=list(zip(batch, deliveries, strict=True)), now=now,
                                              max_attempts=self.max_attempts)
            await session.commit()
        return list(zip(batch, outcomes, strict=True))

    async def _prepare(self, session: AsyncSession, reminder: Reminder, addresses: Mapping[tuple[str, str], str | None],
                       now: datetime) -> Delivery | tuple[str, Activity]:
        """Render a reminder: (where to, what) to send, or the outcome already known."""
        kind = self.kinds.get(reminder.kind)
        if kind is None:
            return Delivery(Outcome.FAILED, "unknown kind")
        try:
            content = await kind.render(session, reminder, now)
        except Exception:
            log.exception("rendering reminder %s (%s) failed", reminder.id, reminder.kind)
            await session.rollback()  # so the next render starts clean (PostgreSQL refuses more after an error)
            return Delivery(Outcome.FAILED, "render error")
        if content is None:
            return Delivery(Outcome.CANCELLED)
        address = addresses.get((reminder.tenant_id, reminder.recipient_aad_id))
        if not address:
            if reminder.payload.get("wait"):
                return Delivery(Outcome.WAITING)
            return Delivery(Outcome.UNREACHABLE, "no conversation reference")
        return address, card_activity(content, summary=content.get("fallbackText"))

    async def _send(self, prepared: Delivery | tuple[str, Activity]) -> Delivery:
        if isinstance(prepared, Delivery):
            return prepared
        result = await self.sender.send(*prepared)
        if result.ok:
            return Delivery(Outcome.SENT)
        if result.unreachable:
            return Delivery(Outcome.UNREACHABLE, result.error)
        return Delivery(Outcome.RETRY if result.retryable else Outcome.FAILED, result.error, result.retry_after)


class ReminderScheduler:
    """Runs a sweep every `every_seconds` and once at start (catch-up), one at a time, in the background."""

    def __init__(self, engine: ReminderEngine, clock: Clock, every_seconds: int) -> None:
        self._engine = engine
        self._clock = clock
        self._every = every_seconds
        # A memory job store per process: job stores must never be shared (jobs would run twice).
        self._scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued = False
        self._running = False

    def daily(self, name: str, job: Callable[[datetime], Awaitable[object]], *, at: str, timezone: str) -> None:
        """Also run `job(now)` once a day at `at` ("HH:MM", school time), e.g. retention."""
        hour, minute = at.split(":")

        async def run() -> None:
            try:
                await job(self._clock())
            except Exception:
                log.exception("daily job %s failed", name)

        self._scheduler.add_job(run, CronTrigger(hour=int(hour), minute=int(minute), timezone=timezone), id=name,
                                max_instances=1, coalesce=True)

    def start(self) -> None:
        """Start ticking; the first sweep runs at once."""
        self._scheduler.add_job(self._tick, "interval", seconds=self._every, next_run_time=datetime.now(UTC),
                                id="reminder-sweep", max_instances=1, coalesce=True)
        self._scheduler.start()
        self._running = True
        log.info("reminder scheduler started (every %ss)", self._every)

    async def stop(self) -> None:
        """Stop ticking and let a sweep in progress finish (so nothing is left half-sent)."""
        if not self._running:
            return
        self._running = False
        self._scheduler.shutdown(wait=False)
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in late:
                task.cancel()
        log.info("reminder scheduler stopped")

    def wake(self) -> None:
        """Sweep now in the background (used after scheduling an "at once" alert); no-op when stopped."""
        if not self._running or self._queued:
            return
        self._queued = True
        task = asyncio.get_running_loop().create_task(self._sweep())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick(self) -> None:
        # Returns at once: APScheduler cancels running jobs at shutdown, and a sweep must not be cut mid-send.
        self.wake()

    async def _sweep(self) -> None:
        async with self._lock:
            self._queued = False
            try:
                await self._engine.sweep(self._clock())
            except Exception:
                log.exception("reminder sweep failed")
