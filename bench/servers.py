"""The comparison servers: a bare aiohttp handler (the ceiling) and a stock botbuilder echo bot (the floor).

`python -m bench.servers bare --port N` or `python -m bench.servers botbuilder --port N`, on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import logging

from aiohttp import web


async def healthz(_request: web.Request) -> web.Response:
    """Readiness probe for the bench."""
    return web.json_response({"status": "ok"})


def bare_app() -> web.Application:
    """Parses the activity JSON and answers 200; sends no reply."""

    async def messages(request: web.Request) -> web.Response:
        activity = json.loads(await request.read())
        return web.Response(status=200 if isinstance(activity, dict) and activity.get("type") else 400)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def botbuilder_app() -> web.Application:
    """The botbuilder 4.17.1 echo sample: CloudAdapter, no app id, ConversationState on MemoryStorage."""
    from types import SimpleNamespace

    from botbuilder.core import ActivityHandler, ConversationState, MemoryStorage, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    class EchoBot(ActivityHandler):
        def __init__(self, state: ConversationState) -> None:
            self.state = state
            self.turns = state.create_property("Turns")

        async def on_turn(self, turn_context: TurnContext) -> None:
            await super().on_turn(turn_context)
            await self.state.save_changes(turn_context)

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await self.turns.set(turn_context, (await self.turns.get(turn_context, lambda: 0)) + 1)
            await turn_context.send_activity(f"Echo: {turn_context.activity.text or ''}")

    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = EchoBot(ConversationState(MemoryStorage()))

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    """Serve the chosen server on 127.0.0.1:--port."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("bare", "botbuilder"))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = bare_app() if args.kind == "bare" else botbuilder_app()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
