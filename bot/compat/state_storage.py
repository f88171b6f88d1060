"""botbuilder `Storage` on SQL with e-tag concurrency (conversation and user state)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.core import Storage, StoreItem
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.compat import state_codec
from storage.db import table_of
from storage.models import MAX_ITEM_BYTES, BotStateRow


class EtagConflict(KeyError):
    """Raised when a write carries an e-tag that is no longer current."""




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


# Built once: every turn reads and writes its conversation's state, and a statement built per call costs more
# than running it (SQLAlchemy coerces and keys it each time). Core, not the ORM: no state row is an object.
_TABLE = table_of(BotStateRow)
_KEY, _DATA, _ETAG = _TABLE.c.key, _TABLE.c.data, _TABLE.c.etag
_READ_ONE = select(_KEY, _DATA, _ETAG).where(_KEY == bindparam("b_key"))
_KEYS_IN = _KEY.in_(bindparam("b_keys", expanding=True))
_READ_MANY = select(_KEY, _DATA, _ETAG).where(_KEYS_IN)
_NEW_VALUES: dict[str, Any] = {"data": bindparam("b_data"), "etag": bindparam("b_etag"), "updated_at": bindparam("b_at")}
_UPSERT = update(_TABLE).where(_KEY == bindparam("b_key")).values(_NEW_VALUES)
_UPDATE_IF = update(_TABLE).where(_KEY == bindparam("b_key"), _ETAG == bindparam("b_expected")).values(_NEW_VALUES)
_INSERT = insert(_TABLE).values(key=bindparam("b_key"), **_NEW_VALUES)
_DELETE = delete(_TABLE).where(_KEYS_IN)


class SqlStorage(Storage):
    """Stores items as JSON (bot.compat.state_codec); e-tag `*` or none means upsert, any other must match."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], datetime], max_item_bytes: int = MAX_ITEM_BYTES) -> None:
        self._engine = engine
        self._clock = clock
        self._max_item_bytes = max_item_bytes

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if keys is None:
            raise ValueError("Keys are required when reading")
        return {key: item for key, (item, _stored) in (await self.read_stored(keys)).items()}

    async def read_stored(self, keys: list[str], conn: AsyncConnection | None = None) -> dict[str, tuple[Any, str]]:
        """Each item found, with the text it is stored as (what `encode_item` gives while it is unchanged);
        on `conn` if given (a turn reads its state on the connection that identified the sender)."""
        keys = list(keys)
        if not keys:
            return {}
        query, params = (_READ_ONE, {"b_key": keys[0]}) if len(keys) == 1 else (_READ_MANY, {"b_keys": keys})
        if conn is not None:
            rows = (await conn.execute(query, params)).all()
        else:
            async with self._engine.connect() as own:
                rows = (await own.execute(query, params)).all()
        found: dict[str, tuple[Any, str]] = {}
        for key, data, etag in rows:
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
        async with self._engine.begin() as conn:  # all or nothing
            for key, item in changes.items():
                await self._write_one(conn, key, item, self.encode_item(item))

    async def write_encoded(self, key: str, item: Any, data: str, conn: AsyncConnection | None = None) -> None:
        """`write({key: item})` when the caller already has `encode_item(item)`; on `conn` if given (a turn writes
        its state in the transaction that marks its activity handled), left for the caller to commit."""
        if conn is not None:
            await self._write_one(conn, key, item, data)
            return
        async with self._engine.begin() as own:
            await self._write_one(own, key, item, data)

    async def _write_one(self, conn: AsyncConnection, key: str, item: Any, data: str) -> None:
        expected = _etag_of(item)
        if expected == "":
            raise ValueError("storage.write(): etag missing")
        if len(data.encode()) > self._max_item_bytes:
            raise StateTooLarge(key)  # nothing of this write is committed
        etag = uuid.uuid4().hex
        params = {"b_key": key, "b_data": data, "b_etag": etag, "b_at": self._clock()}
        if expected in (None, "*"):
            if (await conn.execute(_UPSERT, params)).rowcount == 0:
                try:
                    await conn.execute(_INSERT, params)
                except IntegrityError as error:  # someone inserted it first (the transaction is rolled back)
                    raise EtagConflict(key) from error
        elif (await conn.execute(_UPDATE_IF, {**params, "b_expected": expected})).rowcount == 0:
            raise EtagConflict(key)
        _set_etag(item, etag)

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._engine.begin() as conn:
            await conn.execute(_DELETE, {"b_keys": list(keys)})
