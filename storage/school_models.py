"""A school's profile: what the ICO's breach report form asks about the organisation."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import utc_field


class SchoolProfile(SQLModel, table=True):
    """One school's organisation details, filled in once by a DPO (`school profile`)."""

    __tablename__ = "school_profile"

    tenant_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    ico_registration: str = Field(default="", max_length=20)  # e.g. ZA123456, from the ICO's register of fee payers
    dpo_contact: str = Field(default="", max_length=300)  # name, email, phone
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = utc_field()
