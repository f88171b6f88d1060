"""A staff check named pupils who are not on the register: ask the school's DPOs to add them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.consent.rules import Reason
from services.errors import DomainError, NotAllowed
from services.identity import Actor, dpo_ids
from services.ids import parse_id
from services.reminders import ledger as reminders
from storage.consent_models import ConsentCheck
from storage.models import Person
from storage.reminder_models import Reminder

log = logging.getLogger(__name__)

KIND_ADD_PUPIL = "consent.add_pupil"


@dataclass(frozen=True)
class Missing:
    """What a DPO is asked to add: the names as typed, for which use, and who asked."""

    check_id: int
    purpose: str
    names: tuple[str, ...]
    asked_by: str


def missing_names(check: ConsentCheck) -> tuple[str, ...]:
    """The names a check found not on the register (kept on the check as evidence, like the pupils' ids)."""
    return tuple(str(r.get("name") or "") for r in check.results if r.get("reason") == Reason.NOT_ON_REGISTER)


async def ask_dpos_to_add(session: AsyncSession, *, actor: Actor, check_id: object, now: datetime) -> int:
    """Schedule a note to each DPO about the actor's own check; returns how many DPOs. Commits."""
    wanted = parse_id(check_id)
    check = await session.get(ConsentCheck, wanted) if wanted is not None else None
    if check is None or check.tenant_id != actor.tenant_id or check.checked_by != actor.aad_id:
        raise NotAllowed()
    if not missing_names(check):
        raise DomainError("That check has no names missing from the register.")
    told = await dpo_ids(session, actor.tenant_id)
    for aad_id in told:
        await reminders.schedule(
            session, key=f"consent_check:{check.id}:add_pupil:{aad_id}", tenant_id=actor.tenant_id, kind=KIND_ADD_PUPIL,
            recipient_aad_id=aad_id, subject_type="consent_check", subject_id=int(check.id or 0), due_at=now, now=now,
        )
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="consent.add_pupil_asked", now=now,
                 subject_type="consent_check", subject_id=int(check.id or 0))
    await session.commit()
    log.info("consent check %s: %s DPO(s) asked to add pupils", check.id, len(told))
    return len(told)


async def missing_for(session: AsyncSession, reminder: Reminder) -> Missing | None:
    """What a DPO's note is about (None once the check is gone, e.g. removed by retention)."""
    check = await session.get(ConsentCheck, int(reminder.subject_id))
    if check is None or check.tenant_id != reminder.tenant_id or not missing_names(check):
        return None
    who = select(col(Person.name)).where(col(Person.tenant_id) == check.tenant_id, col(Person.aad_id) == check.checked_by)
    asked_by = (await session.execute(who)).scalar_one_or_none() or ""
    return Missing(int(check.id or 0), check.purpose, missing_names(check), asked_by)
