"""The school profile a DPO fills in once: the organisation details of the ICO's breach report form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from storage.models import Organisation
from storage.school_models import SchoolProfile

FIELDS = {"name": 200, "address": 500, "ico_registration": 20, "dpo_contact": 300}  # field: most characters
# The ICO's register of fee payers: Z then a letter or digit, then six digits (e.g. ZA123456, Z1234567).
_REGISTRATION = re.compile(r"^Z[A-Z0-9]\d{6}$")
ONLY_DPO = "Only your school's DPO can see or change the school profile."


async def profile_of(session: AsyncSession, actor: Actor) -> SchoolProfile:
    """The school's profile (a blank one named as the school until a DPO saves it); DPOs only."""
    if not actor.is_dpo:
        raise NotAllowed(ONLY_DPO)
    found = await session.get(SchoolProfile, actor.tenant_id)
    if found is not None:
        return found
    school = await session.get(Organisation, actor.tenant_id)
    return SchoolProfile(tenant_id=actor.tenant_id, name=(school.name if school else None) or "")


def read_profile(values: Mapping[str, object]) -> dict[str, str]:
    """The form's answers, trimmed and checked (name required, registration number in the ICO's format)."""
    cleaned = {name: " ".join(str(values.get(name) or "").split()) for name in FIELDS}
    cleaned["ico_registration"] = cleaned["ico_registration"].replace(" ", "").upper()
    if not cleaned["name"]:
        raise DomainError("Please give the school's name.")
    for name, most in FIELDS.items():
        if len(cleaned[name]) > most:
            raise DomainError(f"That's too long ({len(cleaned[name])} characters): please keep it under {most}.")
    if cleaned["ico_registration"] and not _REGISTRATION.match(cleaned["ico_registration"]):
        raise DomainError("The ICO registration number looks like ZA123456 or Z1234567 (it is on your data protection "
                          "fee certificate). Please check it, or leave it empty for now.")
    return cleaned


async def save_profile(session: AsyncSession, *, actor: Actor, values: Mapping[str, object], now: datetime) -> SchoolProfile:
    """Check and save the school's profile. Commits."""
    profile = await profile_of(session, actor)
    for name, value in read_profile(values).items():
        setattr(profile, name, value)
    profile.updated_by, profile.updated_at = actor.aad_id, now
    session.add(profile)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="school.profile_saved", now=now,
                 subject_type="school_profile")
    await session.commit()
    return profile
