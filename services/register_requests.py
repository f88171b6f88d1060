"""A staff check found names that are not on the pupil register: ask the school's DPOs to add them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, reminders
from services.consent import Reason
from services.errors import DomainError, NotAllowed
from services.identity import Actor, dpo_ids
from storage.consent_models import ConsentCheck

log = logging.getLogger(__name__)

KIND_ADD_PUPIL = "consent.add_pupil"
MAX_NAME = 100


async def ask_dpos_to_add(
    session: AsyncSession, *, actor: Actor, check_id: int, names: Sequence[str], now: datetime
) -> int:
    """Schedule a note to each DPO naming the missing pupils of the actor's own check; returns how many DPOs. Commits."""
    check = await session.get(ConsentCheck, int(check_id))
    if check is None or check.tenant_id != actor.tenant_id or check.checked_by != actor.aad_id:
        raise NotAllowed()
    missing = sum(1 for r in check.results if r.get("reason") == Reason.NOT_ON_REGISTER)
    wanted = list(dict.fromkeys(" ".join(str(n).split())[:MAX_NAME] for n in names if str(n).strip()))[:missing]
    if not wanted:
        raise DomainError("That check has no names missing from the register.")
    told = await dpo_ids(session, actor.tenant_id)
    for aad_id in told:
        await reminders.schedule(
            session, key=f"consent_check:{check.id}:add_pupil:{aad_id}", tenant_id=actor.tenant_id, kind=KIND_ADD_PUPIL,
            recipient_aad_id=aad_id, subject_type="consent_check", subject_id=int(check.id or 0), due_at=now, now=now,
            payload={"names": wanted, "purpose": check.purpose, "asked_by": actor.name},
        )
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="consent.add_pupil_asked", now=now,
                 subject_type="consent_check", subject_id=int(check.id or 0))
    await session.commit()
    log.info("consent check %s: %s DPO(s) asked to add %s pupil(s)", check.id, len(told), len(wanted))
    return len(told)
