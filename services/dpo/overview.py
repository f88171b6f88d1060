"""What a DPO (or staff, for their own items) asks about in plain words: breaches in a period, what is due today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.records import visible_breaches
from services.consent.posts import posts_past_remove_by
from services.consent.removals import open_tasks
from services.identity import Actor
from storage.breach_models import Breach
from storage.consent_models import Post, RemovalTask
from storage.reminder_models import Reminder, ReminderState

UK = "Europe/London"


def uk_day(day: date, tz: str = UK) -> tuple[datetime, datetime]:
    """[start, end) of one UK calendar day, in UTC."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def uk_month(now: datetime, tz: str = UK) -> tuple[datetime, datetime]:
    """[start, end) of the UK calendar month containing `now`, in UTC."""
    local = now.astimezone(ZoneInfo(tz)).date()
    first = local.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return uk_day(first, tz)[0], uk_day(following, tz)[0]


async def breaches_between(session: AsyncSession, *, actor: Actor, start: datetime, end: datetime) -> list[Breach]:
    """Breaches reported in [start, end) that the actor may see (a DPO: the school's; staff: their own)."""
    rows = await visible_breaches(session, actor=actor, open_only=False)
    return [b for b in rows if start <= b.created_at < end]


@dataclass(frozen=True)
class DueToday:
    """Everything due by the end of today (UK) for one school, or for one member of staff."""

    deadlines: list[Breach]  # open, not yet reported, not decided "not notifiable", deadline by tonight
    reminders: list[Reminder]  # pending reminders due today
    removals: list[RemovalTask]
    posts: list[Post]  # live posts whose remove-by date has come by tonight

    @property
    def total(self) -> int:
        """How many items in all."""
        return len(self.deadlines) + len(self.reminders) + len(self.removals) + len(self.posts)


async def due_today(session: AsyncSession, *, actor: Actor, now: datetime) -> DueToday:
    """A DPO: the school's items due today; staff: their own (reports, reminders, removals, posts)."""
    start, end = uk_day(now.astimezone(ZoneInfo(UK)).date())
    mine = None if actor.is_dpo else actor.aad_id
    deadlines = [b for b in await visible_breaches(session, actor=actor)
                 if b.deadline_at < end and b.ico_reported_at is None and b.decision != "not_notifiable"]
    query = select(Reminder).where(col(Reminder.tenant_id) == actor.tenant_id, col(Reminder.state) == ReminderState.PENDING,
                                   col(Reminder.due_at) >= start, col(Reminder.due_at) < end)
    if mine is not None:
        query = query.where(col(Reminder.recipient_aad_id) == mine)
    reminders = list((await session.execute(query.order_by(col(Reminder.due_at), col(Reminder.id)))).scalars())
    removals = await open_tasks(session, tenant_id=actor.tenant_id, assignee=mine)
    posts = await posts_past_remove_by(session, tenant_id=actor.tenant_id, now=end, posted_by=mine)
    return DueToday(deadlines, reminders, removals, posts)
