"""The DPO's weekly digest: planned once per DPO per school per week through the reminder ledger, summarised at send time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.accounts.reviews import reviews_overdue
from services.breach.records import open_breaches
from services.consent.posts import posts_past_remove_by
from services.consent.removals import open_tasks
from services.dates import to_local
from services.reminders import ledger as reminders
from services.sar.requests import open_sars
from services.training.record import training_due
from storage.breach_models import Breach
from storage.consent_models import Post
from storage.models import AuditEvent, Person, Role, RoleGrant
from storage.reminder_models import Reminder
from storage.sar_models import SubjectAccessRequest

log = logging.getLogger(__name__)

KIND = "dpo.digest"
SUBJECT = "digest"
WEEK = timedelta(days=7)
# A digest missed by longer than this (bot down, or first started mid-week) waits for next week's.
CATCH_UP = timedelta(days=1)


@dataclass(frozen=True)
class DigestTime:
    """When the weekly digest goes: ISO weekday (1 = Monday) and hour, school time."""

    weekday: int = 1
    hour: int = 8
    tz: str = "Europe/London"

    def this_week(self, now: datetime) -> tuple[datetime, str]:
        """(this week's digest moment in UTC, its ISO week label like '2026-W48')."""
        local = now.astimezone(ZoneInfo(self.tz))
        year, week, weekday = local.isocalendar()
        day = local.date() + timedelta(days=self.weekday - weekday)
        moment = datetime.combine(day, time(self.hour), tzinfo=ZoneInfo(self.tz)).astimezone(UTC)
        return moment, f"{year}-W{week:02d}"


def digest_key(tenant_id: str, aad_id: str, week: str) -> str:
    """The ledger key that makes a digest exactly-once."""
    return f"digest:{tenant_id}:{aad_id}:{week}"


async def plan_digests(session: AsyncSession, *, now: datetime, when: DigestTime = DigestTime()) -> int:
    """Once this week's digest time has passed (within CATCH_UP), schedule one per reachable DPO per school (idempotent)."""
    moment, week = when.this_week(now)
    if not moment <= now < moment + CATCH_UP:
        return 0
    rows = await session.execute(
        select(col(RoleGrant.tenant_id), col(RoleGrant.aad_id))
        .join(Person, (col(Person.tenant_id) == RoleGrant.tenant_id) & (col(Person.aad_id) == RoleGrant.aad_id))
        .where(col(RoleGrant.role) == Role.DPO, col(RoleGrant.revoked_at).is_(None),
               col(Person.conversation_reference).is_not(None), col(Person.unreachable_at).is_(None))
        .distinct()
    )
    wanted = {digest_key(tenant, aad, week): (tenant, aad) for tenant, aad in rows.tuples().all()}
    if not wanted:
        return 0
    existing = set((await session.execute(select(col(Reminder.key)).where(col(Reminder.key).in_(list(wanted))))).scalars())
    missing = [(key, tenant, aad) for key, (tenant, aad) in wanted.items() if key not in existing]
    if not missing:
        return 0
    try:
        for key, tenant, aad in missing:
            await reminders.schedule(session, key=key, tenant_id=tenant, kind=KIND, recipient_aad_id=aad, subject_type=SUBJECT,
                                     subject_id=week, due_at=moment, now=now, payload={"since": (moment - WEEK).isoformat()})
        await session.commit()
    except IntegrityError:  # another process planned the same digests at the same moment: theirs stand
        await session.rollback()
        return 0
    log.info("%s weekly digest(s) planned for %s", len(missing), week)
    return len(missing)


@dataclass(frozen=True)
class Digest:
    """One school's week, as counts and references (no names, no free text)."""

    new_breaches: list[str]  # references
    decisions: int  # breach decisions, ICO reports and closures recorded
    overdue_breaches: list[str]  # past the 72 hours, not reported, not decided "not notifiable"
    open_removals: list[int]  # removal task ids still open
    posts_overdue: list[int]  # live posts past their remove-by date
    consents_changed: int
    posts_removed: int
    reviews_overdue: list[int] = field(default_factory=list)  # social media account numbers
    new_sars: list[str] = field(default_factory=list)  # subject access request references
    overdue_sars: list[str] = field(default_factory=list)  # open, clock running, past the due date
    training_due: int = 0  # people with no data-protection session attended within the valid period


async def _count(session: AsyncSession, tenant_id: str, since: datetime, until: datetime, *actions: str) -> int:
    query = select(func.count()).select_from(AuditEvent).where(
        col(AuditEvent.tenant_id) == tenant_id, col(AuditEvent.at) >= since, col(AuditEvent.at) < until,
        col(AuditEvent.action).in_(actions))
    return int((await session.execute(query)).scalar_one())


async def summarise(session: AsyncSession, *, tenant_id: str, since: datetime, now: datetime, review_months: int,
                    training_months: int = 24) -> Digest:
    """What happened in a school from `since` to `now`, and what is overdue now (accounts reviewed every `review_months`,
    data-protection training valid for `training_months`)."""
    new = await session.execute(
        select(col(Breach.reference)).where(col(Breach.tenant_id) == tenant_id, col(Breach.created_at) >= since,
                                       col(Breach.created_at) < now).order_by(col(Breach.id)))
    overdue = [b.reference for b in await open_breaches(session, tenant_id=tenant_id)
               if b.deadline_at < now and b.ico_reported_at is None and b.decision != "not_notifiable"]
    consent_actions = ("consent.granted", "consent.refused", "consent.not_asked", "consent.never_publish", "pupil.left")
    return Digest(
        new_breaches=list(new.scalars()),
        decisions=await _count(session, tenant_id, since, now, "breach.decided", "breach.reported", "breach.closed"),
        overdue_breaches=overdue,
        open_removals=[int(t.id or 0) for t in await open_tasks(session, tenant_id=tenant_id)],
        posts_overdue=[int(p.id or 0) for p in await posts_past_remove_by(session, tenant_id=tenant_id, now=now)],
        consents_changed=await _count(session, tenant_id, since, now, *consent_actions),
        posts_removed=await _removed(session, tenant_id, since, now),
        reviews_overdue=await reviews_overdue(session, tenant_id=tenant_id, months=review_months, today=now.date()),
        new_sars=await _new_sars(session, tenant_id, since, now),
        overdue_sars=[s.reference for s in await open_sars(session, tenant_id=tenant_id) if s.due_on < to_local(now).date()],
        training_due=len(await training_due(session, tenant_id=tenant_id, now=now, months=training_months)),
    )


async def _new_sars(session: AsyncSession, tenant_id: str, since: datetime, until: datetime) -> list[str]:
    rows = await session.execute(
        select(col(SubjectAccessRequest.reference)).where(
            col(SubjectAccessRequest.tenant_id) == tenant_id, col(SubjectAccessRequest.created_at) >= since,
            col(SubjectAccessRequest.created_at) < until).order_by(col(SubjectAccessRequest.id)))
    return list(rows.scalars())


async def _removed(session: AsyncSession, tenant_id: str, since: datetime, until: datetime) -> int:
    query = select(func.count()).select_from(Post).where(col(Post.tenant_id) == tenant_id, col(Post.removed_at) >= since,
                                                         col(Post.removed_at) < until)
    return int((await session.execute(query)).scalar_one())
