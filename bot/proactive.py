"""Writing first: send an activity to someone by their stored conversation reference, or open a 1:1 chat first.

Teams' limits (msteams-docs rate-limit.md: per conversation 7 sends/1 s, 8/2 s, 60/30 s, 1800/hour; per tenant
about 50/s) are kept by `SendLimiter`. Teams' answers (conversation-messages.md) decide what happens next: 412, 429
(after `Retry-After`, else exponential backoff with jitter), 502, 503 and 504 are tried again; 500 is not. 403
`BotDisabledByAdmin` means the school's admin blocked the app; any other 403 (`ConversationBlockedByUser`,
`BotNotInConversationRoster`, `ForbiddenOperationException`...) that the person can't be written to; 404
`ConversationNotFound` that the stored conversation is gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    InputHints,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.compat.connector import model_json

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Window = tuple[int, float]  # at most this many sends in this many seconds
CONVERSATION_WINDOWS: tuple[Window, ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TENANT_WINDOWS: tuple[Window, ...] = ((50, 1.0),)
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
APP_BLOCKED = "BotDisabledByAdmin"
CONVERSATION_GONE = "ConversationNotFound"
MAX_WAIT_SECONDS = 30.0  # a longer Retry-After, or a longer wait for a window, is left to a later sweep
IN_FLIGHT_POLL_SECONDS = 0.005


class Fate(StrEnum):
    """What Teams' answer to one send means."""

    SENT = "sent"
    RETRY = "retry"  # throttled, channel trouble, or no answer: try again later
    UNREACHABLE = "unreachable"  # this person blocked or removed the app
    APP_BLOCKED = "blocked"  # the school's admin blocked the app: nobody there can be written to
    GONE = "gone"  # the stored conversation no longer exists
    FAILED = "failed"  # refused for good (e.g. 400, 500)


@dataclass(frozen=True)
class SendResult:
    """What happened to one send; `status` 0 means the channel never answered."""

    ok: bool
    status: int
    retry_after: float | None = None
    error: str = ""
    activity_id: str | None = None  # the sent message's id (ResourceResponse.id), to update it later

    @property
    def fate(self) -> Fate:
        """Teams' answer read as the documented status codes say."""
        if self.ok:
            return Fate.SENT
        if self.status in RETRY_STATUSES or self.status == 0:
            return Fate.RETRY
        if self.status == 403:
            return Fate.APP_BLOCKED if self.error == APP_BLOCKED else Fate.UNREACHABLE
        if self.status == 404 and self.error == CONVERSATION_GONE:
            return Fate.GONE
        return Fate.FAILED

    @property
    def unreachable(self) -> bool:
        """This person can't be written to (they blocked or removed Custodian)."""
        return self.fate is Fate.UNREACHABLE

    @property
    def retryable(self) -> bool:
        """Worth trying again later (throttled, channel trouble, or no answer); never a 500."""
        return self.fate is Fate.RETRY


class Throttled(Exception):
    """One more send would break a Teams window for longer than is worth waiting now."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"throttled for {seconds:.0f}s")
        self.seconds = seconds


class SendLimiter:
    """Sliding-window limits per conversation and per tenant, on the event loop's monotonic time.

    A send counts from when it is let go until its answer comes back, and then from that moment: Teams
    counts it when it arrives, somewhere in between, so a send held up on its way (network, a busy event
    loop) can't squeeze one more into Teams' window.
    """

    def __init__(self, conversation: Sequence[Window] = CONVERSATION_WINDOWS, tenant: Sequence[Window] = TENANT_WINDOWS,
                 *, time: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep,
                 max_wait: float = MAX_WAIT_SECONDS) -> None:
        self._windows = {"c": tuple(conversation), "t": tuple(tenant)}
        self._time = time or (lambda: asyncio.get_running_loop().time())
        self._sleep = sleep
        self._max_wait = max_wait
        self._done: dict[tuple[str, float], deque[float]] = defaultdict(deque)  # when each recent send was answered
        self._in_flight: dict[tuple[str, float], int] = defaultdict(int)

    @asynccontextmanager
    async def slot(self, tenant_id: str, conversation_id: str) -> AsyncIterator[None]:
        """Wait until one more send fits in every window; it counts until, and from, the end of the block.
        Raises `Throttled` when that would take longer than `max_wait` (the send is left to a later sweep)."""
        keys = [((f"{scope}:{name}", period), limit)
                for scope, name in (("t", tenant_id), ("c", conversation_id)) for limit, period in self._windows[scope]]
        while (wait := self._wait(keys)) > 0:
            if wait > self._max_wait:
                raise Throttled(wait)
            await self._sleep(wait)
        for key, _ in keys:
            self._in_flight[key] += 1
        try:
            yield
        finally:
            now = self._time()
            for key, _ in keys:
                self._in_flight[key] -= 1
                self._done[key].append(now)

    def _wait(self, keys: list[tuple[tuple[str, float], int]]) -> float:
        """Seconds until a send fits (0 = now)."""
        now = self._time()
        wait = 0.0
        for key, limit in keys:
            period = key[1]
            done = self._done[key]
            while done and now - done[0] >= period - 1e-9:  # (float rounding of an exact wait)
                done.popleft()
            over = len(done) + self._in_flight[key] - limit  # sends that must leave the window first, less one
            if over >= 0:
                # The oldest answered ones leave the window first; if those in flight block, look again shortly.
                wait = max(wait, done[over] + period - now if over < len(done) else IN_FLIGHT_POLL_SECONDS)
        return wait


def shared(windows: Sequence[Window], share: Callable[[int], int]) -> tuple[Window, ...]:
    """This process's part of each window, when several app processes send for the same bot."""
    return tuple((share(limit), period) for limit, period in windows)


class ProactiveSender:
    """Sends with the adapter's connector clients; never raises for the failures Teams is known to answer with."""

    def __init__(self, adapter: CloudAdapter, app_id: str, *, limiter: SendLimiter | None = None,
                 sleep: Sleep = asyncio.sleep, tries: int = 4, backoff_seconds: float = 1.0) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.limiter = limiter
        self.sleep = sleep  # waits between retries; tests record instead of waiting
        self.tries = tries
        self.backoff_seconds = backoff_seconds

    async def send(self, reference_json: str, activity: Activity) -> SendResult:
        """Send `activity` into the conversation `reference_json` points at, retrying what is worth it."""
        reference, tenant = _parse_reference(reference_json)
        conversation = reference.conversation.id if reference.conversation else ""
        result = SendResult(ok=False, status=0, error="NotTried")
        for attempt in range(self.tries):
            try:
                async with self.limiter.slot(tenant, conversation) if self.limiter else nullcontext():
                    result = await self._send_once(reference, activity)
            except Throttled as throttled:  # Teams would answer 429: wait for a later sweep instead
                return SendResult(ok=False, status=429, retry_after=throttled.seconds, error="ConversationLimit")
            if not result.retryable or attempt == self.tries - 1:
                break
            delay = result.retry_after if result.retry_after is not None else self._backoff(attempt)
            if delay > MAX_WAIT_SECONDS:
                break
            log.info("send to conversation %s answered %s; retrying in %.1fs", conversation, result.status, delay)
            await self.sleep(delay)
        return result

    async def open_chat(self, known_json: str, aad_id: str) -> tuple[str | None, SendResult]:
        """`conversations.create` (POST /v3/conversations): a 1:1 chat with someone who has never written to the
        bot, in the school and on the service URL of `known_json` (anyone's stored reference there). Teams opens it
        only when the app is installed for them (e.g. by the school's app setup policy). Returns the new chat's
        reference (as `services.identity` stores them) and the answer."""
        known, tenant = _parse_reference(known_json)
        parameters = _TeamsConversationParameters(
            is_group=False, bot=known.bot, members=[ChannelAccount(id=aad_id, aad_object_id=aad_id)],
            tenant_id=tenant, channel_data={"tenant": {"id": tenant}},
        )
        try:
            client = await self._client(known.service_url)
            created = await client.conversations.create_conversation(parameters)
        except HttpOperationError as error:
            return None, _from_http_error(error)
        except (ClientRequestError, aiohttp.ClientError, TimeoutError, OSError) as error:
            return None, SendResult(ok=False, status=0, error=type(error).__name__)
        except Exception:  # a bug of ours or botbuilder's must not stop the sweep: logged, tried again later
            log.exception("opening a chat in tenant %s failed", tenant)
            return None, SendResult(ok=False, status=0, error="UnexpectedError")
        if not getattr(created, "id", None):
            return None, SendResult(ok=False, status=0, error="NoConversationId")
        reference = ConversationReference(
            bot=known.bot, user=ChannelAccount(id=aad_id, aad_object_id=aad_id), channel_id=known.channel_id,
            service_url=known.service_url, conversation=ConversationAccount(id=created.id, conversation_type="personal"),
        )
        return json.dumps({**model_json(reference), "tenantId": tenant}), SendResult(ok=True, status=201)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: 1s, 2s, 4s ... each scaled by 0.5-1.0."""
        return self.backoff_seconds * (2**attempt) * random.uniform(0.5, 1.0)

    async def _send_once(self, reference: ConversationReference, activity: Activity) -> SendResult:
        try:
            sent_id = await self._post(reference, activity)
        except HttpOperationError as error:
            return _from_http_error(error)
        except (ClientRequestError, aiohttp.ClientError, TimeoutError, OSError) as error:
            return SendResult(ok=False, status=0, error=type(error).__name__)
        except Exception:  # a bug of ours or botbuilder's: logged (bot.logs keeps its message out), tried again later
            log.exception("sending to conversation %s failed", reference.conversation.id if reference.conversation else "")
            return SendResult(ok=False, status=0, error="UnexpectedError")
        return SendResult(ok=True, status=200, activity_id=sent_id)

    async def _post(self, reference: ConversationReference, activity: Activity) -> str | None:
        """What `adapter.continue_conversation` and `send_activity` post, without the turn around them.

        botbuilder would build a turn (context, middleware, user token client) and deep-copy the activity,
        which cost more CPU than the send itself when thousands of reminders fall due together.
        """
        client = await self._client(reference.service_url)
        outgoing = TurnContext.apply_conversation_reference(activity, reference)  # as a reply, like botbuilder
        outgoing.id = None
        outgoing.input_hint = outgoing.input_hint or InputHints.accepting_input
        if outgoing.reply_to_id:
            response = await client.conversations.reply_to_activity(outgoing.conversation.id, outgoing.reply_to_id, outgoing)
        else:
            response = await client.conversations.send_to_conversation(outgoing.conversation.id, outgoing)
        return sent_id(response)

    async def _client(self, service_url: str) -> Any:
        """The connector client botbuilder would use for `service_url` (pooled, see bot.compat.connector)."""
        claims = self.adapter.create_claims_identity(self.app_id)
        factory = self.adapter.bot_framework_authentication.create_connector_factory(claims)
        return await factory.create(service_url, None)


def sent_id(response: object) -> str | None:
    """The id the channel gave a sent message (None when it answered without one, e.g. 202 with no body)."""
    found = getattr(response, "id", None)
    return found if isinstance(found, str) and found else None


class _TeamsConversationParameters(ConversationParameters):  # type: ignore[misc]
    """botbuilder-schema writes the tenant as "tenantID"; the Bot Connector API (and Teams) reads "tenantId"."""

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        **ConversationParameters._attribute_map, "tenant_id": {"key": "tenantId", "type": "str"}}


_TeamsConversationParameters.__name__ = "ConversationParameters"  # what the serializer sends as it is (bot.compat.connector)


@lru_cache(maxsize=4096)
def _parse_reference(reference_json: str) -> tuple[ConversationReference, str]:
    """A stored conversation reference and its tenant, parsed once per text (people get many reminders)."""
    raw = json.loads(reference_json)
    return ConversationReference().deserialize(raw), str(raw.get("tenantId") or "")


def _from_http_error(error: HttpOperationError) -> SendResult:
    """Status, Retry-After and error code from a Bot Connector error answer."""
    response: Any = error.response
    status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
    headers = getattr(response, "headers", None) or {}
    code = getattr(getattr(error.error, "error", None), "code", None) or f"Http{status}"
    return SendResult(ok=False, status=status, retry_after=_seconds(headers.get("Retry-After")), error=str(code)[:80])


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (Teams sends seconds; an HTTP date is treated as absent)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
