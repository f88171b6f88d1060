"""Breach card builders (valid Adaptive Cards 1.5, every button carrying the breach id) and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialogs.breach.cards import (
    ASK_FORM,
    CLOSE_FORM,
    DECIDE_FORM,
    REPORTED_FORM,
    SHOW,
    UPDATE,
    closed_card,
    detail_card,
    dpo_alert_card,
    info_request_card,
    list_card,
    receipt_card,
    time_left,
    until_deadline,
)
from dialogs.breach.forms import (
    ask_form,
    close_form,
    decision_form,
    pick_card,
    question_card,
    reported_form,
    summary_card,
)
from dialogs.kit.cards import toggled
from services.breach.facts import KINDS
from services.breach.log import LOG_HEADER, log_row
from services.breach.records import apply_facts
from services.exports import csv_bytes, safe_cell
from storage.breach_models import Breach, BreachEvent
from tests.breach.test_breach_assessment import MINOR
from tests.support.card_schema import assert_valid_card
from tests.teams.client import card_actions

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def make_breach(**changes: Any) -> Breach:
    breach = Breach(id=7, tenant_id="t", reference="BR-2026-0007", reporter_aad_id="r", reporter_name="Megan",
                    kind="other", aware_at=NOW, deadline_at=NOW, contained="no", suggested_risk="unlikely",
                    created_at=NOW, updated_at=NOW)
    apply_facts(breach, MINOR)
    for name, value in changes.items():
        setattr(breach, name, value)
    return breach


def valid(card: dict[str, Any]) -> dict[str, Any]:
    assert_valid_card(card)
    return card


def datas(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = [a["data"] for a in card_actions(card)]
    found += [b["selectAction"]["data"] for b in card["body"] if "selectAction" in b]
    return found


def test_dpo_alert_has_the_facts_time_left_suggestion_and_buttons_with_the_id() -> None:
    breach = make_breach()
    card = valid(dpo_alert_card(breach, breach.deadline_at - timedelta(hours=11), title="New breach reported", lead="x"))
    flat = json.dumps(card)
    assert "BR-2026-0007" in flat and "Sent to the wrong person" in flat and "Suggested (you decide)" in flat
    assert "11h 00m left" in flat and "Sat 28 Nov 2026, 09:00 UK time" in flat  # aware 09:00 Wed + 72 clock hours
    assert [d["cmd"] for d in datas(card)] == [DECIDE_FORM, REPORTED_FORM, ASK_FORM, CLOSE_FORM, SHOW]
    assert all(d["id"] == 7 and d["school"] == "t" for d in datas(card))
    assert card["fallbackText"] == "New breach reported: BR-2026-0007"


def test_detail_card_shows_the_timeline_and_only_a_dpo_gets_dpo_buttons() -> None:
    events = [BreachEvent(id=1, tenant_id="t", breach_id=7, at=NOW, actor_aad_id="r", actor_name="Megan",
                          action="submitted", detail="Reported.")]
    staff = valid(detail_card(make_breach(), events, is_dpo=False, now=NOW))
    assert "Megan: Reported." in json.dumps(staff)
    assert [d["cmd"] for d in datas(staff)] == [UPDATE]
    assert "Suggested" not in json.dumps(staff)
    dpo = valid(detail_card(make_breach(), events, is_dpo=True, now=NOW))
    assert DECIDE_FORM in [d["cmd"] for d in datas(dpo)]
    closed = valid(detail_card(make_breach(closed_at=NOW), events, is_dpo=True, now=NOW))
    assert "actions" not in closed


def test_other_breach_cards_are_valid() -> None:
    breach = make_breach()
    for card in (receipt_card(breach, dpos_told=2), receipt_card(breach, dpos_told=0), info_request_card(breach, "Why?"),
                 closed_card(make_breach(lessons_learned="Check")), list_card([breach], NOW, is_dpo=True),
                 list_card([], NOW, is_dpo=False), decision_form(breach), ask_form(breach), close_form(breach),
                 reported_form(breach, NOW)):
        valid(card)
        assert all(d.get("id") == 7 for d in datas(card) if "cmd" in d)
    assert "head teacher" in json.dumps(receipt_card(breach, dpos_told=0))


def test_reported_form_requires_a_reason_only_when_late() -> None:
    def late_input(card: dict[str, Any]) -> dict[str, Any]:
        return next(b for b in card["body"] if b.get("id") == "late_reason")
    breach = make_breach()
    assert late_input(reported_form(breach, breach.deadline_at - timedelta(hours=1)))["isRequired"] is False
    assert late_input(reported_form(breach, breach.deadline_at + timedelta(hours=1)))["isRequired"] is True


@pytest.mark.parametrize("style", ["text", "buttons", "choice", "multi"])
def test_question_cards_carry_the_question_and_a_back_button(style: str) -> None:
    card = valid(question_card("Kind?", q="kind", style=style, options=KINDS, current="other",
                               quick=(("Not known", "not known"),), keep=True))
    assert all(d["q"] == "kind" for d in datas(card))
    assert {"q": "kind", "nav": "back"} in datas(card) and {"q": "kind", "nav": "keep"} in datas(card)
    choices = [b for b in card["body"] if b["type"] == "Input.ChoiceSet"]
    boxes = [b for b in card["body"] if b["type"] == "Input.Toggle"]
    assert bool(choices) == (style == "choice") and bool(boxes) == (style == "multi")
    assert not any(c.get("isMultiSelect") for c in choices)  # not submitted reliably by Teams on iOS (AdaptiveCards#9330)
    if style == "multi":  # one checkbox per answer, the current one ticked
        assert [(b["id"], b["title"]) for b in boxes] == [(f"answer.{code}", title) for code, title in KINDS.items()]
        assert [b["id"] for b in boxes if b["value"] == b["valueOn"]] == ["answer.other"]


def test_ticked_checkboxes_read_as_a_multi_select_did() -> None:
    assert toggled({"q": "subjects", "answer.pupils": "true", "answer.staff": "false", "answer.parents": "true"}) \
        == "pupils,parents"
    assert toggled({"q": "subjects", "answer.pupils": "false"}) == ""
    assert toggled({"q": "subjects", "answer": "pupils"}) is None  # a card sent before the checkboxes still works


def test_summary_and_pick_cards() -> None:
    summary = valid(summary_card([("Kind", "Other")], back=False))
    assert [d["nav"] for d in datas(summary)] == ["confirm", "edit"]
    valid(pick_card("Which?", q="edit", options={"kind": "Kind"}, go="Change", back_title="Back"))


def test_time_left() -> None:
    assert time_left(NOW + timedelta(hours=61, minutes=5), NOW) == "61h 05m left"
    assert time_left(NOW - timedelta(hours=3), NOW) == "OVERDUE by 3h 00m"
    assert time_left(NOW + timedelta(minutes=45), NOW) == "45m left"
    assert time_left(NOW - timedelta(minutes=30), NOW) == "OVERDUE by 30m"


def test_until_deadline_reads_as_a_sentence_either_side_of_the_deadline() -> None:
    assert until_deadline(NOW + timedelta(hours=2), NOW) == "2h 00m left until the ICO deadline."
    assert until_deadline(NOW - timedelta(hours=1, minutes=5), NOW) == "The ICO deadline passed 1h 05m ago."


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    rows = list(csv.reader(io.StringIO(csv_bytes(["h"], [[cell]]).decode("utf-8-sig"))))
    assert rows == [["h"], ["'" + cell]]


def test_csv_keeps_ordinary_text_and_empties() -> None:
    content = csv_bytes(["a", "b", "c"], [["Café, \"quoted\"", None, 3]])
    assert content.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig")))) == [["a", "b", "c"], ["Café, \"quoted\"", "", "3"]]


def test_log_row_matches_the_header() -> None:
    row = log_row(make_breach(what_happened="=cmd|' /C calc'!A0"))
    assert len(row) == len(LOG_HEADER)
    assert row[0] == "BR-2026-0007" and row[6] == "Sent to the wrong person"
