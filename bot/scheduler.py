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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from botbuilder.schema import Activity
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.proactive import ProactiveSender
from dialogs.feature import ReminderKind
from dialogs.kit.replies import card_activity
from services import identity
from services.breach import alerts as breach_alerts
from services.clock import Clock
from services.dpo import digest
from services.reminders import ledger as reminders
from services.reminders import sweep
from services.reminders.ledger import QuietHours
from services.reminders.sweep import Delivery, Outcome
from storage.db import SessionFactory
from storage.models import Role
from storage.reminder_models import Reminder

log = logging.getLogger(__name__)

BATCH = 10  # claimed, sent and stamped together
BATCHES_IN_FLIGHT = 4  # a slow or throttled send holds up only its own batch; a crash leaves at most 40 unconfirmed
STOP_TIMEOUT_SECONDS = 60.0
SUMMARY_FROM = 3  # this many due at once of one kind for one person go as one summary card, when the kind can
# (what to send and where, an outcome already known, or the index of the summary card this reminder goes with)
Prepared = Delivery | tuple[str, Activity] | int


@dataclass
class SweepReport:
    """What one sweep did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    unreachable: int = 0
    cancelled: int = 0
    waiting: int = 0
    gone: int = 0
    blocked: int = 0
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
            report.reconciled = await sweep.reconcile_stale(session, now=now)
            await digest.plan_digests(session, now=now, when=self.digest_time)
            await self._open_chats(session, await sweep.unaddressed(session, now=now), now)
        urgent = [name for name, kind in self.kinds.items() if kind.urgent]
        always = [name for name, kind in self.kinds.items() if kind.urgent or not kind.term_time]
        urgent_only, held = (urgent, set[str]()) if self.quiet.holds(now) else (None, await self._closed_today(now, always))
        in_flight: set[asyncio.Task[list[tuple[Reminder, Outcome]]]] = set()
        drained = False  # the last claim found nothing; claim again when a batch is stamped (it may add follow-ups)
        while True:
            if not drained and len(in_flight) < BATCHES_IN_FLIGHT:
                async with self.sessions() as session:
                    batch = await sweep.claim_due(session, now=now, worker=self.worker, kinds=urgent_only, limit=BATCH,
                                                      held=held, urgent=always)
                if batch:
                    async with self.sessions() as session:
                        batch = await self._with_alike(session, batch, now)
                    async with self.sessions() as session:  # its own: a failed render rolls it back, not the claim
                        people = await reminders.recipients_of(session, batch)
                        addresses = {key: None if person.unreachable_at else person.conversation_reference
                                     for key, person in people.items()}
                        prepared = await self._prepare_all(session, batch, addresses, now)
                    in_flight.add(asyncio.create_task(self._deliver(batch, prepared, now)))
                    continue
                drained = True
            if not in_flight:
                break
            done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            drained = False
            gone = set()
            for task in done:
                for reminder, outcome in task.result():
                    log.info("reminder %s (%s): %s", reminder.id, reminder.kind, outcome.value)
                    report.add(outcome)
                    if outcome is Outcome.GONE:
                        gone.add((reminder.tenant_id, reminder.recipient_aad_id))
            if gone:  # their chats were forgotten: open new ones before those reminders are claimed again
                async with self.sessions() as session:
                    await self._open_chats(session, sorted(gone), now)
        if report.total:
            log.info("reminder sweep: %s", report)
        return report

    async def _closed_today(self, now: datetime, always: list[str]) -> set[str]:
        """Schools whose term-time reminders wait for their next school day; piled-up repeats go as one."""
        async with self.sessions() as session:
            await sweep.supersede_piled(session, now=now, urgent=always)
            return await sweep.closed_today(session, now=now, urgent=always, quiet=self.quiet)

    async def _with_alike(self, session: AsyncSession, batch: list[Reminder], now: datetime) -> list[Reminder]:
        """The batch, and for a kind that can be summarised the same person's other due ones of that kind."""
        seen: set[tuple[str, str, str]] = set()
        claimed = {reminder.id for reminder in batch}
        alike: list[Reminder] = []
        for reminder in batch:
            key = (reminder.tenant_id, reminder.recipient_aad_id, reminder.kind)
            kind = self.kinds.get(reminder.kind)
            if key not in seen and kind is not None and kind.summarise is not None:
                alike += [r for r in await sweep.claim_alike(session, first=reminder, now=now) if r.id not in claimed]
            seen.add(key)
        return batch + alike

    async def _prepare_all(self, session: AsyncSession, batch: list[Reminder],
                           addresses: Mapping[tuple[str, str], str | None], now: datetime) -> list[Prepared]:
        """Render the batch: many of one kind for one person as one summary card (the others follow its fate)."""
        groups: dict[tuple[str, str, str], list[int]] = {}
        for index, reminder in enumerate(batch):
            groups.setdefault((reminder.tenant_id, reminder.recipient_aad_id, reminder.kind), []).append(index)
        prepared: list[Prepared | None] = [None] * len(batch)
        for (tenant_id, aad_id, kind_name), indexes in groups.items():
            kind = self.kinds.get(kind_name)
            content = None
            if kind is not None and kind.summarise is not None and len(indexes) >= SUMMARY_FROM:
                content = await kind.summarise(session, [batch[i] for i in indexes], now)
            if content is not None:
                address = addresses.get((tenant_id, aad_id))
                first = Delivery(Outcome.WAITING if batch[indexes[0]].payload.get("wait") else Outcome.UNREACHABLE,
                                 "no conversation reference") if not address \
                    else (address, card_activity(content))
                prepared[indexes[0]] = first
                for i in indexes[1:]:
                    prepared[i] = indexes[0]
                continue
            for i in indexes:
                prepared[i] = await self._prepare(session, batch[i], addresses, now)
        return [item for item in prepared if item is not None]

    async def _deliver(self, batch: list[Reminder], prepared: list[Prepared], now: datetime) -> list[tuple[Reminder, Outcome]]:
        """Send a claimed batch at once, then stamp every outcome in one transaction (one batch at a time)."""
        sent = await asyncio.gather(*(self._send(item) for item in prepared))
        deliveries = [sent[item] if isinstance(item, int) else result for item, result in zip(prepared, sent, strict=True)]
        async with self._stamping, self.sessions() as session:
            outcomes = await sweep.settle(session, settled=list(zip(batch, deliveries, strict=True)), now=now,
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
        return address, card_activity(content)

    async def _open_chats(self, session: AsyncSession, people: Sequence[tuple[str, str]], now: datetime) -> None:
        """People due a reminder with no 1:1 chat stored (they never wrote to the bot, or Teams lost the chat): ask
        Teams to open one (it can when the app is installed for them, e.g. by the school's app setup policy). On
        success what waited for them is released, and a DPO is caught up as on first contact. Commits."""
        for tenant_id, aad_id in people:
            known = await identity.school_reference(session, tenant_id)
            if known is None:
                continue
            reference, result = await self.sender.open_chat(known, aad_id)
            if reference is None:
                log.info("no chat opened with %s in tenant %s: %s %s", aad_id, tenant_id, result.status, result.error)
                continue
            log.info("chat opened with %s in tenant %s", aad_id, tenant_id)
            await identity.set_reference(session, tenant_id=tenant_id, aad_id=aad_id, reference_json=reference)
            if Role.DPO in await identity.active_roles(session, tenant_id=tenant_id, aad_id=aad_id):
                await breach_alerts.catch_up(session, tenant_id=tenant_id, aad_id=aad_id, now=now,
                                             why=breach_alerts.LATE_CHAT_OPENED)
            await session.commit()

    async def _send(self, prepared: Prepared) -> Delivery:
        if isinstance(prepared, int):  # goes with a summary card: its delivery is that card's
            return Delivery(Outcome.CANCELLED)
        if isinstance(prepared, Delivery):
            return prepared
        result = await self.sender.send(*prepared)
        return Delivery(Outcome(result.fate.value), None if result.ok else result.error, result.retry_after,
                        activity_id=result.activity_id)


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
