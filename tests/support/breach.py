"""Shared steps for the breach tests: walk the report dialog like a person in Teams, read cards back."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from storage.breach_models import Breach
from storage.reminder_models import Reminder
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts, ticked
from tests.teams.fake_channel import Received

# The ICO report pack's sections, in the order of the ICO's online breach report form.
ICO_ORDER = [
    "Organisation details", "Initial or follow-up report", "What has happened?", "How and when did you find out?",
    "When did the breach happen?", "Cyber incident", "Data subjects and records", "Categories of personal data",
    "Potential consequences", "Containment and recovery", "Who else has been told?", "Telling the people affected",
    "Staff training",
]

# (question, how it is answered: "say" = typed text, "press" = the card button/inputs, value)
ANSWERS: dict[str, tuple[str, str]] = {
    "what_happened": ("say", "I emailed a pupil's SEN report to the wrong parent"),
    "kind": ("press", "wrong_person"),
    "how_discovered": ("say", "The parent phoned the office"),
    "happened_at": ("say", "today 9:15"),
    "aware_at": ("press", "now"),
    "subjects": ("press", "pupils"),
    "people_count": ("say", "1"),
    "records_count": ("say", "about 2"),
    "data_categories": ("press", "basic,special"),
    "contained": ("press", "no"),
    "actions_taken": ("say", "Asked the parent to delete it"),
    "actions_planned": ("say", "Turn on delayed sending"),
    "others_informed": ("press", "head"),
}


async def answer(teams: TeamsClient, user: TeamsUser, key: str, how: str, value: str) -> list[Received]:
    """Answer one question, typed or pressed (a question with checkboxes: `value`'s codes ticked, the rest not)."""
    if how == "say":
        return await teams.say(user, value)
    shown = [card for r in teams.channel.received if r.conversation_id == user.conversation_id for card in r.cards]
    boxes = ticked(shown[-1], value) if shown else {}
    return await teams.press(user, {**boxes, "q": key} if boxes else {"q": key, "answer": value})


async def file_report(teams: TeamsClient, user: TeamsUser, *, start: str = "report a breach",
                      **overrides: Any) -> list[Received]:
    """Walk the whole dialog with ANSWERS (some overridden) and confirm; returns the receipt replies."""
    replies = await teams.say(user, start)
    answers = {**ANSWERS, **overrides}
    if start != "report a breach":
        answers.pop("what_happened")
    for key, (how, value) in answers.items():
        replies = await answer(teams, user, key, how, value)
        assert replies and all(r.cards for r in replies), (key, texts(replies))  # no error text, just the next card
    assert "Please check your report" in texts(replies)
    return await teams.press(user, {"q": "summary", "nav": "confirm"})


def buttons(reply: Received) -> list[dict[str, Any]]:
    """Every submit button's data on the reply's cards."""
    return [a.get("data", {}) for card in reply.cards for a in card_actions(card)]


def card_text(replies: list[Received]) -> str:
    """Cards and text as one string (unicode kept)."""
    return texts(replies)


def last_card(received: list[Received]) -> dict[str, Any]:
    """The last card sent."""
    cards = [card for r in received for card in r.cards]
    assert cards, "no card was sent"
    return cards[-1]


async def breaches(runtime: Runtime) -> list[Breach]:
    """Every breach row, any school."""
    async with runtime.deps.sessions() as session:
        return list((await session.execute(select(Breach).order_by(col(Breach.id)))).scalars())


async def ledger(runtime: Runtime, breach_id: int | None = None) -> list[Reminder]:
    """Reminder rows (about one breach, or all), by due time."""
    async with runtime.deps.sessions() as session:
        query = select(Reminder).order_by(col(Reminder.due_at), col(Reminder.id))
        if breach_id is not None:
            query = query.where(col(Reminder.subject_type) == "breach", col(Reminder.subject_id) == str(breach_id))
        return list((await session.execute(query)).scalars())


async def csv_rows(teams: TeamsClient, user: TeamsUser, replies: list[Received]) -> list[dict[str, str]]:
    """The rows of the one CSV file offered in the replies, once `user` has pressed Allow."""
    [(name, content)] = await teams.files(user, replies)
    assert name.endswith(".csv")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def dumps(value: object) -> str:
    """JSON text for substring checks."""
    return json.dumps(value, ensure_ascii=False)
