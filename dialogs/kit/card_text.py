"""Adaptive Cards as plain text, for the terminal chat (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Button:
    """A card action the user can press by number."""

    title: str
    data: dict[str, Any] | None  # submit data; None for links
    url: str | None = None


@dataclass
class Field:
    """A card input the user is asked to fill before a submit."""

    id: str
    label: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (title, value)
    multi: bool = False
    required: bool = False
    value: str = ""  # pre-filled or pre-selected: Teams sends it unless it is changed
    toggles: bool = False  # a set of checkboxes ("answer.<code>" each): choices are (title, toggle id)


@dataclass
class Rendered:
    """A card's visible lines, its inputs and its buttons."""

    lines: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)


def render_card(content: dict[str, Any]) -> Rendered:
    """Flatten a card (Adaptive or Hero) into text lines, inputs and buttons."""
    out = Rendered()
    if "buttons" in content:  # HeroCard, e.g. a ChoicePrompt on msteams
        if content.get("title"):
            out.lines.append(str(content["title"]))
        if content.get("text"):
            out.lines.append(str(content["text"]))
        for button in content["buttons"]:
            out.buttons.append(Button(str(button.get("title", "")), {"__text__": str(button.get("value", ""))}))
        return out
    _walk(content.get("body", []), out)
    _actions(content.get("actions", []), out)
    return out


def _walk(elements: list[dict[str, Any]], out: Rendered) -> None:
    for element in elements:
        kind = element.get("type", "")
        if kind == "TextBlock":
            out.lines.append(str(element.get("text", "")))
        elif kind == "FactSet":
            out.lines += [f"  {f.get('title', '')}: {f.get('value', '')}" for f in element.get("facts", [])]
        elif kind in ("Container", "Column"):
            _walk(element.get("items", []), out)
            if isinstance(element.get("selectAction"), dict):
                _actions([element["selectAction"]], out)
        elif kind == "ColumnSet":
            _walk(element.get("columns", []), out)
        elif kind == "ActionSet":
            _actions(element.get("actions", []), out)
        elif kind == "Input.Toggle" and "." in str(element.get("id")):
            _tick_box(element, out)
        elif kind.startswith("Input."):
            out.fields.append(_field(element))


def _field(element: dict[str, Any]) -> Field:
    label = str(element.get("label") or element.get("title") or element.get("placeholder") or element.get("id"))
    choices = [(str(c.get("title")), str(c.get("value"))) for c in element.get("choices", [])]
    if element.get("type") == "Input.Toggle":
        choices = [("yes", str(element.get("valueOn", "true"))), ("no", str(element.get("valueOff", "false")))]
    return Field(str(element.get("id")), label, choices, bool(element.get("isMultiSelect")), bool(element.get("isRequired")),
                 str(element.get("value") or ""))


def _tick_box(element: dict[str, Any], out: Rendered) -> None:
    """Checkboxes with ids "<set>.<code>" read as one pick-several input (asked once in the terminal)."""
    toggle_id = str(element.get("id"))
    group = toggle_id.rsplit(".", 1)[0]
    last = out.fields[-1] if out.fields else None
    if last is None or not last.toggles or last.id != group:
        last = Field(group, "Pick all that apply", multi=True, toggles=True)
        out.fields.append(last)
    last.choices.append((str(element.get("title", "")), toggle_id))
    if element.get("value") == element.get("valueOn", "true"):
        last.value = ",".join([*filter(None, last.value.split(",")), toggle_id])


def _actions(actions: list[dict[str, Any]], out: Rendered) -> None:
    for action in actions:
        title = str(action.get("title", "Open"))
        if action.get("type") == "Action.OpenUrl":
            out.buttons.append(Button(title, None, str(action.get("url"))))
            continue
        data = found if isinstance(found := action.get("data"), dict) else {}
        msteams = found if isinstance(found := data.get("msteams"), dict) else {}
        if msteams.get("type") == "imBack":
            out.buttons.append(Button(title, {"__text__": str(msteams.get("value", ""))}))
        else:
            out.buttons.append(Button(title, dict(data)))
