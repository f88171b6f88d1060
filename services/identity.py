"""Who is talking: schools, people, roles. Every query is scoped by tenant."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
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
    newly_reachable: bool = False  # this turn first stored where to write to them (their first 1:1 contact)

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


# Built once (every turn runs them; see bot.compat.state_storage). Core, not the ORM: the person is read, not kept.
_PEOPLE, _GRANTS = Person.__table__, RoleGrant.__table__  # type: ignore[attr-defined]
_THIS_PERSON = and_(_PEOPLE.c.tenant_id == bindparam("b_tenant"), _PEOPLE.c.aad_id == bindparam("b_aad"))
_ACTIVE_GRANTS = and_(  # a person's roles not revoked
    _GRANTS.c.tenant_id == _PEOPLE.c.tenant_id, _GRANTS.c.aad_id == _PEOPLE.c.aad_id, _GRANTS.c.revoked_at.is_(None)
)
_PERSON_AND_ROLES = (
    select(_PEOPLE.c.name, _PEOPLE.c.teams_user_id, _PEOPLE.c.conversation_reference, _PEOPLE.c.last_seen_at,
           _PEOPLE.c.unreachable_at, _GRANTS.c.role)
    .outerjoin(_GRANTS, _ACTIVE_GRANTS)
    .where(_THIS_PERSON)
)
_EVER_GRANTED = select(_GRANTS.c.id).where(
    _GRANTS.c.tenant_id == bindparam("b_tenant"), _GRANTS.c.aad_id == bindparam("b_aad"),
    _GRANTS.c.role == bindparam("b_role"),
).limit(1)


@dataclass(frozen=True)
class _Stored:
    """What a turn needs of the stored person."""

    name: str
    teams_user_id: str
    conversation_reference: str | None
    last_seen_at: datetime
    unreachable_at: datetime | None


async def known_visitor(
    conn: AsyncConnection, *, visit: Visit, dpo_seed: Collection[tuple[str, str]], now: datetime,
    organiser_seed: Collection[tuple[str, str]] = (),
) -> Actor | None:
    """The actor in one read when their stored person and seeded roles are up to date (a turn's usual case); None
    when `record_visit` has something to write. Writes and commits nothing (a turn reads this on its own connection)."""
    person, roles = await _person_and_roles(conn, {"b_tenant": visit.tenant_id, "b_aad": visit.aad_id})
    if person is None or _changes(person, visit, now) or _unseeded(visit, roles, dpo_seed, organiser_seed):
        return None
    return Actor(visit.tenant_id, visit.aad_id, visit.name, roles)


def _unseeded(visit: Visit, roles: frozenset[str], dpo_seed: Collection[tuple[str, str]],
              organiser_seed: Collection[tuple[str, str]]) -> list[Role]:
    """The roles settings give this person that they don't hold (granted once; a revocation stands)."""
    return [role for role, seed in ((Role.DPO, dpo_seed), (Role.ORGANISER, organiser_seed))
            if (visit.tenant_id, visit.aad_id) in seed and role not in roles]


async def record_visit(
    conn: AsyncConnection, *, visit: Visit, dpo_seed: Collection[tuple[str, str]], now: datetime,
    organiser_seed: Collection[tuple[str, str]] = (),
) -> Actor:
    """Upsert the school and person, seed DPOs and training organisers from settings ((tenant, aad) pairs), and
    return the actor. Commits."""
    keys = {"b_tenant": visit.tenant_id, "b_aad": visit.aad_id}
    person, roles = await _person_and_roles(conn, keys)
    wrote = False
    if person is None:
        # Two first messages can race (same school, same person): insert-if-absent, then read.
        await insert_ignore(conn, Organisation, {"tenant_id": visit.tenant_id, "created_at": now}, ["tenant_id"])
        await insert_ignore(
            conn, Person,
            {"tenant_id": visit.tenant_id, "aad_id": visit.aad_id, "created_at": now, "last_seen_at": now},
            ["tenant_id", "aad_id"],
        )
        person, roles = await _person_and_roles(conn, keys)
        assert person is not None
        await _seed_school_dpos(conn, visit, dpo_seed, now)
        wrote = True
    changes = _changes(person, visit, now)
    if changes:
        await conn.execute(update(_PEOPLE).where(_THIS_PERSON).values(changes), keys)
        wrote = True
    for role in _unseeded(visit, roles, dpo_seed, organiser_seed):
        if await _seed_role(conn, visit.tenant_id, visit.aad_id, role, now):
            roles, wrote = roles | {role}, True
    if wrote:
        await conn.commit()
    reached = person.conversation_reference is None and "conversation_reference" in changes
    return Actor(visit.tenant_id, visit.aad_id, visit.name, frozenset(roles), reached)


async def _seed_role(conn: AsyncConnection, tenant_id: str, aad_id: str, role: Role, now: datetime) -> bool:
    """Grant a role named in settings, once: a later revocation by a DPO is respected."""
    ever = await conn.execute(_EVER_GRANTED, {"b_tenant": tenant_id, "b_aad": aad_id, "b_role": role.value})
    if ever.first() is not None:
        return False
    await conn.execute(insert(_GRANTS).values(
        tenant_id=tenant_id, aad_id=aad_id, role=role.value, granted_by="settings", granted_at=now))
    return True


async def _seed_school_dpos(conn: AsyncConnection, visit: Visit, dpo_seed: Collection[tuple[str, str]],
                            now: datetime) -> None:
    """Someone new at a school: its DPOs named in settings are known from now on, even those who never wrote, so
    alerts are scheduled for them and reach them through a chat Custodian opens (the app installed for them)."""
    for tenant, aad_id in sorted(dpo_seed):
        if tenant == visit.tenant_id and aad_id != visit.aad_id:  # (the visitor's own roles are seeded below)
            await insert_ignore(conn, Person, {"tenant_id": tenant, "aad_id": aad_id, "created_at": now,
                                               "last_seen_at": now}, ["tenant_id", "aad_id"])
            await _seed_role(conn, tenant, aad_id, Role.DPO, now)


async def _person_and_roles(conn: AsyncConnection, keys: dict[str, str]) -> tuple[_Stored | None, frozenset[str]]:
    """The stored person and their active roles, in one query (every turn asks)."""
    rows = (await conn.execute(_PERSON_AND_ROLES, keys)).all()
    if not rows:
        return None, frozenset()
    return _Stored(*rows[0][:5]), frozenset(row.role for row in rows if row.role is not None)


def _changes(person: _Stored, visit: Visit, now: datetime) -> dict[str, Any]:
    """The columns to bring the stored person up to date (none when nothing changed)."""
    changes: dict[str, Any] = {}
    if visit.name and visit.name != person.name:
        changes["name"] = visit.name
    if visit.teams_user_id and visit.teams_user_id != person.teams_user_id:
        changes["teams_user_id"] = visit.teams_user_id
    if visit.reference_json and person.conversation_reference != visit.reference_json \
            and _same_channel_and_tenant(person.conversation_reference, visit.reference_json):
        changes["conversation_reference"] = visit.reference_json
        changes["unreachable_at"] = None
    elif visit.reference_json and person.unreachable_at is not None:  # they wrote to the bot: reachable again
        changes["unreachable_at"] = None
    if now - person.last_seen_at > _SEEN_REFRESH:
        changes["last_seen_at"] = now
    return changes


def _same_channel_and_tenant(stored: str | None, new: str) -> bool:
    """A stored 1:1 reference is only replaced by one from the same channel and tenant."""
    if stored is None:
        return True
    old, fresh = json.loads(stored), json.loads(new)
    return bool(old.get("channelId") == fresh.get("channelId") and old.get("tenantId") == fresh.get("tenantId"))


async def active_roles(session: AsyncSession, *, tenant_id: str, aad_id: str) -> frozenset[str]:
    """Roles not revoked for this person in this school."""
    rows = await session.execute(
        select(col(RoleGrant.role)).where(
            col(RoleGrant.tenant_id) == tenant_id,
            col(RoleGrant.aad_id) == aad_id,
            col(RoleGrant.revoked_at).is_(None),
        )
    )
    return frozenset(rows.scalars())


async def holders_of(session: AsyncSession, *, tenant_id: str, role: str) -> list[Person]:
    """People of this school who currently hold a role (e.g. every DPO to alert)."""
    rows = await session.execute(
        select(Person)
        .join(RoleGrant, (col(RoleGrant.tenant_id) == col(Person.tenant_id)) & (col(RoleGrant.aad_id) == col(Person.aad_id)))
        .where(col(Person.tenant_id) == tenant_id, col(RoleGrant.role) == role, col(RoleGrant.revoked_at).is_(None))
        .order_by(col(Person.id))
    )
    return list(rows.scalars().unique())


async def reachable_holders(session: AsyncSession, *, tenant_id: str, role: str) -> list[Person]:
    """`holders_of` whom Custodian can write to now (a 1:1 chat stored, not blocked)."""
    people = await holders_of(session, tenant_id=tenant_id, role=role)
    return [p for p in people if p.conversation_reference and p.unreachable_at is None]


_DPO_IDS = (
    select(_PEOPLE.c.id, _PEOPLE.c.aad_id).distinct()
    .join(_GRANTS, _ACTIVE_GRANTS)
    .where(_PEOPLE.c.tenant_id == bindparam("b_tenant"), _GRANTS.c.role == Role.DPO.value)
    .order_by(_PEOPLE.c.id)
)


async def dpo_ids(session: AsyncSession, tenant_id: str) -> list[str]:
    """Entra ids of the school's DPOs (`holders_of` without loading the people): who to alert."""
    rows = await session.execute(_DPO_IDS, {"b_tenant": tenant_id})
    return [aad_id for _, aad_id in rows]


async def name_of(session: AsyncSession, *, tenant_id: str, aad_id: str | None) -> str:
    """A person's display name as Teams last gave it ("someone" when unknown)."""
    found = await session.execute(select(col(Person.name)).where(col(Person.tenant_id) == tenant_id,
                                                                 col(Person.aad_id) == aad_id))
    return found.scalars().first() or "someone"


async def school_reference(session: AsyncSession, tenant_id: str) -> str | None:
    """The 1:1 reference of whoever in this school wrote last: its service URL and bot account are the school's,
    to open a chat with someone who never wrote (`ProactiveSender.open_chat`)."""
    rows = await session.execute(
        select(col(Person.conversation_reference))
        .where(col(Person.tenant_id) == tenant_id, col(Person.conversation_reference).is_not(None))
        .order_by(col(Person.last_seen_at).desc()).limit(1)
    )
    return rows.scalar_one_or_none()


async def set_reference(session: AsyncSession, *, tenant_id: str, aad_id: str, reference_json: str | None) -> None:
    """Store where to write to this person (None: Teams says that conversation is gone). Does not commit."""
    await session.execute(
        update(Person).where(col(Person.tenant_id) == tenant_id, col(Person.aad_id) == aad_id)
        .values(conversation_reference=reference_json, unreachable_at=None)
    )


async def set_reachable(session: AsyncSession, *, tenant_id: str, aad_id: str, reachable: bool, now: datetime) -> None:
    """Teams said the app was installed (again) for this person, or removed. Does not commit."""
    await session.execute(
        update(Person).where(col(Person.tenant_id) == tenant_id, col(Person.aad_id) == aad_id)
        .values(unreachable_at=None if reachable else now)
    )


async def mark_unreachable(session: AsyncSession, *, person_id: int, now: datetime) -> None:
    """Teams said 403: the person blocked or removed the bot. Does not commit."""
    person = await session.get(Person, person_id)
    if person is not None and person.unreachable_at is None:
        person.unreachable_at = now
