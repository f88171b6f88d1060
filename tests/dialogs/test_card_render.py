"""The renderer check itself: it catches what Teams would cut off, hide or refuse, and passes what fits."""

from __future__ import annotations

from typing import Any

from dialogs.kit.cards import button_rows, card, heading, say, submit, text
from tests.support.card_render import CardCheck, CardRenderer, shape


def _buttons(*titles: str) -> list[dict[str, Any]]:
    return [submit(title, {"cmd": "x", "n": n}) for n, title in enumerate(titles)]


def test_a_deliberately_long_button_title_is_caught(card_renderer: CardRenderer) -> None:
    title = "Record the decision about this breach and tell the ICO"
    content = card([heading("New breach reported")], [])
    content["actions"] = _buttons(title, "Close")  # one row, bypassing button_rows
    assert f'button title cut off: "{title}"' in card_renderer.problems(content)


def test_a_card_that_fits_passes(card_renderer: CardRenderer) -> None:
    assert card_renderer.problems(card([heading("Breach BR-2026-0001"), text("A letter went to the wrong family.")],
                                       _buttons("Record decision", "Close"))) == []


def test_buttons_that_do_not_fit_one_row_go_in_rows_that_do(card_renderer: CardRenderer) -> None:
    titles = ("Record decision", "Mark reported to ICO", "Ask the reporter", "Close", "Timeline")
    content = card([heading("New breach reported")], _buttons(*titles))
    assert [len(row) for row in button_rows(_buttons(*titles))] == [2, 3]
    assert "actions" not in content and [e["type"] for e in content["body"][1:]] == ["ActionSet", "ActionSet"]
    assert card_renderer.problems(content) == []


def test_more_actions_than_teams_allows_are_caught(card_renderer: CardRenderer) -> None:
    content = card([heading("Too many")])
    content["actions"] = _buttons(*"ABCDEFG")
    assert "validation: Maximum number of actions exceeded (6)." in card_renderer.problems(content)


def test_an_input_without_a_label_is_caught(card_renderer: CardRenderer) -> None:
    content = card([{"type": "Input.Text", "id": "who"}], _buttons("Next"))
    assert 'input "who" has no label' in card_renderer.problems(content)


def test_a_required_input_without_an_error_message_is_caught(card_renderer: CardRenderer) -> None:
    content = card([{"type": "Input.Text", "id": "who", "label": "Who?", "isRequired": True}], _buttons("Next"))
    assert "validation: Required inputs should have an error message" in card_renderer.problems(content)


def test_unwrapped_text_that_is_cut_off_is_caught(card_renderer: CardRenderer) -> None:
    line = "Nothing sensitive is in the background (screens, whiteboards, registers)"
    content = card([{"type": "TextBlock", "text": line}])
    assert any(problem.startswith("text cut off") for problem in card_renderer.problems(content))


def test_an_over_tall_card_is_caught(card_renderer: CardRenderer) -> None:
    content = card([text(f"Line {n}") for n in range(120)])
    assert any(problem.startswith("card is") and "px tall" in problem for problem in card_renderer.problems(content))


def test_an_unknown_element_is_a_parse_warning(card_renderer: CardRenderer) -> None:
    content = card([{"type": "Input.Rating", "id": "stars", "label": "Stars"}])
    assert any(problem.startswith("parse:") for problem in card_renderer.problems(content))


def test_cards_differing_only_in_words_share_a_shape_and_only_a_wordier_one_is_rendered_again(
    card_renderer: CardRenderer,
) -> None:
    short, longer = card([text("Hi")], [say("Help", "help")]), card([text("Hello there")], [say("Help", "help")])
    assert shape(short) == shape(longer) != shape(card([text("Hi")]))
    check = CardCheck(card_renderer)
    assert check.problems([longer, short, longer]) == {}
    assert (len(check.longest), check.renders) == (1, 1)
