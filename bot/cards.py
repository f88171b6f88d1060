"""Adaptive Card building blocks and the core cards (welcome, help, notices). Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def card(body: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> Card:
    """An Adaptive Card 1.5 with the given body and actions."""
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": list(body)}
    if actions:
        result["actions"] = list(actions)
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


# (what to type, what it answers, DPO only)
QUESTIONS: tuple[tuple[str, str, bool], ...] = (
    ("open breaches", "breaches not yet closed, nearest ICO deadline first", False),
    ("breaches this month", "breaches reported since the 1st", False),
    ("what's due today", "deadlines, reminders, removals and posts due today", False),
    ("posts to remove", "live posts past their remove-by date", False),
    ("who has not got photo consent in 4B", "pupils of a class or year without consent, per purpose", True),
    ("bookings for 14 May", "training places booked on a day", False),
    ("status", "everything that needs you now", False),
    ("export breaches", "the breach log as a CSV file", True),
    ("export consent", "the consent register as a CSV file", True),
    ("export posts", "the post register as a CSV file", True),
    ("export audit", "the audit trail (who did what, when) as a CSV file", True),
)
# Every DPO command by area, with an example to type (questions and exports are QUESTIONS).
DPO_COMMANDS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Breaches", (
        ("breach BR-2026-0042", "one breach with its timeline"),
        ("record decision BR-2026-0042", "notify the ICO, not notifiable (with the reason), or more information needed"),
        ("mark reported to ICO BR-2026-0042", "record the ICO case reference (stops the deadline reminders)"),
        ("ask the reporter BR-2026-0042", "send the reporter a question"),
        ("update BR-2026-0042", "add facts or a note"),
        ("close BR-2026-0042", "close it with the lessons learned"),
    )),
    ("Photo consent register", (
        ("import pupils", "then attach the pupil and consent CSV from your MIS"),
        ("consent withdrawn for Amy Lee social media by mother", "a parent withdrew consent for one use"),
        ("consent granted for Amy Lee website until 01/09/2027", "a parent gave consent (review date optional)"),
        ("never publish Amy Lee - court order", "never publish this pupil anywhere (with the reason)"),
        ("pupil left Jo Bloggs", "a leaver: their photos come down"),
        ("record published without consent", "an image already out without consent (a likely breach)"),
    )),
    ("Roles and your school", (
        ("make Sam Jones a DPO", "another DPO (they get the breach alerts)"),
        ("make Sam Jones an organiser", "a training organiser"),
        ("remove organiser from Sam Jones", "take a role away"),
        ("roles", "who has which role"),
        ("school name St Mary's Primary", "the name shown on cards and exports"),
    )),
)


def help_card(*, is_dpo: bool = False) -> Card:
    """What the bot does, with a button per flow; a DPO also gets every DPO command with an example."""
    body: list[dict[str, Any]] = [heading("Custodian can help you with:")]
    body += [text(f"**{title}** \u2014 {blurb}") for title, _, blurb in MENU]
    if is_dpo:
        body.append(heading("As a DPO you can also type"))
        questions = tuple((said, what) for said, what, _ in QUESTIONS)
        for section, commands in (*DPO_COMMANDS, ("Questions and exports", questions)):
            body.append(text(f"**{section}**"))
            body += [text(f"**{said}** \u2014 {what}", subtle=True) for said, what in commands]
    body.append(text("Type **cancel** at any time to stop what you are doing, or **help** to see this again.", subtle=True))
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
