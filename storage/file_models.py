"""Files waiting for their recipient to press Allow on a Teams file-consent card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, delete
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import rowcount
from storage.types import utc_field


class HeldFile(SQLModel, table=True):
    """A file's bytes, kept here (never in the card) under an opaque id until uploaded, declined or expired."""

    __tablename__ = "held_file"

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    aad_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    audit_action: str = Field(default="", max_length=60)  # recorded when delivered ('' = not audited)
    expires_at: datetime = utc_field(index=True)


async def purge_expired_files(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Delete one school's held files that expired before `cutoff`."""
    return rowcount(await session.execute(delete(HeldFile).where(
        col(HeldFile.tenant_id) == tenant_id, col(HeldFile.expires_at) < cutoff)))
