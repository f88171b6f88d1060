"""Cards rendered as text for the terminal chat."""

from __future__ import annotations

from dialogs.breach.forms import question_card
from dialogs.kit.card_text import render_card
from dialogs.kit.cards import card, facts, help_card, submit, text


def test_help_card_buttons_send_commands() -> None:
    rendered = render_card(help_card())
    assert "Report a breach" in [b.title for b in rendered.buttons]
    assert rendered.buttons[0].data == {"__text__": "report a breach"}


def test_inputs_facts_and_submit_data() -> None:
    content = card(
        [text("Pick"), facts([("Ref", "BR-2026-0001")]),
         {"type": "Input.ChoiceSet", "id": "who", "label": "Whose data", "isMultiSelect": True,
          "choices": [{"title": "Pupils", "value": "pupils"}]}],
        [submit("Next", {"step": "who"})],
    )
    rendered = render_card(content)
    assert "  Ref: BR-2026-0001" in rendered.lines
    assert rendered.fields[0].id == "who" and rendered.fields[0].multi
    assert rendered.buttons[0].data == {"step": "who"}


def test_hero_card_from_choice_prompt() -> None:
    rendered = render_card({"text": "Contained?", "buttons": [{"type": "imBack", "title": "Yes", "value": "Yes"}]})
    assert rendered.lines == ["Contained?"]
    assert rendered.buttons[0].data == {"__text__": "Yes"}


def test_checkboxes_are_one_pick_several_input() -> None:
    options = {"pupils": "Pupils", "staff": "Staff"}
    rendered = render_card(question_card("Whose data?", q="subjects", style="multi", options=options, current=["staff"]))
    [field] = rendered.fields
    assert field.toggles and field.id == "answer" and field.value == "answer.staff"
    assert field.choices == [("Pupils", "answer.pupils"), ("Staff", "answer.staff")]
