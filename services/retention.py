"""Retention: how long each kind of record is kept, and the daily purge that applies it.

Counts of what was removed go to the audit trail (no content). Defaults follow common school
retention schedules; a school sets its own in settings.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from storage.breach_models import purge_closed_breaches
from storage.consent_models import forget_stale_import_files, purge_consent_checks, purge_removed_posts
from storage.db import rowcount
from storage.file_models import purge_expired_files
from storage.models import BotStateRow, HandledActivity, Organisation

log = logging.getLogger(__name__)

# Deletes records older than the cutoff for one school; returns how many went. Must not commit.
Purge = Callable[[AsyncSession, str, datetime], Awaitable[int]]


@dataclass(frozen=True)
class RetentionRule:
    """One kind of record and how many days it is kept."""

    name: str
    days: int
    purge: Purge


def rules(*, closed_breach_years: int, removed_posts_days: int, consent_checks_days: int,
          import_preview_days: int) -> list[RetentionRule]:
    """The school's retention schedule (from the RETENTION_* settings); a year counts as 366 days so nothing goes
    early."""
    return [
        RetentionRule("closed_breaches", closed_breach_years * 366, purge_closed_breaches),
        RetentionRule("removed_posts", removed_posts_days, purge_removed_posts),
        RetentionRule("consent_checks", consent_checks_days, purge_consent_checks),
        RetentionRule("import_previews", import_preview_days, forget_stale_import_files),
        RetentionRule("expired_files", 0, purge_expired_files),  # files never collected: gone once expired
    ]


async def purge_idle_bot_state(session: AsyncSession, days: int, now: datetime) -> int:
    """Conversation state (dialog progress) untouched for `days`, and the ids of activities handled before then
    (Teams redelivers within minutes); not per school: keys are ids only."""
    cutoff = now - timedelta(days=days)
    await session.execute(delete(HandledActivity).where(col(HandledActivity.at) < cutoff))
    return rowcount(await session.execute(delete(BotStateRow).where(col(BotStateRow.updated_at) < cutoff)))


async def apply(session: AsyncSession, *, rules: Sequence[RetentionRule], state_days: int, now: datetime) -> dict[str, int]:
    """Run every rule for every school, record counts in each school's audit trail. Commits."""
    removed = {"bot_state": await purge_idle_bot_state(session, state_days, now)}
    tenants = list((await session.execute(select(col(Organisation.tenant_id)))).scalars())
    for rule in rules:
        for tenant_id in tenants:
            count = await rule.purge(session, tenant_id, now - timedelta(days=rule.days))
            removed[rule.name] = removed.get(rule.name, 0) + count
            if count:
                audit.record(session, tenant_id=tenant_id, actor_aad_id="retention", action=f"retention.{rule.name}",
                             now=now, subject_type="count", subject_id=count)
    await session.commit()
    log.info("retention applied: %s", ", ".join(f"{name}={count}" for name, count in removed.items()))
    return removed
