"""SqlStorage against botbuilder's own storage contract tests, plus our e-tag rules."""

from __future__ import annotations

import pytest
from botbuilder.testing import StorageBaseTests

from services.clock import SettableClock
from storage.bot_state import EtagConflict, SqlStorage
from storage.db import make_engine, make_session_factory

CONTRACT = [
    "return_empty_object_when_reading_unknown_key",
    "handle_null_keys_when_reading",
    "handle_null_keys_when_writing",
    "does_not_raise_when_writing_no_items",
    "create_object",
    "handle_crazy_keys",
    "update_object",
    "delete_object",
    "delete_unknown_object",
    "perform_batch_operations",
    "proceeds_through_waterfall",
]


@pytest.mark.parametrize("name", CONTRACT)
async def test_botbuilder_storage_contract(storage: SqlStorage, name: str) -> None:
    assert await getattr(StorageBaseTests, name)(storage) is True


async def test_stale_etag_is_refused(storage: SqlStorage) -> None:
    await storage.write({"k": {"n": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["n"] = 2
    await storage.write({"k": first})
    second["n"] = 3
    with pytest.raises(EtagConflict):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_state_survives_a_new_engine(db_url: str, clock: SettableClock, storage: SqlStorage) -> None:
    await storage.write({"conv/1": {"dialog": ["step", 2]}})
    engine = make_engine(db_url)
    again = SqlStorage(make_session_factory(engine), clock)
    assert (await again.read(["conv/1"]))["conv/1"]["dialog"] == ["step", 2]
    await engine.dispose()
