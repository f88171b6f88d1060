"""Files offered through Teams' file-consent flow: held in the database until the person allows or declines."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.identity import Actor
from storage.file_models import HeldFile

KEEP_FOR = timedelta(hours=24)


async def hold(session: AsyncSession, *, actor: Actor, name: str, content: bytes, audit_action: str,
               now: datetime) -> HeldFile:
    """Keep `content` for `actor` under a new opaque id until `now` + 24 h. Commits."""
    held = HeldFile(id=secrets.token_urlsafe(24), tenant_id=actor.tenant_id, aad_id=actor.aad_id, name=name,
                    content=content, audit_action=audit_action, expires_at=now + KEEP_FOR)
    session.add(held)
    await session.commit()
    return held


async def claim(session: AsyncSession, *, file_id: str, actor: Actor, now: datetime) -> HeldFile | None:
    """The file held for `actor` under `file_id`, or None when there is none (any more) for them."""
    held = await session.get(HeldFile, file_id) if file_id else None
    if held is None or (held.tenant_id, held.aad_id) != (actor.tenant_id, actor.aad_id):
        return None
    if held.expires_at <= now:
        await forget(session, held)
        return None
    return held


async def delivered(session: AsyncSession, held: HeldFile, now: datetime) -> None:
    """The file reached the person's OneDrive: audit the export (if it is one) and forget the bytes. Commits."""
    if held.audit_action:
        audit.record(session, tenant_id=held.tenant_id, actor_aad_id=held.aad_id, action=held.audit_action, now=now,
                     subject_type="file")
    await forget(session, held)


async def drop(session: AsyncSession, file_id: str) -> None:
    """Delete the file held under `file_id`, if any (its card never reached the person). Commits."""
    held = await session.get(HeldFile, file_id)
    if held is not None:
        await forget(session, held)


async def forget(session: AsyncSession, held: HeldFile) -> None:
    """Delete the held bytes. Commits."""
    await session.delete(held)
    await session.commit()
