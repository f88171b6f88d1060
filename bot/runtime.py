"""Builds everything the bot needs and tears it down in reverse."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapter import create_adapter
from bot.card_updates import SentCards
from bot.compat.connector import PooledDriver
from bot.compat.state_storage import SqlStorage
from bot.handler import CustodianBot
from bot.logs import quiet_libraries
from bot.proactive import CONVERSATION_WINDOWS, ProactiveSender, SendLimiter, shared
from bot.scheduler import ReminderEngine, ReminderScheduler, SweepReport
from bot.state import CustodianConversationState
from config import Settings
from dialogs.dpo.queries import digest_time
from dialogs.feature import Deps, quiet_hours
from dialogs.features import build_features
from dialogs.reminders.actions import all_reminder_kinds
from dialogs.router import Router
from services import retention
from services.clock import Clock
from services.consent.pupil_files import FilePolicy
from services.dates import warm_up
from storage.db import create_schema, make_engine, make_session_factory

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The live pieces of one bot process."""

    settings: Settings
    engine: AsyncEngine
    deps: Deps
    adapter: CloudAdapter
    bot: CustodianBot
    driver: PooledDriver
    sender: ProactiveSender
    reminders: ReminderEngine
    scheduler: ReminderScheduler

    async def sweep_reminders(self) -> SweepReport:
        """Send every reminder due at the clock's now (tests and the terminal chat call this)."""
        return await self.reminders.sweep(self.deps.clock())

    async def apply_retention(self, now: datetime | None = None) -> dict[str, int]:
        """Delete what is past its retention period at `now` (default the clock's; the daily job, and tests)."""
        settings = self.settings
        schedule = retention.rules(
            closed_breach_years=settings.retention_closed_breach_years, removed_posts_days=settings.retention_removed_posts_days,
            consent_checks_days=settings.retention_consent_checks_days,
            import_preview_days=settings.retention_import_preview_days,
        )
        async with self.deps.sessions() as session:
            return await retention.apply(session, rules=schedule, state_days=settings.retention_bot_state_days,
                                         now=now or self.deps.clock())

    async def close(self) -> None:
        """Release connections (reverse of `start_runtime`)."""
        await self.driver.close()
        await self.engine.dispose()


async def start_runtime(settings: Settings, clock: Clock) -> Runtime:
    """Open the database (creating tables), and wire storage, adapter, dialogs and bot."""
    quiet_libraries()
    engine = make_engine(settings.database_url)
    await create_schema(engine)
    sessions = make_session_factory(engine)
    deps = Deps(sessions=sessions, clock=clock, settings=settings, files=FilePolicy(tuple(settings.pupil_file_hosts)))
    conversation_state = CustodianConversationState(SqlStorage(engine, clock, settings.max_conversation_state_bytes))
    features = build_features(deps)
    router = Router(deps, conversation_state, features)
    driver = PooledDriver()
    adapter = create_adapter(settings, driver)
    per_second = ((settings.sends_per_conversation, 1.0), *CONVERSATION_WINDOWS[1:])
    limiter = SendLimiter(shared(per_second, settings.share), shared(((settings.sends_per_tenant, 1.0),), settings.share))
    sender = ProactiveSender(adapter, settings.app_id, limiter=limiter)
    reminder_engine = ReminderEngine(sessions, sender, all_reminder_kinds(features), quiet=quiet_hours(deps),
                                     max_attempts=settings.reminder_max_attempts, digest_time=digest_time(deps))
    scheduler = ReminderScheduler(reminder_engine, clock, settings.sweep_seconds)
    deps.wake_reminders = scheduler.wake
    deps.refresh_cards = SentCards(sessions, sender, all_reminder_kinds(features), clock).refresh
    bot = CustodianBot(deps, conversation_state, router, engine)
    warm_up()
    runtime = Runtime(settings, engine, deps, adapter, bot, driver, sender, reminder_engine, scheduler)
    scheduler.daily("retention", runtime.apply_retention, at="02:30", timezone=settings.timezone)
    if not settings.auth_enabled:
        log.warning(
            "DEVELOPMENT MODE: MicrosoftAppId is empty, so requests are NOT authenticated. "
            "Never expose this server to the internet like this."
        )
    log.info("database ready (%s)", engine.dialect.name)
    return runtime
