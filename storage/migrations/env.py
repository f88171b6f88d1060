"""Alembic environment: runs on the connection `storage.migrate` hands over (never opens its own)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)
from storage.migrate import render_item

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
