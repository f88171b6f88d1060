"""Adaptive Card building blocks and the core cards (welcome, help, notices). Pure functions -> dict."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_INPUT = 4000  # characters a typed answer may have (the longest message the router reads)
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


MAX_CARD_BYTES = 24_000  # Teams refuses a message over about 28 KB (413); the rest of the activity needs room
_SHOWN = ("TextBlock", "FactSet", "Container", "ColumnSet")  # what may be left out of a card that is too big
_SHORT = 300  # characters a very long text is cut to when a card is too big
# Card text is markdown, and Teams clients differ on backslash escapes, so characters that would start markdown,
# a link, HTML or a mention are shown as look-alikes instead.
_LOOKALIKES = str.maketrans({
    "*": "\u2217", "_": "\uff3f", "`": "\u02cb", "~": "\u223c", "[": "\uff3b", "]": "\uff3d", "<": "\u2039",
    ">": "\u203a", "#": "\uff03", "\\": "\u29f5", "|": "\u2223", "@": "\uff20",
})
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:/+)|(?<=\bwww)(\.)")  # what Teams turns into a link: "https://", "www."
_ENTITY = re.compile(r"&(?=#?[a-z0-9]+;)", re.IGNORECASE)  # "&lt;" could be shown as "<"
_LIST_MARKS = {"-": "\u2010", "+": "\uff0b", ".": "\u2024", ")": "\uff09"}
_LIST = re.compile(r"(?m)^(\s*)(?:([-+])|(\d+)([.)]))(?=\s)")  # a line starting "- ", "+ ", "1. " or "1) " is a list


def plain(value: object) -> str:
    """User or file text, shown as it is: no markdown, link, HTML or mention can come out of it."""
    shown = _ENTITY.sub("\uff06", str(value).translate(_LOOKALIKES).strip())
    shown = _AUTOLINK.sub(lambda m: "\u2024" if m[2] else ":" + "\u2215" * (len(m[1]) - 1), shown)
    return _LIST.sub(lambda m: m[1] + (_LIST_MARKS[m[2]] if m[2] else m[3] + _LIST_MARKS[m[4]]), shown)


def card(body: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> Card:
    """An Adaptive Card 1.5 with the given body and buttons: one row as the card's actions, more as ActionSets."""
    rows = button_rows(actions)
    if len(rows) > 1:
        body = [*body, *({"type": "ActionSet", "actions": row} for row in rows)]
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.5", "body": list(body)}
    if len(rows) == 1:
        result["actions"] = rows[0]
    return _fit(result)


def _size(value: object) -> int:
    return len(json.dumps(value))  # as sent: ASCII, anything else escaped


def _fit(result: Card) -> Card:
    """Keep a card within Teams' message size: very long texts are shortened, then the end of a long list is left out
    with "and N more". The heading, inputs and buttons are never left out."""
    over = _size(result) - MAX_CARD_BYTES
    if over <= 0:
        return result
    body, dropped, over = result["body"], 0, over + 300  # room for the note
    long_texts = [(block, key) for block in _texts(body) for key in ("text", "value") if len(block.get(key, "")) > _SHORT]
    for block, key in sorted(long_texts, key=lambda found: -len(found[0][found[1]])):
        if over <= 0:
            break
        before = _size(block[key])
        block[key] = block[key][:_SHORT].rstrip() + "\u2026"
        over -= before - _size(block[key])
    while over > 0:
        shown = [i for i, block in enumerate(body) if i and block.get("type") in _SHOWN]
        if not shown:
            break
        last = body[shown[-1]]
        if last["type"] == "FactSet" and len(last["facts"]) > 1:
            over -= _size(last["facts"].pop()) + 2
        else:
            over -= _size(body.pop(shown[-1])) + 2
        dropped += 1
    if dropped:
        body.append(text(f"\u2026 and {dropped:,} more, not shown: the list is too long for one Teams message.", subtle=True))
    return result


def _texts(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every TextBlock and fact in these blocks, nested ones included."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "TextBlock":
            found.append(block)
        found += block.get("facts", [])
        found += _texts(block.get("items", []) + block.get("columns", []))
    return found


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
    ("Log a SAR", "log a sar", "Someone asked for the data we hold on them or their child? Start the one-month clock."),
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
    ("training due", "staff with no data-protection training in 24 months, and an invitation", True),
    ("open SARs", "subject access requests not yet answered, soonest due first", False),
    ("status", "everything that needs you now", False),
    ("export breaches", "the breach log as a CSV file", True),
    ("export consent", "the consent register as a CSV file", True),
    ("export posts", "the post register as a CSV file", True),
    ("export SARs", "the subject access request log (with what was disclosed) as a CSV file", True),
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
        ("start a breach drill", "a practice breach marked DRILL (never in the breach log); **drill speed 60** runs "
         "its 72 hours in 72 minutes, **stop drill** ends it with the drill report"),
        ("ico pack BR-2026-0042", "the ICO report form's answers, gaps in red, and a Word copy"),
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
        ("term dates half term 15/02/2027 to 19/02/2027", "the school's holidays (or attach the council's CSV or .ics)"),
        ("school profile", "your school's details for the ICO report (once)"),
    )),
)


def tap_item(line: str, action: dict[str, Any] | None = None, *, attention: bool = False) -> dict[str, Any]:
    """One line of a list that opens its item when tapped (a Container with `selectAction`)."""
    block: dict[str, Any] = {"type": "Container", "items": [text(line, attention=attention)]}
    if action is not None:
        block["selectAction"] = action
    return block


def help_card(*, is_dpo: bool = False) -> Card:
    """What the bot does, with a button per flow (a DPO's commands follow on a card of their own)."""
    body: list[dict[str, Any]] = [heading("Custodian can help you with:")]
    body += [text(f"**{title}** \u2014 {blurb}") for title, _, blurb in MENU]
    if is_dpo:
        body.append(text("As a DPO you can also type the commands on the next card.", subtle=True))
    body.append(text("Type **cancel** at any time to stop what you are doing, or **help** to see this again.", subtle=True))
    return card(body, [say(title, utterance) for title, utterance, _ in MENU])


def dpo_commands_card() -> Card:
    """Every DPO command with an example, a block per area (one card would be too tall with the menu)."""
    body: list[dict[str, Any]] = [heading("As a DPO you can also type")]
    questions = tuple((said, what) for said, what, _ in QUESTIONS)
    for section, commands in (*DPO_COMMANDS, ("Questions and exports", questions)):
        body.append(text(f"**{section}**\n\n" + "\n".join(f"- **{said}** \u2014 {what}" for said, what in commands)))
    return card(body)


def help_cards(*, is_dpo: bool) -> list[Card]:
    """The help a person gets: the menu, and for a DPO every DPO command."""
    return [help_card(is_dpo=True), dpo_commands_card()] if is_dpo else [help_card()]


def did_you_mean_card(buttons: Sequence[dict[str, Any]]) -> Card:
    """Two readings of what someone typed, as buttons, and a way out to the menu."""
    body = [heading("Did you mean\u2026?"), text("I want to be sure before I start anything.", subtle=True)]
    return card(body, [*buttons, say("Something else", "help")])


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


def settled_card(title: str, line: str, body: Sequence[dict[str, Any]] = (),
                 actions: Sequence[dict[str, Any]] = ()) -> Card:
    """A pressed card once its action is taken (or found out of date): what was done, by whom and when (`line`, shown
    as plain text: it carries names and references people typed), what it was about, and only the buttons left."""
    return card([heading(title), text(f"\u2705 {plain(line)}"), *body], actions)


def notifying(content: Card, summary: str) -> Card:
    """A card sent proactively: `summary` (no personal data) is its `fallbackText`, which `card_activity` also makes
    the message's notification text (Teams' activity feed and mobile push)."""
    content["fallbackText"] = summary
    return content


def notice_card(title: str, message: str) -> Card:
    """A short titled message (errors, confirmations)."""
    return card([heading(title), text(message)])


# --- inputs ------------------------------------------------------------------------------------

def text_input(input_id: str, label: str, *, required: bool = False, multiline: bool = True, value: str = "",
               placeholder: str = "") -> dict[str, Any]:
    """An Input.Text (at most MAX_INPUT characters)."""
    element: dict[str, Any] = {"type": "Input.Text", "id": input_id, "label": label, "isMultiline": multiline,
                               "maxLength": MAX_INPUT, "isRequired": required}
    if required:
        element["errorMessage"] = "Please fill this in."
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    return element


def choice_input(input_id: str, label: str, options: Mapping[str, str], *, compact: bool = False,
                 value: str | None = None) -> dict[str, Any]:
    """A single-choice Input.ChoiceSet: radio buttons, or a drop-down when compact (for several, see toggle_set)."""
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet", "id": input_id, "label": label,
        "style": "compact" if compact else "expanded", "wrap": True,  # long choices wrap, not cut (AC 1.2+)
        "choices": [{"title": title, "value": code} for code, title in options.items()],
    }
    if value:
        element["value"] = value
    return element


TOGGLE = "answer."  # a multi-choice question's checkboxes: one Input.Toggle per option, id "answer.<code>"


def toggle_set(options: Mapping[str, str], value: str | Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Checkboxes every Teams client submits (a multi-select Input.ChoiceSet is not sent reliably by Teams on iOS,
    microsoft/AdaptiveCards#9330): one Input.Toggle per option, ticked when its code is in `value`."""
    chosen = set(value.split(",") if isinstance(value, str) else value or ())
    return [{"type": "Input.Toggle", "id": TOGGLE + code, "title": title, "valueOn": "true", "valueOff": "false",
             "value": "true" if code in chosen else "false", "wrap": True} for code, title in options.items()]


def toggled(value: Mapping[str, Any]) -> str | None:
    """The ticked codes of a submitted toggle set, as a multi-select sends them ("a,b"); None when it has none."""
    keys = [key for key in value if isinstance(key, str) and key.startswith(TOGGLE)]
    return ",".join(key[len(TOGGLE):] for key in keys if value[key] == "true") if keys else None
