"""The school's social media accounts: a register kept for good (retired accounts stay, with the reason)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import id_field, ref_field, utc_field


class Audience(StrEnum):
    """Who can see what the account posts."""

    PUBLIC = "public"
    PRIVATE = "private"  # followers approved by the school
    GROUP = "group"  # a closed group (e.g. one class's parents)


class SocialAccount(SQLModel, table=True):
    """One social media account or page the school posts to."""

    __tablename__ = "social_account"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    number: int  # shown to the school as "account 3": counts up per school
    platform: str = Field(max_length=40)
    handle: str = Field(max_length=100)
    url: str = Field(default="", max_length=500)
    audience: str = Field(default=Audience.PUBLIC, max_length=10)
    owner: str = Field(default="", max_length=100)
    access: str = Field(default="", sa_column=Column(Text, nullable=False))  # names, comma separated
    backup_admin: str = Field(default="", max_length=100)
    privacy_reviewed_on: date | None = None
    dpia_on: date | None = None
    policy_on: date | None = None
    housekeeping_months: int | None = None  # None: the purpose's setting
    reviewed_on: date | None = None  # the last review (privacy settings, access, still suitable)
    created_at: datetime = utc_field()
    created_by: str = Field(max_length=64)
    updated_at: datetime = utc_field()
    retired_at: datetime | None = utc_field(nullable=True, default=None)
    retired_reason: str = Field(default="", max_length=300)

    @property
    def label(self) -> str:
        """How posts name the account, e.g. "Facebook — St Mary's Primary"."""
        return f"{self.platform} — {self.handle}"[:100]


class AccountAccessTask(SQLModel, table=True):
    """For the DPO: take a leaver's access away from an account (open until done)."""

    __tablename__ = "account_access_task"

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    account_id: int = ref_field("social_account.id", index=True)
    name: str = Field(max_length=100)  # the leaver, as the register names them
    opened_at: datetime = utc_field()
    opened_by: str = Field(max_length=64)  # the DPO's aad id, or "teams" when Teams said they were removed
    done_at: datetime | None = utc_field(nullable=True, default=None)
    done_by: str | None = Field(default=None, max_length=64)
