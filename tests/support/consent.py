"""Shared by the photo consent tests: import the sample CSV through chat, find card buttons, read the tables back."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from services.consent.pupil_files import FilePolicy
from storage.consent_models import ConsentCheck, Post, Pupil, RemovalTask
from storage.reminder_models import Reminder
from tests.support.card_schema import schema_errors  # noqa: F401  (re-exported for consent tests)
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import Received

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HTTP = FilePolicy(("127.0.0.1",), ("http",), public_only=False)  # trusts a test's file server like SharePoint
SAMPLE = ROOT / "data" / "sample_pupils.csv"


def data_uri(text: str, mime: str = "text/csv") -> str:
    """A file inline, the way a test (or `make chat`) attaches it."""
    return f"data:{mime};base64,{base64.b64encode(text.encode()).decode()}"


def csv_message(teams: TeamsClient, user: TeamsUser, url: str, *, text: str = "import pupils",
                name: str = "pupils.csv", teams_file: bool = False) -> dict[str, Any]:
    """A message with a CSV attached: as Teams sends a file (download info), or as a plain text/csv attachment."""
    activity = teams.message(user, text)
    if teams_file:
        activity["attachments"] = [{"contentType": "application/vnd.microsoft.teams.file.download.info", "name": name,
                                    "content": {"downloadUrl": url, "uniqueId": "1", "fileType": "csv"}}]
    else:
        activity["attachments"] = [{"contentType": "text/csv", "contentUrl": url, "name": name}]
    return activity


def button(replies: list[Received], title: str) -> dict[str, Any]:
    """The submit data of the first card button with this title."""
    for reply in replies:
        for content in reply.cards:
            for action in card_actions(content):
                if action.get("title") == title:
                    return dict(action.get("data") or {})
    raise AssertionError(f"no button {title!r} in: {texts(replies)[:2000]}")


def choices(replies: list[Received]) -> dict[str | None, Any]:
    """Button title -> data for every card button in the replies."""
    return {a.get("title"): a.get("data") for r in replies for c in r.cards for a in card_actions(c)}


async def import_sample(teams: TeamsClient, dpo: TeamsUser, text: str | None = None) -> list[Received]:
    """The DPO imports the sample CSV (or `text`) and presses Apply; returns Apply's replies."""
    csv_text = text if text is not None else SAMPLE.read_text()
    preview = await teams.send(csv_message(teams, dpo, data_uri(csv_text)))
    return await teams.press(dpo, button(preview, "Apply"))


async def pupil(runtime: Runtime, tenant_id: str, forename: str, surname: str, class_name: str | None = None) -> Pupil:
    """One pupil row."""
    async with runtime.deps.sessions() as session:
        query = select(Pupil).where(
            col(Pupil.tenant_id) == tenant_id, col(Pupil.forename) == forename, col(Pupil.legal_surname) == surname
        )
        if class_name:
            query = query.where(col(Pupil.class_name) == class_name)
        return (await session.execute(query)).scalar_one()


async def rows(runtime: Runtime, model: type[Any]) -> list[Any]:
    """Every row of a table, by id."""
    async with runtime.deps.sessions() as session:
        order = model.id if hasattr(model, "id") else model.post_id
        return list((await session.execute(select(model).order_by(order))).scalars())


async def checks(runtime: Runtime) -> list[ConsentCheck]:
    """Every consent check kept as evidence."""
    return await rows(runtime, ConsentCheck)


async def posts(runtime: Runtime) -> list[Post]:
    """Every post."""
    return await rows(runtime, Post)


async def tasks(runtime: Runtime) -> list[RemovalTask]:
    """Every removal task."""
    return await rows(runtime, RemovalTask)


async def reminders_of(runtime: Runtime, kind_prefix: str = "consent.") -> list[Reminder]:
    """Consent reminders in the ledger."""
    return [r for r in await rows(runtime, Reminder) if r.kind.startswith(kind_prefix)]


async def check_and_post(teams: TeamsClient, user: TeamsUser, who: str, *, account: str = "School Facebook page",
                         description: str = "Sports day relay", link: str = "") -> list[Received]:
    """The whole staff flow for pupils who are all OK for social media: returns the receipt turn's replies."""
    await teams.say(user, "check consent")
    await teams.say(user, who)
    await teams.press(user, {"purpose": "social_media"})
    await teams.press(user, {"dressed": "true", "background": "true", "names": "true", "location": "true"})
    return await teams.press(user, {"account": account, "description": description, "link": link})
