"""Posts real Teams activity JSON to the bot over HTTP and reads what the fake channel received."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.teams.fake_channel import FakeTeamsChannel, Received

ACTIVITIES = Path(__file__).resolve().parent / "activities"
_ids = itertools.count(1)


def load_activity(name: str) -> dict[str, Any]:
    """One of the real payloads in tests/teams/activities/ (see SOURCES.txt there)."""
    return json.loads((ACTIVITIES / name).read_text())


def all_activity_files() -> list[Path]:
    """Every real payload file."""
    return sorted(ACTIVITIES.glob("*.json"))


@dataclass(frozen=True)
class TeamsUser:
    """A person in a school, with their 1:1 chat with the bot."""

    name: str
    aad_id: str
    tenant_id: str

    @property
    def teams_id(self) -> str:
        return f"29:{self.aad_id}"

    @property
    def conversation_id(self) -> str:
        return f"a:personal-{self.tenant_id[:8]}-{self.aad_id}"


class TeamsClient:
    """Talks to the bot as Teams would, one user at a time."""

    def __init__(self, bot_url: str, channel: FakeTeamsChannel, http: aiohttp.ClientSession) -> None:
        self.bot_url = bot_url.rstrip("/") + "/api/messages"
        self.channel = channel
        self.http = http

    def message(self, user: TeamsUser, text: str | None = None, value: dict[str, Any] | None = None) -> dict[str, Any]:
        """A personal-chat message from `user`, shaped like the real Teams payload."""
        activity = copy.deepcopy(load_activity("personal_message_docs_megan.json"))
        activity["id"] = f"msg-{next(_ids)}"
        activity["serviceUrl"] = self.channel.url
        activity["from"] = {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_id}
        activity["conversation"] = {"conversationType": "personal", "id": user.conversation_id}
        activity["channelData"] = {"tenant": {"id": user.tenant_id}}
        activity["text"] = text or ""
        if value is not None:
            activity["value"] = value
        return activity

    def from_file(self, name: str, user: TeamsUser | None = None) -> dict[str, Any]:
        """A real payload file pointed at the fake channel (and optionally re-addressed to `user`)."""
        activity = load_activity(name)
        activity["serviceUrl"] = self.channel.url
        if user is not None:
            activity["from"] = {**activity.get("from", {}), "id": user.teams_id, "name": user.name,
                                "aadObjectId": user.aad_id}
            activity["conversation"] = {"conversationType": "personal", "id": user.conversation_id}
            activity["channelData"] = {**activity.get("channelData", {}), "tenant": {"id": user.tenant_id}}
        return activity

    async def post(self, activity: dict[str, Any] | bytes | str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """POST anything to /api/messages; returns (status, body)."""
        data = activity if isinstance(activity, (bytes, str)) else json.dumps(activity)
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        self.channel.turns += 1
        try:
            async with self.http.post(self.bot_url, data=data, headers=hdrs) as response:
                return response.status, await response.text()
        finally:
            self.channel.turns -= 1

    async def send(self, activity: dict[str, Any]) -> list[Received]:
        """POST an activity and return what the bot sent to that conversation during the turn (new messages; cards
        it updated in place are in `channel.updates` and `channel.current`)."""
        before = len(self.channel.received)
        status, body = await self.post(activity)
        assert status < 300, f"bot answered {status}: {body}"
        conv = activity.get("conversation", {}).get("id")
        return [r for r in self.channel.received[before:] if r.conversation_id == conv and r.op != "update"]

    async def say(self, user: TeamsUser, text: str) -> list[Received]:
        """The user types `text`; returns the bot's replies."""
        return await self.send(self.message(user, text))

    async def press(self, user: TeamsUser, data: dict[str, Any], *, on: Received | None = None) -> list[Received]:
        """The user presses a card button that submits `data` (on the message `on`: Teams then names that message
        in `replyToId`, as it does for every Action.Submit)."""
        activity = self.message(user, None, data)
        if on is not None:
            activity["replyToId"] = on.id
        return await self.send(activity)

    def file_consent(self, user: TeamsUser, consent: dict[str, Any], action: str) -> dict[str, Any]:
        """The `fileConsent/invoke` Teams sends when `user` presses Allow ("accept") or Decline on `consent`
        (a file-consent attachment the bot sent); Allow carries an upload URL on the fake channel."""
        activity = self.message(user)
        del activity["text"]
        card = consent.get("content") or {}
        value: dict[str, Any] = {"type": "fileUpload", "action": action,
                                 "context": card.get("acceptContext" if action == "accept" else "declineContext")}
        if action == "accept":
            value["uploadInfo"] = self.channel.upload_info(str(consent.get("name")))
        activity.update(type="invoke", name="fileConsent/invoke", value=value)
        return activity

    async def allow(self, user: TeamsUser, consent: dict[str, Any]) -> list[Received]:
        """`user` presses Allow on a file-consent card; returns the bot's replies."""
        return await self.send(self.file_consent(user, consent, "accept"))

    async def files(self, user: TeamsUser, replies: list[Received]) -> list[tuple[str, bytes]]:
        """`user` presses Allow on every file-consent card in `replies`: (name, bytes that reached OneDrive) each,
        checking the bot then shows the uploaded file's FileInfoCard."""
        found = []
        for consent in attachments_of(replies, FILE_CONSENT):
            upload = self.channel.upload_info(str(consent.get("name")))
            activity = self.file_consent(user, consent, "accept")
            activity["value"]["uploadInfo"] = upload
            [info] = attachments_of(await self.send(activity), FILE_INFO)
            assert info["contentUrl"] == upload["contentUrl"] and info["content"]["uniqueId"] == upload["uniqueId"]
            found.append((str(consent["name"]), self.channel.uploads[upload["uniqueId"]]))
        return found

    async def decline(self, user: TeamsUser, consent: dict[str, Any]) -> list[Received]:
        """`user` presses Decline on a file-consent card; returns the bot's replies."""
        return await self.send(self.file_consent(user, consent, "decline"))


FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def attachments_of(replies: list[Received], content_type: str) -> list[dict[str, Any]]:
    """Every attachment of one type in `replies`, in order."""
    return [a for reply in replies for a in reply.attachments if a.get("contentType") == content_type]


def card_actions(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button on a card, in order: its actions and those of the ActionSets in its body."""
    found = list(content.get("actions") or [])
    for element in content.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element.get("actions") or []
    return found


def ticked(card: dict[str, Any], codes: str) -> dict[str, str]:
    """What Teams submits for a card's checkboxes when the ones whose id ends ".<code>" (codes "a,b") are ticked:
    every Input.Toggle, ticked (valueOn) or not (valueOff)."""
    picked = set(codes.split(","))
    return {box["id"]: box.get("valueOn", "true") if box["id"].rsplit(".", 1)[-1] in picked else box.get("valueOff", "false")
            for box in card.get("body") or [] if box.get("type") == "Input.Toggle"}


def texts(replies: list[Received]) -> str:
    """Everything visible in replies (text and card text) as one string, for assertions."""
    parts: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        for card in reply.cards:
            parts.append(json.dumps(card, ensure_ascii=False))
    return "\n".join(parts)
