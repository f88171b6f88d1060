"""Core tables: schools (tenants), people, roles, audit trail, bot state.

Feature tables live in their own modules, imported at the bottom so that
`create_schema` sees every table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import id_field, utc_field


class Role(StrEnum):
    """Roles beyond plain staff."""

    DPO = "dpo"
    ORGANISER = "organiser"


class Organisation(SQLModel, table=True):
    """A school (one Microsoft 365 tenant)."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field()
    app_blocked_at: datetime | None = utc_field(nullable=True, default=None)  # Teams: 403 BotDisabledByAdmin


class Person(SQLModel, table=True):
    """Someone who has talked to the bot, with how to reach them again."""

    __table_args__ = (UniqueConstraint("tenant_id", "aad_id"),)

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    aad_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    teams_user_id: str = Field(default="", max_length=400)
    # Serialised ConversationReference of their 1:1 chat with the bot (for proactive messages).
    conversation_reference: str | None = Field(default=None, sa_column=Column(Text))
    unreachable_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()


class RoleGrant(SQLModel, table=True):
    """A role held by a person in one school; revoked rows are kept as history."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    aad_id: str = Field(max_length=64)
    role: str = Field(max_length=20)
    granted_by: str = Field(max_length=64)
    granted_at: datetime = utc_field()
    revoked_by: str | None = Field(default=None, max_length=64)
    revoked_at: datetime | None = utc_field(nullable=True, default=None)


class Membership(SQLModel, table=True):
    """What Teams last said about a person's place in their school (TeamsInfo.get_member): staff or guest."""

    __table_args__ = (UniqueConstraint("tenant_id", "aad_id"),)

    id: int | None = id_field()
    tenant_id: str = Field(max_length=64)
    aad_id: str = Field(max_length=64)
    user_role: str = Field(default="", max_length=20)  # Teams' userRole: "user", "guest", "anonymous" ("" = not said)
    staff: bool = False
    upn: str = Field(default="", max_length=200)  # their sign-in name (userPrincipalName or email), when Teams gave it
    checked_at: datetime = utc_field()


class AuditEvent(SQLModel, table=True):
    """Who did what, when; ids and codes only, never personal details."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    actor_aad_id: str = Field(max_length=64)
    action: str = Field(max_length=60)
    subject_type: str = Field(default="", max_length=40)
    subject_id: str = Field(default="", max_length=64)
    at: datetime = utc_field(index=True)


# One conversation's state. Ordinary turns store under 8 KB; a breach report with every free-text answer at
# its 4,000-character limit stores ~36 KB, and ~200 KB if the text is accented (non-ASCII is stored escaped).
MAX_ITEM_BYTES = 256 * 1024


class BotStateRow(SQLModel, table=True):
    """botbuilder Storage item (conversation and user state), with its e-tag."""

    __tablename__ = "bot_state"

    key: str = Field(primary_key=True, max_length=512)
    data: str = Field(sa_column=Column(Text, nullable=False))
    etag: str = Field(max_length=40)
    updated_at: datetime = utc_field(index=True)


class HandledActivity(SQLModel, table=True):
    """An inbound activity whose turn has run: a redelivery (a Teams retry, a duplicate) is not run again."""

    __tablename__ = "handled_activity"

    key: str = Field(primary_key=True, max_length=512)  # tenant / conversation / activity id
    at: datetime = utc_field(index=True)


# Feature tables: imported here so that create_schema() creates them too.
from storage import (  # noqa: E402
    account_models,  # noqa: F401
    breach_models,  # noqa: F401
    calendar_models,  # noqa: F401
    consent_models,  # noqa: F401
    drill_models,  # noqa: F401
    file_models,  # noqa: F401
    reminder_models,  # noqa: F401
    sar_models,  # noqa: F401
    school_models,  # noqa: F401
    training_models,  # noqa: F401
)
