"""The DPO's consent register: record changes (withdrawn, granted, never publish, left) and read it back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.consent.posts import clean_text
from services.consent.pupil_csv import year_code
from services.consent.removals import reconcile
from services.consent.rules import REASON_LABELS, Reason, consents_of, pupil_label, pupils_of, uk_today, verdict
from services.errors import NotAllowed
from services.identity import Actor
from storage.consent_models import ConsentState, Pupil, PupilConsent, Purpose, RemovalTask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """What a register change did: to whom (label for the DPO) and which removal tasks it opened."""

    pupil_label: str
    tasks: tuple[RemovalTask, ...]


@dataclass(frozen=True)
class RegisterRow:
    """One pupil with every purpose's consent (for the DPO's view and CSV export)."""

    pupil: Pupil
    consents: dict[Purpose, PupilConsent | None]


def require_dpo(actor: Actor) -> None:
    """Only a DPO of this school may see or change the register."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can see or change the consent register. "
                         "To check a photo, type **check consent**.")


async def _pupil(session: AsyncSession, actor: Actor, pupil_id: int) -> Pupil:
    require_dpo(actor)
    return (await pupils_of(session, tenant_id=actor.tenant_id, pupil_ids=[pupil_id]))[0]


async def _finish(session: AsyncSession, actor: Actor, pupil: Pupil, action: str, now: datetime) -> Change:
    pupil.updated_at = now
    await session.flush()
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=action, now=now,
                 subject_type="pupil", subject_id=int(pupil.id or 0))
    tasks = await reconcile(session, tenant_id=actor.tenant_id, pupil_ids=[int(pupil.id or 0)], actor_aad_id=actor.aad_id,
                            now=now)
    await session.commit()
    log.info("pupil %s: %s, %s removal task(s) opened", pupil.id, action, len(tasks))
    return Change(pupil_label(pupil), tuple(tasks))


async def change_consent(
    session: AsyncSession, *, actor: Actor, pupil_id: int, purpose: Purpose, state: ConsentState, given_by: str,
    review_on: date | None, now: datetime,
) -> Change:
    """Record a consent granted, refused or withdrawn for one purpose; a withdrawal opens removal tasks. Commits."""
    pupil = await _pupil(session, actor, pupil_id)
    consent = (await consents_of(session, tenant_id=actor.tenant_id, pupil_ids=[pupil_id], purpose=purpose)).get(pupil_id)
    if consent is None:
        consent = PupilConsent(tenant_id=actor.tenant_id, pupil_id=pupil_id, purpose=purpose, updated_at=now)
        session.add(consent)
    consent.state, consent.given_by = state, clean_text(given_by, what="who gave it", limit=100, required=False)
    consent.given_on, consent.review_on = uk_today(now), review_on
    consent.updated_at, consent.updated_by = now, actor.aad_id
    return await _finish(session, actor, pupil, f"consent.{state.value}", now)


async def set_never_publish(session: AsyncSession, *, actor: Actor, pupil_id: int, reason: str, now: datetime) -> Change:
    """Flag a pupil who must never be published, whatever any form says; opens removal tasks. Commits."""
    pupil = await _pupil(session, actor, pupil_id)
    pupil.never_publish = True
    pupil.never_publish_reason = clean_text(reason, what="the reason (e.g. looked-after child, court order)", limit=200)
    return await _finish(session, actor, pupil, "consent.never_publish", now)


async def mark_left(session: AsyncSession, *, actor: Actor, pupil_id: int, now: datetime) -> Change:
    """A pupil has left: kept on the register as left; every live post showing them gets a removal task. Commits."""
    pupil = await _pupil(session, actor, pupil_id)
    pupil.left_at = pupil.left_at or now
    return await _finish(session, actor, pupil, "pupil.left", now)


async def register_rows(session: AsyncSession, *, actor: Actor, include_left: bool = True) -> list[RegisterRow]:
    """DPO only: the whole register of the actor's school, by year, class and name."""
    require_dpo(actor)
    query = select(Pupil).where(col(Pupil.tenant_id) == actor.tenant_id)
    if not include_left:
        query = query.where(col(Pupil.left_at).is_(None))
    pupils = list((await session.execute(query.order_by(col(Pupil.year_group), col(Pupil.class_name),
                                                        col(Pupil.legal_surname), col(Pupil.forename)))).scalars())
    consents: dict[int, dict[Purpose, PupilConsent]] = {}
    for consent in (await session.execute(select(PupilConsent).where(col(PupilConsent.tenant_id) == actor.tenant_id))).scalars():
        consents.setdefault(consent.pupil_id, {})[Purpose(consent.purpose)] = consent
    return [RegisterRow(p, {purpose: consents.get(int(p.id or 0), {}).get(purpose) for purpose in Purpose}) for p in pupils]


async def pupil_record(session: AsyncSession, *, actor: Actor, pupil_id: int) -> RegisterRow:
    """DPO only: one pupil's register entry."""
    pupil = await _pupil(session, actor, pupil_id)
    rows = await session.execute(select(PupilConsent).where(col(PupilConsent.tenant_id) == actor.tenant_id,
                                                            col(PupilConsent.pupil_id) == pupil_id))
    found = {Purpose(c.purpose): c for c in rows.scalars()}
    return RegisterRow(pupil, {purpose: found.get(purpose) for purpose in Purpose})


async def not_ok_in_group(
    session: AsyncSession, *, actor: Actor, group: str, purpose: Purpose | None, now: datetime
) -> list[tuple[str, Purpose, str]]:
    """DPO only: "who has not got consent in 4B / Year 4" -> (pupil label, purpose, reason label) for everyone not OK."""
    require_dpo(actor)
    rows = await register_rows(session, actor=actor, include_left=False)
    in_class = [r for r in rows if r.pupil.class_name.lower() == group.strip().lower()]
    pupils = in_class or [r for r in rows if r.pupil.year_group == year_code(group)]
    today = uk_today(now)
    purposes = [purpose] if purpose else list(Purpose)
    return [(pupil_label(r.pupil), p, REASON_LABELS[reason]) for r in pupils for p in purposes
            if (reason := verdict(r.pupil, r.consents[p], today)) is not Reason.OK]

