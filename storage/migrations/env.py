"""Alembic environment: runs on the connection `storage.migrate` hands over (never opens its own)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.models  # noqa: F401  (registers every table)


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write columns as plain SQLAlchemy types, so a revision never imports the app's own types."""
    if kind != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
