"""Personal-data flows stay out of group chats and channels."""

from __future__ import annotations

import pytest

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
