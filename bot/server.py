"""The aiohttp application: /api/messages, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator

from aiohttp import web

from bot.compat.inbound import parse_activity, tenant_of
from bot.runtime import Runtime, start_runtime
from config import Settings
from services.clock import Clock, system_clock
from storage.db import ping
from storage.migrate import at_head

log = logging.getLogger(__name__)

TEAMS_CHANNEL = "msteams"
RUNTIME = web.AppKey("runtime", Runtime)
TURN_SLOTS = web.AppKey("turn_slots", asyncio.Semaphore)


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    """The web app; the runtime starts with it and closes with it."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[TURN_SLOTS] = asyncio.Semaphore(settings.max_concurrent_turns)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = await start_runtime(settings, clock)
        app[RUNTIME] = runtime
        yield
        await runtime.close()

    async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
        # Sweeps at once (catch-up after downtime), then every REMINDER_SWEEP_SECONDS.
        scheduler = app[RUNTIME].scheduler
        scheduler.start()
        yield
        await scheduler.stop()

    app.cleanup_ctx.append(runtime_ctx)
    if settings.scheduler_enabled:
        app.cleanup_ctx.append(scheduler_ctx)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# Where a lone surrogate could come from (a false alarm costs only the full check).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# A "\u0000" escape in the JSON (an even run of backslashes before it are escaped backslashes, not the escape).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def messages(request: web.Request) -> web.Response:
    """Bot Framework inbound endpoint. At most MAX_CONCURRENT_TURNS requests are parsed and run at once: in a
    burst the rest wait as bytes, not as parsed activities."""
    if request.content_type != "application/json":
        return _problem(415, "expected application/json")
    async with request.app[TURN_SLOTS]:
        return await _turn(request, request.app[RUNTIME])


async def _turn(request: web.Request, runtime: Runtime) -> web.Response:
    body = await request.read()  # over client_max_size -> 413
    try:
        raw = json.loads(body)
        if _SURROGATE_ESCAPE.search(body):
            # "\ud800" is valid JSON but not text: it would fail later, in the database or on the way out.
            json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError):
        return _problem(400, "malformed JSON")
    if _NUL_ESCAPE.search(body):
        return _problem(400, "text with a NUL character")  # PostgreSQL cannot store one; no real message has one
    activity = parse_activity(raw)
    if activity is None:
        return _problem(400, "not a Bot Framework activity")
    if activity.channel_id != TEAMS_CHANNEL:
        # Web Chat, Direct Line, the Emulator...: their ids are not Teams-authenticated identities.
        log.warning("rejected an activity from channel other than msteams")
        return _problem(403, "only Microsoft Teams may talk to this bot")
    try:
        auth = await runtime.adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization")  # None = no header (botbuilder treats "" differently)
        )
    except Exception as error:  # noqa: BLE001 - any failure to authenticate is a 401, never a 500
        log.warning("rejected request: %s", type(error).__name__)
        return _problem(401, "unauthorized")
    if not runtime.settings.tenant_allowed(tenant_of(activity)):
        log.warning("rejected activity from a tenant not in ALLOWED_TENANTS")
        return _problem(403, "tenant not allowed")
    invoke = await runtime.adapter.process_activity(auth, activity, runtime.bot.on_turn)
    if invoke is not None:
        return web.json_response(invoke.body, status=invoke.status)
    return web.Response(status=201)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, else 503."""
    ok = await ping(request.app[RUNTIME].engine)
    return web.json_response({"status": "ok" if ok else "database unreachable"}, status=200 if ok else 503)


async def readyz(request: web.Request) -> web.Response:
    """200 when the database is at this code's schema revision; 503 when it is unreachable or at another revision
    (a newer version has upgraded it: a load balancer then stops sending this instance turns). An instance that is
    upgrading the schema is not listening yet, so its checks fail too."""
    ready = await at_head(request.app[RUNTIME].engine)
    return web.json_response({"status": "ready" if ready else "not ready"}, status=200 if ready else 503)
