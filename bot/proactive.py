"""Writing first: send an activity to someone by their stored conversation reference.

Teams limits (7 sends/s per conversation, ~50/s per tenant) are kept by `SendLimiter`; 429 is
retried after `Retry-After` (else exponential backoff with jitter), as are 412/502/503/504.
403 means the user blocked or removed the bot: not retried, reported as unreachable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationReference, InputHints
from msrest.exceptions import ClientRequestError, HttpOperationError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
UNREACHABLE_STATUSES = frozenset({403})
MAX_WAIT_SECONDS = 30.0  # a longer Retry-After is left to a later sweep
WINDOW_SECONDS = 1.0  # Teams' window; each send counts from when its answer came back (see SendLimiter)
IN_FLIGHT_POLL_SECONDS = 0.005


@dataclass(frozen=True)
class SendResult:
    """What happened to one send; `status` 0 means the channel never answered."""

    ok: bool
    status: int
    unreachable: bool = False
    retry_after: float | None = None
    error: str = ""
    activity_id: str | None = None  # the sent message's id (ResourceResponse.id), to update it later

    @property
    def retryable(self) -> bool:
        """Worth trying again later (throttled, channel trouble, or no answer)."""
        return not self.ok and not self.unreachable and (self.status in RETRY_STATUSES or self.status == 0 or self.status >= 500)


class SendLimiter:
    """Sliding-window limits per conversation and per tenant, on the event loop's monotonic time.

    A send counts from when it is let go until its answer comes back, and then from that moment: Teams
    counts it when it arrives, somewhere in between, so a send held up on its way (network, a busy event
    loop) can't squeeze one more into Teams' window.
    """

    def __init__(self, per_conversation: int, per_tenant: int, *, period: float = WINDOW_SECONDS,
                 time: Callable[[], float] | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self._limits = {"c": per_conversation, "t": per_tenant}
        self._period = period
        self._time = time or (lambda: asyncio.get_running_loop().time())
        self._sleep = sleep
        self._done: dict[str, deque[float]] = defaultdict(deque)  # when each recent send was answered
        self._in_flight: dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def slot(self, tenant_id: str, conversation_id: str) -> AsyncIterator[None]:
        """Wait until one more send fits in both windows; it counts until, and from, the end of the block."""
        keys = ((f"t:{tenant_id}", self._limits["t"]), (f"c:{conversation_id}", self._limits["c"]))
        while (wait := self._wait(keys)) > 0:
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

    def _wait(self, keys: tuple[tuple[str, int], ...]) -> float:
        """Seconds until a send fits (0 = now)."""
        now = self._time()
        wait = 0.0
        for key, limit in keys:
            done = self._done[key]
            while done and now - done[0] >= self._period - 1e-9:  # (float rounding of an exact wait)
                done.popleft()
            over = len(done) + self._in_flight[key] - limit  # sends that must leave the window first, less one
            if over >= 0:
                # The oldest answered ones leave the window first; if those in flight block, look again shortly.
                wait = max(wait, done[over] + self._period - now if over < len(done) else IN_FLIGHT_POLL_SECONDS)
        return wait


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
            async with self.limiter.slot(tenant, conversation) if self.limiter else nullcontext():
                result = await self._send_once(reference, activity)
            if not result.retryable or attempt == self.tries - 1:
                break
            delay = result.retry_after if result.retry_after is not None else self._backoff(attempt)
            if delay > MAX_WAIT_SECONDS:
                break
            log.info("send to conversation %s answered %s; retrying in %.1fs", conversation, result.status, delay)
            await self.sleep(delay)
        return result

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
        claims = self.adapter.create_claims_identity(self.app_id)
        factory = self.adapter.bot_framework_authentication.create_connector_factory(claims)
        client = await factory.create(reference.service_url, None)
        outgoing = TurnContext.apply_conversation_reference(activity, reference)  # as a reply, like botbuilder
        outgoing.id = None
        outgoing.input_hint = outgoing.input_hint or InputHints.accepting_input
        if outgoing.reply_to_id:
            response = await client.conversations.reply_to_activity(outgoing.conversation.id, outgoing.reply_to_id, outgoing)
        else:
            response = await client.conversations.send_to_conversation(outgoing.conversation.id, outgoing)
        return sent_id(response)


def sent_id(response: object) -> str | None:
    """The id the channel gave a sent message (None when it answered without one, e.g. 202 with no body)."""
    found = getattr(response, "id", None)
    return found if isinstance(found, str) and found else None


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
    return SendResult(ok=False, status=status, unreachable=status in UNREACHABLE_STATUSES,
                      retry_after=_seconds(headers.get("Retry-After")), error=str(code)[:80])


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (Teams sends seconds; an HTTP date is treated as absent)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
