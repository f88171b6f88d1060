"""A Microsoft 365 Agents SDK echo agent in anonymous mode, as its samples build one.

Runs only in the bench-only venv `bench/.venv-agents` (`microsoft-agents-hosting-aiohttp`):
`bench/.venv-agents/bin/python bench/echo_agents.py --port N`. Imports nothing from this project.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
from microsoft_agents.hosting.core import (
    AgentApplication,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    MemoryStorage,
    TurnContext,
    TurnState,
)


def build_app() -> web.Application:
    """AgentApplication with MemoryStorage echoing each message; no client id, anonymous requests allowed."""
    config = AgentAuthConfiguration(ANONYMOUS_ALLOWED=True)
    # No client id: the SDK answers anonymous requests with its anonymous token provider (no token sent).
    connections = ConnectionManager(lambda _config: AnonymousTokenProvider(), {"SERVICE_CONNECTION": config})
    adapter = CloudAdapter(connection_manager=connections)
    agent = AgentApplication[TurnState](storage=MemoryStorage(), adapter=adapter, connection_manager=connections)

    @agent.activity("message")
    async def on_message(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"Echo: {context.activity.text or ''}")

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await start_agent_process(request, agent, adapter)
        return response if response is not None else web.Response(status=202)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=[jwt_authorization_middleware])
    app["agent_configuration"] = config
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    """Serve on 127.0.0.1:--port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
