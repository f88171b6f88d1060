"""Who is staff of a school: anyone holding a role there, or whom Teams calls an ordinary member of the school's
tenant (`userRole` "user" from TeamsInfo.get_member). Guests, anonymous and outside people are not. Teams' answer is
kept for a day."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema.teams import TeamsChannelAccount
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import DomainError, NotAllowed
from services.identity import Actor
from storage.db import SessionFactory
from storage.models import Membership

log = logging.getLogger(__name__)

RECHECK = timedelta(days=1)
ASK_TIMEOUT_SECONDS = 10.0
NOT_STAFF = ("The pupil register is only for your school's own staff, so I can't help with that from a guest or "
             "outside account. Please ask a member of staff or your DPO.")
UNCHECKED = ("I couldn't check with Teams that you're a member of staff here, so I haven't shown anything. "
             "Please try again in a few minutes.")


async def require_staff(context: TurnContext, actor: Actor, sessions: SessionFactory, now: datetime) -> None:
    """Refuse (NotAllowed) unless the sender is staff of the actor's school; DomainError when Teams can't say."""
    if actor.roles:
        return  # a DPO or organiser was appointed by the school or the hub: trusted as staff
    async with sessions() as session:
        known = await _membership(session, actor)
        if known is None or now - known.checked_at >= RECHECK:
            member = await _ask_teams(context)
            if member is None:
                raise DomainError(UNCHECKED)
            known = known or Membership(tenant_id=actor.tenant_id, aad_id=actor.aad_id, checked_at=now)
            known.user_role = str(member.user_role or "")[:20]
            known.staff = is_staff(member, actor.tenant_id)
            known.upn = str(member.user_principal_name or member.email or "")[:200]
            known.checked_at = now
            session.add(known)
            try:
                await session.commit()
            except IntegrityError:  # their other chat asked at the same moment: take its answer
                await session.rollback()
                known = await _membership(session, actor)
                if known is None:
                    raise DomainError(UNCHECKED) from None
    if not known.staff:
        log.info("pupil register refused: tenant %s user %s is not staff (%s)", actor.tenant_id, actor.aad_id,
                 known.user_role or "no role")
        raise NotAllowed(NOT_STAFF)


def is_staff(member: TeamsChannelAccount, tenant_id: str) -> bool:
    """Teams' "user" (a member of the tenant, not a guest), never of another tenant; with no role given, its tenant."""
    tenant = str(member.tenant_id or "").lower()
    if tenant and tenant != tenant_id:
        return False
    return member.user_role == "user" or (not member.user_role and tenant == tenant_id)


async def sign_in_name(session: AsyncSession, *, tenant_id: str, aad_id: str) -> str:
    """The person's sign-in name (UPN or e-mail) as Teams last gave it, or ''."""
    found = await _membership(session, Actor(tenant_id, aad_id))
    return found.upn if found is not None else ""


async def _membership(session: AsyncSession, actor: Actor) -> Membership | None:
    query = select(Membership).where(col(Membership.tenant_id) == actor.tenant_id, col(Membership.aad_id) == actor.aad_id)
    return (await session.execute(query)).scalar_one_or_none()


async def _ask_teams(context: TurnContext) -> TeamsChannelAccount | None:
    """Teams' record of the sender in this conversation, or None when Teams did not answer."""
    sender = context.activity.from_property
    try:
        return await asyncio.wait_for(TeamsInfo.get_member(context, sender.id), ASK_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - any failure to ask means "unknown", never "staff"
        log.warning("could not look up a member in Teams: %s", type(error).__name__)
        return None
