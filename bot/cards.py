"""Adaptive Card building blocks and the core cards (welcome, help, notices). Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams shows a row of buttons on one line and cuts titles off ("Record dec…") when they don't fit, so buttons
# go in rows that fit a card in a chat (432 px less 16 px padding each side), measured generously per character.
ROW_PX, CHAR_PX, BUTTON_PX, GAP_PX = 400, 8, 26, 8
MAX_ACTIONS = 6  # Teams' host config


def button_rows(actions: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The buttons, in order, in as few rows as fit the chat width."""
    rows: list[list[dict[str, Any]]] = []
    used = 0
    for action in actions:
        width = len(str(action.get("title", ""))) * CHAR_PX + BUTTON_PX
        if rows and used + GAP_PX + width <= ROW_PX and len(rows[-1]) < MAX_ACTIONS:
            rows[-1].append(action)
            used += GAP_PX + width
        else:
            rows.append([action])
            used = width
    return rows


def card(body: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> Card:
    """An Adaptive Card 1.5 with the given body and buttons: one row as the card's actions, more as ActionSets."""
    rows = button_rows(actions)
    if len(rows) > 1:
        body = [*body, *({"type": "ActionSet", "actions": row} for row in rows)]
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": list(body)}
    if len(rows) == 1:
        result["actions"] = rows[0]
    return result


def heading(value: str) -> dict[str, Any]:
    """A bold, larger title line."""
    return {"type": "TextBlock", "text": value, "weight": "Bolder", "size": "Medium", "wrap": True}


def text(value: str, *, subtle: bool = False, attention: bool = False) -> dict[str, Any]:
    """A wrapped paragraph."""
    block: dict[str, Any] = {"type": "TextBlock", "text": value, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if attention:
        block["color"] = "Attention"
    return block


def shorten(value: str, limit: int = 300) -> str:
    """`value`, cut to `limit` characters with an ellipsis when longer (for display only)."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "\u2026"


def facts(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A FactSet of label/value pairs."""
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def submit(title: str, data: dict[str, Any]) -> dict[str, Any]:
    """A button that sends `data` back to the bot (a card action)."""
    return {"type": "Action.Submit", "title": title, "data": data}


def say(title: str, utterance: str) -> dict[str, Any]:
    """A button that sends `utterance` as if the user typed it (Teams imBack)."""
    return {"type": "Action.Submit", "title": title, "data": {"msteams": {"type": "imBack", "value": utterance}}}


MENU: tuple[tuple[str, str, str], ...] = (
    ("Report a breach", "report a breach", "Something went wrong with personal data? Start the 72-hour clock now."),
    ("Check photo consent", "check consent", "Before you post a photo: check every pupil's consent."),
    ("Book training", "book training", "AI and data-protection sessions: see dates and book a seat."),
    ("Status", "status", "What needs your attention (DPOs see the whole school)."),
)


def help_card(*, is_dpo: bool = False) -> Card:
    """What the bot does, with a button per flow."""
    body: list[dict[str, Any]] = [heading("Custodian can help you with:")]
    body += [text(f"**{title}** \u2014 {blurb}") for title, _, blurb in MENU]
    body.append(text("Type **cancel** at any time to stop what you are doing, or **help** to see this again.", subtle=True))
    if is_dpo:
        body.append(text("As a DPO you can also ask: open breaches, what's due today, posts to remove.", subtle=True))
    return card(body, [say(title, utterance) for title, utterance, _ in MENU])


def welcome_card() -> Card:
    """Sent when the bot is installed or someone joins a chat with it."""
    return card(
        [
            heading("Hello, I'm Custodian"),
            text(
                "I help your school look after personal data: report a breach inside the ICO's 72 hours, "
                "check pupils' photo consent before you post, and book data-protection training."
            ),
            text("Nothing you tell me is shared outside your school.", subtle=True),
        ],
        [say(title, utterance) for title, utterance, _ in MENU] + [say("Help", "help")],
    )


def notice_card(title: str, message: str) -> Card:
    """A short titled message (errors, confirmations)."""
    return card([heading(title), text(message)])
