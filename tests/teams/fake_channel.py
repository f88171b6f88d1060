"""A fake Teams channel: a Bot Connector server on 127.0.0.1 that records what the bot sends.

It can inject failures (429 with Retry-After, 5xx, 403 and 404 with or without Teams' error body), enforce Teams'
send limits (every window), open 1:1 chats (`POST /v3/conversations`) with people the app is `installed` for, and
stands in for the person's OneDrive in the file-consent flow: `upload_info` makes an upload URL that takes one PUT
of the whole file (Content-Range checked against the body), and `uploads` keeps what arrived.

Like the Bot Connector, it gives every sent activity an id, takes `PUT .../activities/{id}` (update: answers
`{"id"}`) and `DELETE .../activities/{id}`, both 404 for an id it never gave in that conversation, and keeps each
conversation's messages as they stand now (`current`), so a test sees what the person sees after cards change.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.test_utils import TestServer

_ROUTE = re.compile(
    r"^(?P<prefix>.*?)/?v3/conversations"
    r"(?:/(?P<conv>[^/]+)(?:/(?P<kind>activities|members)(?:/(?P<item>[^/]+))?)?)?/?$"
)


@dataclass
class Received:
    """One call the bot made to the channel."""

    method: str
    op: str  # send | reply | update | delete | create | members
    conversation_id: str
    activity: dict[str, Any]
    authorization: str | None
    prefix: str
    id: str = ""  # the id the channel gave a sent activity (for update and delete: the id in the URL)
    proactive: bool = False  # sent while no activity was being posted to the bot: the bot wrote first

    @property
    def text(self) -> str:
        """The message text, or '' when it has none."""
        return str(self.activity.get("text") or "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        """Adaptive/hero card contents attached to the activity."""
        return [a.get("content") or {} for a in self.activity.get("attachments") or [] if "card" in a.get("contentType", "")]

    @property
    def attachments(self) -> list[dict[str, Any]]:
        """All attachments."""
        return list(self.activity.get("attachments") or [])


@dataclass
class Fault:
    """A failure to answer instead of success."""

    status: int
    retry_after: str | None = None
    conversation_id: str | None = None
    code: str | None = None  # the error code in the body; None = an answer with no body at all
    content_type: str | None = None  # fail only a send carrying an attachment of this type


@dataclass
class Limits:
    """Teams' send limits (msteams-docs rate-limit.md): (sends, seconds) windows per conversation, and per tenant
    (here the service URL's prefix), on `clock` (tests inject theirs)."""

    conversation: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
    tenant: tuple[tuple[int, float], ...] = ((50, 1.0),)
    clock: Callable[[], float] = field(default=lambda: asyncio.get_running_loop().time())


class FakeTeamsChannel:
    """Start with `await channel.start()`; `channel.url` is the serviceUrl to put in activities."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.received: list[Received] = []
        self.faults: deque[Fault] = deque()
        self.limits = limits
        self.rejected_429 = 0
        self.empty_answers = False  # answer sends 202 with no body, as the Agents Playground does for files
        self.members: dict[str, list[dict[str, Any]]] = {}
        # People the app is installed for (aad ids) although they never wrote: `POST /v3/conversations` opens a 1:1
        # chat with them; with anyone else Teams refuses (403), as the bot is in no conversation with them.
        self.installed: set[str] = set()
        self.uploads: dict[str, bytes] = {}  # by the upload's uniqueId
        self.turns = 0  # activities being posted to the bot right now (tests/teams/client.py counts them)
        self.upload_status: int | None = None  # answer uploads with this instead (e.g. 500)
        self._ids = itertools.count(1)
        self._messages: dict[str, dict[str, Received]] = defaultdict(dict)  # per conversation, by id, as they stand
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        """Base serviceUrl of the fake channel."""
        assert self._server is not None
        return str(self._server.make_url("/"))

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_put("/upload/{unique_id}", self._upload)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    def fail_next(self, status: int, *, times: int = 1, retry_after: str | None = None,
                  conversation_id: str | None = None, code: str | None = "", content_type: str | None = None) -> None:
        """Answer the next `times` sends (into `conversation_id`, carrying a `content_type` attachment, if given)
        with `status` instead of success; `code=None` answers with no body."""
        body_code = f"Status{status}" if code == "" else code
        self.faults.extend(Fault(status, retry_after, conversation_id, body_code, content_type) for _ in range(times))

    def upload_info(self, name: str) -> dict[str, str]:
        """What Teams puts in `value.uploadInfo` when the person presses Allow on a file-consent card."""
        unique_id = f"file-{next(self._ids)}"
        return {"name": name, "uploadUrl": f"{self.url}upload/{unique_id}", "uniqueId": unique_id,
                "contentUrl": f"https://contoso-my.sharepoint.com/personal/me/Documents/Microsoft%20Teams%20Chat%20Files/{name}",
                "fileType": name.rsplit(".", 1)[-1]}

    async def _upload(self, request: web.Request) -> web.Response:
        """One PUT of the whole file, as the bot must send it: `Content-Range: bytes 0-{n-1}/{n}` with n bytes."""
        body = await request.read()
        expected = f"bytes 0-{len(body) - 1}/{len(body)}"
        if request.headers.get("Content-Range") != expected or not body:
            return web.json_response({"error": {"code": "InvalidRange", "expected": expected}}, status=416)
        if self.upload_status is not None:
            return web.json_response({"error": {"code": "UploadFailed"}}, status=self.upload_status)
        unique_id = request.match_info["unique_id"]
        self.uploads[unique_id] = body
        return web.json_response({"id": unique_id, "size": len(body)}, status=201)

    @property
    def silent(self) -> list[Received]:
        """Messages the bot wrote first (not replies in a turn) with no notification text: Teams' activity feed and
        mobile push would show nothing meaningful (`summary` or `text` must say what it is about)."""
        return [r for r in self.received if r.proactive and r.op == "send"
                and r.activity.get("type", "message") == "message"
                and not (r.activity.get("summary") or r.activity.get("text"))]

    def to(self, conversation_id: str) -> list[Received]:
        """Messages sent into one conversation."""
        return [r for r in self.received if r.conversation_id == conversation_id and r.op in ("send", "reply")]

    def current(self, conversation_id: str) -> list[Received]:
        """What the person sees now: every message of the conversation in order, updated ones as updated, deleted gone."""
        return list(self._messages[conversation_id].values())

    def updates(self, conversation_id: str) -> list[Received]:
        """The updates (PUT) the bot made in one conversation."""
        return [r for r in self.received if r.conversation_id == conversation_id and r.op == "update"]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `count` calls have arrived (a guard, not a sleep)."""
        await self.wait_until(lambda: len(self.received) >= count, timeout)
        return self.received

    async def wait_until(self, ready: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `ready()` is true of what has arrived (checked as each call arrives)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(ready), timeout)

    def _fault_for(self, conversation_id: str, body: Any) -> Fault | None:
        types = {a.get("contentType") for a in body.get("attachments") or []} if isinstance(body, dict) else set()
        for fault in list(self.faults):
            if fault.conversation_id in (None, conversation_id) and fault.content_type in (None, *types):
                self.faults.remove(fault)
                return fault
        return None

    def _over_limit(self, conversation_id: str, prefix: str) -> bool:
        if self.limits is None:
            return False
        now = self.limits.clock()
        keys = [(f"c:{conversation_id}:{period}", limit, period) for limit, period in self.limits.conversation]
        keys += [(f"t:{prefix}:{period}", limit, period) for limit, period in self.limits.tenant]
        for key, limit, period in keys:
            window = self._windows[key]
            while window and now - window[0] >= period:
                window.popleft()
            if len(window) >= limit:
                return True
        for key, _, _ in keys:
            self._windows[key].append(now)
        return False

    def _create(self, body: Any) -> web.Response | str:
        """`POST /v3/conversations` as Teams answers it for a 1:1 chat: the new conversation's id, or the refusal."""
        members = body.get("members") if isinstance(body, dict) else None
        tenant = body.get("tenantId") if isinstance(body, dict) else None
        if body.get("isGroup") or not tenant or not isinstance(members, list) or len(members) != 1 \
                or not (body.get("bot") or {}).get("id") or not (members[0] or {}).get("id"):
            return web.json_response({"error": {"code": "BadArgument", "message": "isGroup false, tenantId, bot and "
                                                "one member are required"}}, status=400)
        member = members[0]
        if str(member.get("aadObjectId") or member["id"]).lower() not in self.installed:
            return web.json_response({"error": {"code": "BotNotInConversationRoster",
                                                "message": "The bot is not part of the conversation roster."}}, status=403)
        return f"a:created-{next(self._ids)}"

    async def _handle(self, request: web.Request) -> web.Response:
        match = _ROUTE.match("/" + request.match_info["tail"])
        if match is None:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        conv = unquote(match["conv"] or "")
        body = await request.json() if request.can_read_body else {}
        op = _op(request.method, match["kind"], match["item"], bool(match["conv"]))
        if op == "members" and match["item"]:
            return self._member(conv, unquote(match["item"]))
        if op == "members":
            return web.json_response(self.members.get(conv, []))
        fault = self._fault_for(conv, body) if op in ("send", "reply", "create") else None
        if fault is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.code is None:
                return web.Response(status=fault.status, headers=headers)
            return web.json_response({"error": {"code": fault.code}}, status=fault.status, headers=headers)
        if op in ("send", "reply") and self._over_limit(conv, match["prefix"]):
            self.rejected_429 += 1
            return web.json_response({"error": {"code": "TooManyRequests"}}, status=429, headers={"Retry-After": "1"})
        item = unquote(match["item"] or "")
        if op in ("update", "delete") and item not in self._messages[conv]:
            return web.json_response({"error": {"code": "ActivityNotFoundInConversation"}}, status=404)
        created = self._create(body) if op == "create" else None
        if isinstance(created, str):
            conv = created
        message_id = item if op in ("update", "delete") else f"msg-{next(self._ids)}"
        record = Received(request.method, op, conv, body if isinstance(body, dict) else {},
                          request.headers.get("Authorization"), match["prefix"], message_id, proactive=self.turns == 0)
        async with self._changed:
            self.received.append(record)  # a refused create too (its conversation_id is "")
            self._keep(record)
            self._changed.notify_all()
        if isinstance(created, web.Response):
            return created
        if op == "create":
            return web.json_response({"id": conv}, status=201)
        if op == "delete":
            return web.Response(status=200)
        if self.empty_answers and op != "update":
            return web.Response(status=202)
        return web.json_response({"id": message_id}, status=200)

    def _keep(self, record: Received) -> None:
        """The conversation as it stands: a send adds a message, an update replaces it in place, a delete removes it."""
        messages = self._messages[record.conversation_id]
        if record.op == "delete":
            del messages[record.id]
        elif record.op in ("send", "reply", "update"):
            messages[record.id] = record

    def _member(self, conv: str, member_id: str) -> web.Response:
        """GET .../members/{id}: from `members` when the test set the conversation's members (404 when not among
        them), else the sender of a chat as Teams reports an ordinary member of the tenant."""
        if conv not in self.members:
            return web.json_response({"id": member_id, "userRole": "user"})
        for member in self.members[conv]:
            if member.get("id") == member_id:
                return web.json_response(member)
        return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)


def _op(method: str, kind: str | None, item: str | None, has_conv: bool) -> str:
    if not has_conv:
        return "create"
    if kind == "members":
        return "members"
    if method == "PUT":
        return "update"
    if method == "DELETE":
        return "delete"
    return "reply" if item else "send"
