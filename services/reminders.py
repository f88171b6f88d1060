"""Scheduling and cancelling reminders. Callers commit: a reminder is scheduled or cancelled
in the same transaction as the change that causes it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.reminder_models import Reminder, ReminderState


async def schedule(
    session: AsyncSession,
    *,
    key: str,
    tenant_id: str,
    kind: str,
    recipient_aad_id: str,
    subject_type: str,
    subject_id: str | int,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> Reminder:
    """Add a pending reminder unless one with this key exists (then it is returned as is)."""
    existing = (await session.execute(select(Reminder).where(Reminder.key == key))).scalar_one_or_none()
    if existing is not None:
        return existing
    reminder = Reminder(
        key=key, tenant_id=tenant_id, kind=kind, recipient_aad_id=recipient_aad_id,
        subject_type=subject_type, subject_id=str(subject_id), due_at=due_at, created_at=now,
        payload=payload or {},
    )
    session.add(reminder)
    await session.flush()
    return reminder


async def cancel(
    session: AsyncSession,
    *,
    tenant_id: str,
    subject_type: str,
    subject_id: str | int,
    kinds: Collection[str] | None = None,
    recipient_aad_id: str | None = None,
) -> int:
    """Cancel pending reminders about one subject (optionally only some kinds or one recipient)."""
    query = update(Reminder).where(
        Reminder.tenant_id == tenant_id,
        Reminder.subject_type == subject_type,
        Reminder.subject_id == str(subject_id),
        Reminder.state == ReminderState.PENDING,
    )
    if kinds is not None:
        query = query.where(Reminder.kind.in_(list(kinds)))  # type: ignore[attr-defined]
    if recipient_aad_id is not None:
        query = query.where(Reminder.recipient_aad_id == recipient_aad_id)
    result = await session.execute(query.values(state=ReminderState.CANCELLED))
    return int(result.rowcount or 0)


async def pending_for(session: AsyncSession, *, tenant_id: str, subject_type: str, subject_id: str | int) -> list[Reminder]:
    """Pending reminders about one subject, soonest first."""
    rows = await session.execute(
        select(Reminder)
        .where(
            Reminder.tenant_id == tenant_id, Reminder.subject_type == subject_type,
            Reminder.subject_id == str(subject_id), Reminder.state == ReminderState.PENDING,
        )
        .order_by(Reminder.due_at)
    )
    return list(rows.scalars())
