"""Personal-data flows stay out of group chats and channels."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.logs import JsonFormatter
from tests.teams.client import TeamsClient, TeamsUser, texts


@pytest.mark.parametrize("said", ["report a breach", "check consent", "open breaches", "status"])
async def test_private_flows_redirect_to_a_personal_chat(teams: TeamsClient, dpo_a: TeamsUser, said: str) -> None:
    activity = teams.from_file("message_channel_thread_reply_with_bot_mention_teamsnet_capture.json", dpo_a)
    activity["conversation"] = {"id": "19:group@thread.v2", "conversationType": "groupChat", "isGroup": True}
    activity["text"] = f"<at>ridotest</at> {said}"
    activity["entities"] = [
        {"type": "mention", "text": "<at>ridotest</at>", "mentioned": {"id": activity["recipient"]["id"], "name": "ridotest"}}
    ]
    reply = texts(await teams.send(activity))
    assert "1:1 chat" in reply
    assert "BR-" not in reply


def test_logged_errors_say_where_and_what_type_never_the_message() -> None:
    name = "".join(["Jo ", "Bloggs"])  # data, not in the source lines the trace quotes
    try:
        try:
            raise KeyError(name)
        except KeyError as error:
            raise ValueError(f"no row for {name}") from error
    except ValueError:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "turn failed: %s", ("id-7",), sys.exc_info())
    written = json.loads(JsonFormatter().format(record))
    assert (written["message"], written["error"]) == ("turn failed: id-7", "ValueError")
    assert "builtins.KeyError" in written["trace"] and "test_privacy.py" in written["trace"]
    assert "Jo Bloggs" not in json.dumps(written)
