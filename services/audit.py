"""The audit trail: who did what, when (ids and codes only)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEvent


def record(
    session: AsyncSession,
    *,
    tenant_id: str,
    actor_aad_id: str,
    action: str,
    now: datetime,
    subject_type: str = "",
    subject_id: str | int = "",
) -> None:
    """Add an audit row to the caller's unit of work (the caller commits)."""
    session.add(
        AuditEvent(
            tenant_id=tenant_id, actor_aad_id=actor_aad_id, action=action,
            subject_type=subject_type, subject_id=str(subject_id), at=now,
        )
    )
