"""Who is talking: schools, people, roles. Every query is scoped by tenant."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_ignore
from storage.models import Organisation, Person, Role, RoleGrant

# Skip rewriting an unchanged person row more often than this (keeps turns cheap).
_SEEN_REFRESH = timedelta(minutes=30)


@dataclass(frozen=True)
class Actor:
    """The person behind a turn, in one school."""

    tenant_id: str
    aad_id: str
    name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_dpo(self) -> bool:
        """True for a DPO of this school."""
        return Role.DPO in self.roles

    @property
    def is_organiser(self) -> bool:
        """True for a training organiser."""
        return Role.ORGANISER in self.roles


@dataclass(frozen=True)
class Visit:
    """What an inbound activity tells us about its sender."""

    tenant_id: str
    aad_id: str
    name: str
    teams_user_id: str
    reference_json: str | None  # only for 1:1 chats, where proactive messages go


async def record_visit(
    session: AsyncSession, *, visit: Visit, dpo_seed: Collection[str], now: datetime, organiser_seed: Collection[str] = ()
) -> Actor:
    """Upsert the school and person, seed DPOs and training organisers from settings, and return the actor. Commits."""
    changed = False
    person, roles = await _person_and_roles(session, visit)
    if person is None:
        # Two first messages can race (same school, same person): insert-if-absent, then read.
        await insert_ignore(session, Organisation, {"tenant_id": visit.tenant_id, "created_at": now}, ["tenant_id"])
        await insert_ignore(
            session, Person,
            {"tenant_id": visit.tenant_id, "aad_id": visit.aad_id, "created_at": now, "last_seen_at": now},
            ["tenant_id", "aad_id"],
        )
        person, roles = await _person_and_roles(session, visit)
        assert person is not None
        changed = True
    changed = _refresh(person, visit, now) or changed
    for role, seed in ((Role.DPO, dpo_seed), (Role.ORGANISER, organiser_seed)):
        # A seeded role already held needs no look-up: _seed_role would find its grant and do nothing.
        if visit.aad_id in seed and role not in roles and await _seed_role(session, visit, role, now):
            roles, changed = roles | {role}, True
    if changed:
        await session.commit()
    return Actor(visit.tenant_id, visit.aad_id, visit.name, frozenset(roles))


async def _seed_role(session: AsyncSession, visit: Visit, role: Role, now: datetime) -> bool:
    """Grant a role named in settings, once: a later revocation by a DPO is respected."""
    ever = await session.execute(
        select(RoleGrant.id).where(
            RoleGrant.tenant_id == visit.tenant_id, RoleGrant.aad_id == visit.aad_id, RoleGrant.role == role
        ).limit(1)
    )
    if ever.first() is not None:
        return False
    session.add(RoleGrant(tenant_id=visit.tenant_id, aad_id=visit.aad_id, role=role, granted_by="settings", granted_at=now))
    return True


async def _person_and_roles(session: AsyncSession, visit: Visit) -> tuple[Person | None, frozenset[str]]:
    """The stored person and their active roles, in one query (every turn asks)."""
    rows = (
        await session.execute(
            select(Person, col(RoleGrant.role))
            .outerjoin(RoleGrant, and_(
                col(RoleGrant.tenant_id) == col(Person.tenant_id), col(RoleGrant.aad_id) == col(Person.aad_id),
                col(RoleGrant.revoked_at).is_(None),
            ))
            .where(col(Person.tenant_id) == visit.tenant_id, col(Person.aad_id) == visit.aad_id)
        )
    ).all()
    if not rows:
        return None, frozenset()
    return rows[0][0], frozenset(role for _, role in rows if role is not None)


def _refresh(person: Person, visit: Visit, now: datetime) -> bool:
    """Bring the stored person up to date; True when anything changed."""
    before = (person.name, person.teams_user_id, person.conversation_reference, person.last_seen_at)
    person.name = visit.name or person.name
    person.teams_user_id = visit.teams_user_id or person.teams_user_id
    if visit.reference_json and person.conversation_reference != visit.reference_json:
        person.conversation_reference = visit.reference_json
        person.unreachable_at = None
    if now - person.last_seen_at > _SEEN_REFRESH:
        person.last_seen_at = now
    return before != (person.name, person.teams_user_id, person.conversation_reference, person.last_seen_at)


async def active_roles(session: AsyncSession, *, tenant_id: str, aad_id: str) -> frozenset[str]:
    """Roles not revoked for this person in this school."""
    rows = await session.execute(
        select(RoleGrant.role).where(
            RoleGrant.tenant_id == tenant_id,
            RoleGrant.aad_id == aad_id,
            RoleGrant.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return frozenset(rows.scalars())


async def holders_of(session: AsyncSession, *, tenant_id: str, role: str) -> list[Person]:
    """People of this school who currently hold a role (e.g. every DPO to alert)."""
    rows = await session.execute(
        select(Person)
        .join(RoleGrant, (RoleGrant.tenant_id == Person.tenant_id) & (RoleGrant.aad_id == Person.aad_id))
        .where(Person.tenant_id == tenant_id, RoleGrant.role == role, RoleGrant.revoked_at.is_(None))  # type: ignore[union-attr]
        .order_by(Person.id)
    )
    return list(rows.scalars().unique())


async def mark_unreachable(session: AsyncSession, *, person_id: int, now: datetime) -> None:
    """Teams said 403: the person blocked or removed the bot. Does not commit."""
    person = await session.get(Person, person_id)
    if person is not None and person.unreachable_at is None:
        person.unreachable_at = now
