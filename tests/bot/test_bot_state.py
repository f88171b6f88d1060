"""SqlStorage against botbuilder's own storage contract tests, plus our e-tag rules and when state is written."""

from __future__ import annotations

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from botbuilder.testing import StorageBaseTests

from bot.compat.state_storage import EtagConflict, SqlStorage
from bot.state import CustodianConversationState
from services.clock import SettableClock
from storage.db import make_engine

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
    again = SqlStorage(engine, clock)
    assert (await again.read(["conv/1"]))["conv/1"]["dialog"] == ["step", 2]
    await engine.dispose()


def _turn() -> TurnContext:
    activity = Activity(type=ActivityTypes.message, channel_id="msteams", text="hi",
                        conversation=ConversationAccount(id="a:conv"), from_property=ChannelAccount(id="29:user"))
    return TurnContext(TestAdapter(), activity)


async def _etag(storage: SqlStorage, key: str) -> str | None:
    found = await storage.read_stored([key])
    return found[key][0]["e_tag"] if found else None


async def test_conversation_state_is_written_only_when_it_changed(storage: SqlStorage) -> None:
    state = CustodianConversationState(storage)
    steps = state.create_property("steps")

    async def turn(change: bool) -> str | None:
        context = _turn()
        await state.load(context)
        value = await steps.get(context, lambda: {"n": 0})
        if change:
            value["n"] += 1
        await state.save_changes(context)
        return await _etag(storage, state.get_storage_key(context))

    first = await turn(change=False)  # the property's first value is stored
    assert first is not None
    assert await turn(change=False) == first
    changed = await turn(change=True)
    assert changed not in (None, first)
    assert await turn(change=False) == changed
