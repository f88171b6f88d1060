"""`make chat`: talk to the bot in a terminal — the real server and dialogs, the same database.

The bot runs in this process on 127.0.0.1; a tiny stand-in for Teams' Bot Connector prints
what it sends. Type text as you would in Teams; type a number to press a button.
`/dpo` and `/staff` switch between a DPO and a staff member of the same demo school.
A file comes as Teams offers it ("[file: name, N bytes] (1) Allow (2) Decline"); Allow saves it in data/chat-files/.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.server import create_app
from config import Settings
from dialogs.kit.card_text import Button, Field, render_card
from dialogs.kit.files import FILE_CONSENT, FILE_INFO

TENANT = "00000000-0000-4000-8000-00000000c4a7"
PEOPLE = {
    "staff": ("Sam Staff (terminal)", "00000000-0000-4000-8000-0000000005af"),
    "dpo": ("Dee Pio (terminal DPO)", "00000000-0000-4000-8000-000000000d90"),
}
FILES = Path("data/chat-files")
FILE_ACTION = "__file__"  # a terminal button that answers a file-consent card
# Teams gives every message its own id and the bot ignores one it has handled (a redelivery): ids unique across runs.
_RUN = uuid.uuid4().hex[:12]
_MESSAGE_IDS = itertools.count(1)


class Terminal:
    """Prints what the bot sends (a card updated in place as such) and remembers the buttons of the last cards,
    each with the message it is on (sent back as `replyToId`, as Teams does)."""

    def __init__(self) -> None:
        self.buttons: list[tuple[Button, list[Field], str]] = []
        self._message_id = ""

    def show(self, activity: dict[str, Any], message_id: str = "", *, updated: bool = False) -> None:
        if activity.get("type") != "message":
            return
        self._message_id = message_id
        if updated:
            print(f"\nbot> [message {message_id} updated in place]")
        if activity.get("text"):
            print(f"\nbot> {activity['text']}")
        for attachment in activity.get("attachments") or []:
            kind = str(attachment.get("contentType"))
            if kind == FILE_CONSENT:
                self._consent(attachment)
            elif kind == FILE_INFO:
                print(f"     [file saved: {FILES / Path(str(attachment.get('name'))).name}]")
            elif "card" in kind:
                self._card(attachment.get("content") or {})
        sys.stdout.flush()

    def _card(self, content: dict[str, Any]) -> None:
        rendered = render_card(content)
        print("\nbot> " + "\n     ".join(line for line in rendered.lines if line))
        for field in rendered.fields:
            print(f"     [input] {field.label}" + (f" ({', '.join(t for t, _ in field.choices)})" if field.choices else ""))
        for button in rendered.buttons:
            self.buttons.append((button, rendered.fields, self._message_id))
            print(f"     ({len(self.buttons)}) {button.title}" + (f" -> {button.url}" if button.url else ""))

    def _consent(self, attachment: dict[str, Any]) -> None:
        """A file-consent card: Allow and Decline become numbered buttons."""
        size = (attachment.get("content") or {}).get("sizeInBytes")
        buttons = []
        for title, action in (("Allow", "accept"), ("Decline", "decline")):
            self.buttons.append((Button(title, {FILE_ACTION: action, "consent": attachment}), [], self._message_id))
            buttons.append(f"({len(self.buttons)}) {title}")
        print(f"\nbot> [file: {attachment.get('name')}, {size} bytes] " + " ".join(buttons))


def connector_app(terminal: Terminal) -> web.Application:
    """Accepts the Bot Connector calls the bot makes and prints them; stands in for OneDrive's upload URL."""
    ids = itertools.count(1)

    async def upload(request: web.Request) -> web.Response:
        FILES.mkdir(parents=True, exist_ok=True)
        (FILES / Path(request.match_info["name"]).name).write_bytes(await request.read())
        return web.json_response({"id": request.match_info["name"]}, status=201)

    async def handle(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        message_id = request.path.rsplit("/", 1)[1] if request.method == "PUT" else f"chat-{next(ids)}"
        if request.method in ("POST", "PUT") and isinstance(body, dict):
            terminal.show(body, message_id, updated=request.method == "PUT")
        if request.path.rstrip("/").endswith("/v3/conversations"):
            return web.json_response({"id": f"a:chat-created-{next(ids)}"}, status=201)
        if "/members/" in request.path:  # both terminal people are ordinary members of the demo school
            return web.json_response({"id": request.path.rsplit("/", 1)[1], "userRole": "user", "tenantId": TENANT})
        return web.json_response([] if request.method == "GET" else {"id": message_id})

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_put("/upload/{name}", upload)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def ask_fields(fields: list[Field]) -> dict[str, str]:
    """Ask for each card input in turn (choices by number, several comma-separated); Enter keeps what is
    pre-filled or pre-selected, as Teams sends it when it is left alone."""
    values: dict[str, str] = {}
    for field in fields:
        if field.choices:
            for number, (title, code) in enumerate(field.choices, 1):
                print(f"       {number}. {title}" + (" (selected)" if code in field.value.split(",") else ""))
        kept = f" [Enter keeps {field.value!r}]" if field.value and not field.choices else \
            " [Enter keeps the selection]" if field.value else ""
        answer = (await asyncio.to_thread(input, f"  {field.label}{kept}: ")).strip()
        if not answer and field.value and not field.toggles:
            values[field.id] = field.value
            continue
        if field.choices:
            picked = [field.choices[int(n) - 1][1] for n in answer.replace(" ", "").split(",")
                      if n.isdigit() and 0 < int(n) <= len(field.choices)] if answer else field.value.split(",")
            if field.toggles:  # each checkbox is sent, ticked or not, as Teams does
                values.update({toggle_id: "true" if toggle_id in picked else "false" for _, toggle_id in field.choices})
                continue
            answer = ",".join(picked)
        values[field.id] = answer
    return values


async def chat() -> None:
    """Run the bot and the terminal side by side until EOF or `/quit`."""
    settings = Settings()
    settings.dpo_aad_ids = [*settings.dpo_aad_ids, f"{TENANT}:{PEOPLE['dpo'][1]}"]
    settings.host = "127.0.0.1"
    terminal = Terminal()
    runners = [web.AppRunner(connector_app(terminal)), web.AppRunner(create_app(settings))]
    sites = []
    for runner in runners:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sites.append(site)
    channel_url = f"http://127.0.0.1:{sites[0]._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    bot_url = f"http://127.0.0.1:{sites[1]._server.sockets[0].getsockname()[1]}/api/messages"  # type: ignore[union-attr]
    who = "staff"
    print("Custodian terminal chat. Type 'help' to start, a number to press a button, /dpo or /staff to switch, /quit to leave.")
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                line = (await asyncio.to_thread(input, f"\n{PEOPLE[who][0]}> ")).strip()
            except EOFError:
                break
            if line in ("/quit", "/exit"):
                break
            if line in ("/dpo", "/staff"):
                who = line[1:]
                continue
            text, value, on = line, None, ""
            activity: dict[str, Any] | None = None
            if line.isdigit() and 0 < int(line) <= len(terminal.buttons):
                button, fields, on = terminal.buttons[int(line) - 1]
                if button.data is None:
                    continue
                if FILE_ACTION in button.data:
                    activity = _file_consent(who, button.data, channel_url)
                text, value = button.data.get("__text__", ""), None
                if "__text__" not in button.data:
                    value = {**button.data, **(await ask_fields(fields) if fields else {})}
            terminal.buttons.clear()
            activity = activity or _activity(who, text, value, channel_url)
            if value is not None:
                activity["replyToId"] = on  # the card's message, as Teams names it for Action.Submit
            await http.post(bot_url, json=activity)
    for runner in reversed(runners):
        await runner.cleanup()


def _activity(who: str, text: str, value: dict[str, Any] | None, service_url: str) -> dict[str, Any]:
    name, aad_id = PEOPLE[who]
    activity: dict[str, Any] = {
        "type": "message", "channelId": "msteams", "serviceUrl": service_url, "text": text,
        "id": f"chat-{_RUN}-{next(_MESSAGE_IDS)}",
        "from": {"id": f"29:{aad_id}", "name": name, "aadObjectId": aad_id},
        "recipient": {"id": "28:custodian", "name": "Custodian"},
        "conversation": {"conversationType": "personal", "id": f"a:chat-{aad_id}"},
        "channelData": {"tenant": {"id": TENANT}},
    }
    if value is not None:
        activity["value"] = value
    return activity


def _file_consent(who: str, pressed: dict[str, Any], service_url: str) -> dict[str, Any]:
    """The `fileConsent/invoke` Teams sends for Allow or Decline; Allow uploads to this terminal's data/chat-files."""
    consent, action = pressed["consent"], pressed[FILE_ACTION]
    name = Path(str(consent.get("name") or "file")).name
    card = consent.get("content") or {}
    value: dict[str, Any] = {"type": "fileUpload", "action": action,
                             "context": card.get("acceptContext" if action == "accept" else "declineContext")}
    if action == "accept":
        value["uploadInfo"] = {"name": name, "uploadUrl": f"{service_url}upload/{name}", "contentUrl": str(FILES / name),
                               "uniqueId": name, "fileType": name.rsplit(".", 1)[-1]}
    return {**_activity(who, "", None, service_url), "type": "invoke", "name": "fileConsent/invoke", "value": value}


if __name__ == "__main__":
    asyncio.run(chat())
