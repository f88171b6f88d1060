"""A card once acted on (a question answered with its buttons, a reminder snoozed or done): what it said, and what
was chosen or done, with no inputs or buttons left."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dialogs.kit.cards import Card, card, plain, shorten, text

_INPUT = "Input."


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button in these blocks (ActionSets, nested ones included)."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        found += block.get("actions", []) if block.get("type") == "ActionSet" else []
        found += _buttons(block.get("items", []) + block.get("columns", []))
    return found


def _inputs(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every input in these blocks, nested ones included."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        found += [block] if str(block.get("type", "")).startswith(_INPUT) else []
        found += _inputs(block.get("items", []) + block.get("columns", []))
    return found


def _shown(block: dict[str, Any]) -> bool:
    """Stays on the answered card: text and facts, not inputs or buttons."""
    kind = str(block.get("type", ""))
    return not kind.startswith(_INPUT) and kind != "ActionSet"


def _input_answer(element: dict[str, Any], value: object) -> str:
    """What one input was given, as the person saw it (choice titles, not codes)."""
    if element.get("type") == "Input.ChoiceSet":
        titles = {str(c.get("value")): str(c.get("title")) for c in element.get("choices", [])}
        return ", ".join(titles.get(code, code) for code in str(value).split(",") if code)
    if element.get("type") == "Input.Toggle":
        return str(element.get("title", "")) if value == element.get("valueOn", "true") else ""
    return shorten(str(value), 120)


def answer_of(sent: Card, value: Mapping[str, Any]) -> str:
    """What the person answered on `sent`: the inputs they filled in, else the title of the button they pressed."""
    blocks = list(sent.get("body", []))
    given = [_input_answer(element, value[str(element.get("id"))]) for element in _inputs(blocks)
             if str(element.get("id")) in value and value[str(element.get("id"))] not in ("", None)]
    if any(given):
        return "; ".join(part for part in given if part)
    for button in list(sent.get("actions", [])) + _buttons(blocks):
        data = button.get("data")
        if isinstance(data, dict) and data and all(value.get(key) == item for key, item in data.items()):
            return str(button.get("title", ""))
    return "Answered"


def settled(sent: Card, line: str) -> Card:
    """`sent` once acted on: its text, then "✅ <line>" (plain text), and no inputs or buttons left to press."""
    body = [{key: item for key, item in block.items() if key != "selectAction"} for block in sent.get("body", [])
            if _shown(block)]
    return card([*body, text(f"\u2705 {plain(line)}")])


def answered_card(sent: Card, value: Mapping[str, Any]) -> Card:
    """`sent` as answered: its text, then "✅ <the answer>", and no inputs or buttons left to press."""
    return settled(sent, answer_of(sent, value))
