"""botbuilder `Storage` on SQL with e-tag concurrency (conversation and user state)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.core import Storage, StoreItem
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage import state_codec
from storage.db import SessionFactory
from storage.models import BotStateRow


class EtagConflict(KeyError):
    """Raised when a write carries an e-tag that is no longer current."""


# One conversation's state. Ordinary turns store under 8 KB; a breach report with every free-text answer at
# its 4,000-character limit stores ~36 KB, and ~200 KB if the text is accented (non-ASCII is stored escaped).
MAX_ITEM_BYTES = 256 * 1024


class StateTooLarge(ValueError):
    """Raised instead of storing an item (one conversation's state) bigger than the storage's limit."""


def _etag_of(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get("e_tag")
    return getattr(item, "e_tag", None)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag
    else:
        item.e_tag = etag


class SqlStorage(Storage):
    """Stores items as JSON (storage.state_codec); e-tag `*` or none means upsert, any other must match."""

    def __init__(
        self, session_factory: SessionFactory, clock: Callable[[], datetime], max_item_bytes: int = MAX_ITEM_BYTES
    ) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._max_item_bytes = max_item_bytes

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if keys is None:
            raise ValueError("Keys are required when reading")
        return {key: item for key, (item, _stored) in (await self.read_stored(keys)).items()}

    async def read_stored(self, keys: list[str]) -> dict[str, tuple[Any, str]]:
        """Each item found, with the text it is stored as (what `encode_item` gives while it is unchanged)."""
        if not keys:
            return {}
        async with self._sessions() as session:
            key_col = col(BotStateRow.key)
            query = select(key_col, col(BotStateRow.data), col(BotStateRow.etag)).where(key_col.in_(keys))
            found: dict[str, tuple[Any, str]] = {}
            for key, data, etag in await session.execute(query):
                item = state_codec.decode(data)
                _set_etag(item, etag)
                found[key] = (item, data)
            return found

    @staticmethod
    def encode_item(item: Any) -> str:
        """The text an item is stored as (its e-tag lives in its own column)."""
        payload = dict(item) if isinstance(item, dict) else item
        if isinstance(payload, dict):
            payload.pop("e_tag", None)
        return state_codec.encode(payload)

    async def write(self, changes: dict[str, StoreItem]) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        async with self._sessions() as session:
            for key, item in changes.items():
                await self._write_one(session, key, item, self.encode_item(item))
            await session.commit()

    async def write_encoded(self, key: str, item: Any, data: str) -> None:
        """`write({key: item})` when the caller already has `encode_item(item)`."""
        async with self._sessions() as session:
            await self._write_one(session, key, item, data)
            await session.commit()

    async def _write_one(self, session: Any, key: str, item: Any, data: str) -> None:
        expected = _etag_of(item)
        if expected == "":
            raise ValueError("storage.write(): etag missing")
        new_etag = uuid.uuid4().hex
        if len(data.encode()) > self._max_item_bytes:
            raise StateTooLarge(key)  # nothing of this write is committed
        now = self._clock()
        if expected in (None, "*"):
            updated = await session.execute(
                update(BotStateRow)
                .where(BotStateRow.key == key)
                .values(data=data, etag=new_etag, updated_at=now)
                .execution_options(synchronize_session=False)  # no state rows are loaded as objects
            )
            if updated.rowcount == 0:
                try:
                    async with session.begin_nested():
                        session.add(BotStateRow(key=key, data=data, etag=new_etag, updated_at=now))
                except IntegrityError as error:  # someone inserted it first
                    raise EtagConflict(key) from error
        else:
            updated = await session.execute(
                update(BotStateRow)
                .where(BotStateRow.key == key, BotStateRow.etag == expected)
                .values(data=data, etag=new_etag, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if updated.rowcount == 0:
                raise EtagConflict(key)
        _set_etag(item, new_etag)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as session:
            await session.execute(delete(BotStateRow).where(BotStateRow.key.in_(keys)))
            await session.commit()
