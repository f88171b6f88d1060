"""bot.compat.state_codec round-trips what botbuilder stores exactly as jsonpickle did, and reads jsonpickle rows."""

from __future__ import annotations

import json
from typing import Any

import jsonpickle
from botbuilder.dialogs import DialogInstance, DialogState, PromptOptions
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.schema import Activity, Attachment, CardAction

from bot.compat import state_codec
from dialogs.kit.cards import notice_card
from dialogs.kit.replies import card_activity


class Poco:
    """A class botbuilder doesn't own: left to jsonpickle."""

    def __init__(self, n: int) -> None:
        self.n = n


def conversation_state() -> dict[str, Any]:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Café — ünïcode"}]}
    prompt = Activity(type="message", text="When?", attachments=[Attachment(content_type="x/card", content=card)])
    options = PromptOptions(prompt=prompt, retry_prompt=Activity(type="message", text="Again?"), style=ListStyle.hero_card,
                            choices=[Choice("Yes", action=CardAction(type="imBack", title="Yes", value="yes"))])
    stack = [DialogInstance("BreachReportDialog", {"stepIndex": 2, "values": {"what": "a lost laptop", "n": 1.5}}),
             DialogInstance("CardPrompt", {"options": options, "state": {}})]
    return {"DialogState": DialogState(stack), "Welcomed": True, "odd": {"pair": (1, 2), 3: "int key", "$obj": "clash"},
            "poco": Poco(4), "nothing": None}


def same(a: Any, b: Any) -> bool:
    return jsonpickle.encode(a) == jsonpickle.encode(b)


def test_round_trip_matches_jsonpickle() -> None:
    state = conversation_state()
    back = state_codec.decode(state_codec.encode(state))
    assert same(back, state)
    assert same(back, jsonpickle.decode(jsonpickle.encode(state)))
    assert isinstance(back["DialogState"].dialog_stack[1].state["options"].prompt, Activity)
    assert back["DialogState"].dialog_stack[1].state["options"].style is ListStyle.hero_card
    assert back["odd"]["pair"] == (1, 2)
    assert back["poco"].n == 4


def test_botbuilder_objects_are_not_jsonpickled() -> None:
    stored = state_codec.encode({"DialogState": DialogState([DialogInstance("d", {"values": {}})])})
    assert "py/object" not in stored and state_codec.PICKLED not in stored
    assert json.loads(stored)[state_codec.VERSION] == 1


def test_a_sent_card_in_a_prompt_is_stored_as_its_plain_dict() -> None:
    prompt = card_activity(notice_card("When?", "Give the date."))
    stored = state_codec.encode({"DialogState": DialogState([DialogInstance("p", {"options": PromptOptions(prompt=prompt)})])})
    assert state_codec.PICKLED not in stored
    back = state_codec.decode(stored)["DialogState"].dialog_stack[0].state["options"].prompt.attachments[0].content
    assert type(back) is dict and back == prompt.attachments[0].content


def test_old_jsonpickle_rows_still_read() -> None:
    state = conversation_state()
    assert same(state_codec.decode(jsonpickle.encode(state)), state)


def test_accented_text_is_stored_escaped() -> None:
    assert state_codec.encode({"t": "é"}).isascii()


def test_a_dict_held_twice_is_stored_once_and_shared_again() -> None:
    answers = {"what": "x" * 1000}
    state = {"DialogState": DialogState([DialogInstance("d", {"values": answers}), DialogInstance("p", {"options": answers})])}
    stored = state_codec.encode(state)
    assert stored.count("x" * 1000) == 1
    back = state_codec.decode(stored)["DialogState"].dialog_stack
    assert back[0].state["values"] is back[1].state["options"]


def test_a_state_that_holds_itself_is_left_to_jsonpickle() -> None:
    looped: dict[str, Any] = {"n": 1}
    looped["self"] = looped
    back = state_codec.decode(state_codec.encode(looped))
    assert back["self"] is back and back["n"] == 1


def test_only_a_dict_json_cannot_hold_is_jsonpickled() -> None:
    stored = json.loads(state_codec.encode(conversation_state()))["item"]
    assert stored["odd"].keys() == {state_codec.PICKLED}  # int keys and a marker key: that dict alone
    assert stored["DialogState"][state_codec.OBJECT] == "botbuilder.dialogs.dialog_state:DialogState"


def test_a_loop_through_a_jsonpickled_dict_is_left_to_jsonpickle_whole() -> None:
    looped: dict[str, Any] = {"n": 1}
    looped["odd"] = {3: [looped]}  # an int key: that dict is jsonpickled, and it leads back to the top
    stored = state_codec.encode(looped)
    assert json.loads(stored)["item"].keys() == {state_codec.PICKLED}
    back = state_codec.decode(stored)
    assert back["odd"]["3"][0] is back  # jsonpickle keeps keys as text


def test_stored_text_is_stable_until_the_content_changes() -> None:
    """The conversation state is saved only when its text differs from what was loaded."""
    state = conversation_state()
    stored = state_codec.encode(state)
    assert state_codec.encode(state_codec.decode(stored)) == stored
    state["DialogState"].dialog_stack[0].state["values"]["what"] = "a lost phone"
    assert state_codec.encode(state) != stored
    looped: dict[str, Any] = {}
    looped["self"] = looped
    assert state_codec.encode(state_codec.decode(state_codec.encode(looped))) == state_codec.encode(looped)
