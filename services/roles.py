"""Granting and revoking roles within one school, and naming the school. Every change is recorded."""

from __future__ import annotations

from datetime import datetime

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.errors import DomainError, NotAllowed
from services.identity import Actor, active_roles, holders_of
from storage.models import Organisation, Person, Role, RoleGrant

ROLE_NAMES = {"dpo": Role.DPO, "data protection officer": Role.DPO, "organiser": Role.ORGANISER, "organizer": Role.ORGANISER}


def parse_role(text: str) -> Role:
    """'DPO' / 'organiser' -> Role, else a friendly error."""
    role = ROLE_NAMES.get(text.strip().lower())
    if role is None:
        raise DomainError("I can grant the roles **DPO** and **organiser**.")
    return role


def same_name(typed: str, name: str) -> bool:
    """True when what was typed is the person's name (case, spacing and punctuation aside)."""
    return bool(utils.default_process(typed) == utils.default_process(name))


async def find_colleague(session: AsyncSession, *, tenant_id: str, name: str) -> Person:
    """A person of this school by name (typos tolerated: check `same_name` before acting); asks for more when
    unclear."""
    people = list((await session.execute(select(Person).where(col(Person.tenant_id) == tenant_id))).scalars())
    choices = {p.id: p.name for p in people if p.name}
    found = process.extract(name, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=85, limit=3)
    if not found:
        raise DomainError(f"I don't know anyone called \u201c{name}\u201d at your school yet. "
                          "They need to have said hello to me in Teams first.")
    close = [match for match in found if match[1] >= found[0][1] - 2]
    if len(close) > 1:
        names = ", ".join(f"**{name}**" for name, _, _ in close)
        raise DomainError(f"More than one colleague matches: {names}. Please give the full name.")
    return next(p for p in people if p.id == found[0][2])


async def grant(
    session: AsyncSession, *, actor: Actor, person: Person, role: Role, now: datetime, hub_tenant_id: str
) -> bool:
    """Give `person` a role in the actor's school (DPOs only; organisers only by the hub's DPOs, in the hub's
    tenant: an organiser edits the catalogue every school books). False when they already had it. Commits."""
    require_dpo(actor, person)
    if role == Role.ORGANISER and not (hub_tenant_id and actor.tenant_id == hub_tenant_id):
        raise NotAllowed("Training organisers are appointed by the data hub that runs the training, "
                         "not by a school. Ask the hub if a colleague should organise sessions.")
    if role in await active_roles(session, tenant_id=person.tenant_id, aad_id=person.aad_id):
        return False
    session.add(RoleGrant(tenant_id=person.tenant_id, aad_id=person.aad_id, role=role, granted_by=actor.aad_id, granted_at=now))
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=f"role.granted.{role}", now=now,
                 subject_type="person", subject_id=person.id or "")
    await session.commit()
    return True


async def revoke(session: AsyncSession, *, actor: Actor, person: Person, role: Role, now: datetime) -> bool:
    """Take a role away (DPOs only); the last DPO of a school cannot remove themselves. Commits."""
    require_dpo(actor, person)
    if role == Role.DPO and len(await holders_of(session, tenant_id=person.tenant_id, role=Role.DPO)) <= 1:
        raise DomainError("You are the only DPO of this school, so the role can't be removed. Grant it to a colleague first.")
    rows = await session.execute(
        select(RoleGrant).where(
            col(RoleGrant.tenant_id) == person.tenant_id, col(RoleGrant.aad_id) == person.aad_id,
            col(RoleGrant.role) == role, col(RoleGrant.revoked_at).is_(None),
        )
    )
    grants = list(rows.scalars())
    for row in grants:
        row.revoked_at, row.revoked_by = now, actor.aad_id
    if grants:
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=f"role.revoked.{role}",
                     now=now, subject_type="person", subject_id=person.id or "")
    await session.commit()
    return bool(grants)


async def name_school(session: AsyncSession, *, actor: Actor, name: str, now: datetime) -> None:
    """Set the school's display name (DPOs only). Commits."""
    if not actor.is_dpo:
        raise NotAllowed("Only a DPO can name the school.")
    cleaned = " ".join(name.split())[:120]
    if not cleaned:
        raise DomainError("Please give the school's name, e.g. **school name St Mary's Primary**.")
    org = await session.get(Organisation, actor.tenant_id)
    if org is not None:
        org.name = cleaned
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="school.named", now=now)
    await session.commit()


async def schools_served(session: AsyncSession, *, aad_id: str, role: Role = Role.DPO) -> list[tuple[str, str]]:
    """(tenant id, school label) of every school where this person holds `role` — the trust / data hub case."""
    rows = await session.execute(
        select(col(RoleGrant.tenant_id), col(Organisation.name))
        .join(Organisation, col(Organisation.tenant_id) == col(RoleGrant.tenant_id))
        .where(col(RoleGrant.aad_id) == aad_id, col(RoleGrant.role) == role, col(RoleGrant.revoked_at).is_(None))
        .distinct()
        .order_by(RoleGrant.tenant_id)
    )
    return [(tenant, school_label(tenant, name)) for tenant, name in rows.all()]


def school_label(tenant_id: str, name: str | None) -> str:
    """The school's name, or a short stand-in until a DPO names it."""
    return name or f"School {tenant_id[:8]}"


async def actor_in(session: AsyncSession, *, actor: Actor, tenant_id: str) -> Actor:
    """The same person acting in another school they hold a role in (else NotAllowed)."""
    if tenant_id == actor.tenant_id:
        return actor
    roles = await active_roles(session, tenant_id=tenant_id, aad_id=actor.aad_id)
    if not roles:
        raise NotAllowed()
    return Actor(tenant_id, actor.aad_id, actor.name, roles)


def require_dpo(actor: Actor, person: Person) -> None:
    """Only a DPO changes roles, and only of people in their own school."""
    if not actor.is_dpo:
        raise NotAllowed("Only a DPO of your school can change roles.")
    if person.tenant_id != actor.tenant_id:
        raise NotAllowed()
