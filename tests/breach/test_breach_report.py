"""The staff member's report dialog: one question at a time, phrasings, bad input re-asked, back, edit, cancel."""

from __future__ import annotations

import logging

import pytest

from bot.runtime import Runtime
from tests.support.breach import ANSWERS, answer, breaches, file_report, last_card
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts, ticked


async def walk_to(teams: TeamsClient, user: TeamsUser, key: str) -> None:
    """Start a report and answer every question before `key`."""
    await teams.say(user, "report a breach")
    for name, (how, value) in ANSWERS.items():
        if name == key:
            return
        await answer(teams, user, name, how, value)


def asks(replies: list, key: str) -> bool:
    """True when the last card is the question `key` (its buttons carry q=key)."""
    card = last_card(replies)
    return any(a.get("data", {}).get("q") == key for a in card_actions(card))


async def test_a_phrasing_is_the_first_answer_and_the_kind_is_guessed_for_confirmation(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime,
) -> None:
    replies = await teams.say(staff_a, "I emailed a report to the wrong parent")
    said = texts(replies)
    assert "noted what happened from your message" in said
    assert "looks like **Sent to the wrong person**" in said
    kind_input = next(b for b in last_card(replies)["body"] if b["type"] == "Input.ChoiceSet")
    assert kind_input["value"] == "wrong_person" and kind_input["style"] == "expanded"
    receipt = await file_report(teams, staff_a, start="I emailed a report to the wrong parent")
    assert "BR-2026-0001" in texts(receipt)
    [breach] = await breaches(runtime)
    assert breach.what_happened == "I emailed a report to the wrong parent" and breach.kind == "wrong_person"


async def test_the_first_question_is_asked_when_started_by_command(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "report a breach")
    assert "What happened?" in texts(replies) and "noted what happened" not in texts(replies)


@pytest.mark.parametrize(("typed", "why"), [
    ("31/02/2026", "couldn't read"),
    ("01/12/2026 10:00", "in the future"),
])
async def test_a_bad_date_is_explained_and_asked_again(teams: TeamsClient, staff_a: TeamsUser, typed: str, why: str) -> None:
    await walk_to(teams, staff_a, "happened_at")
    replies = await teams.say(staff_a, typed)
    assert why in texts(replies) and "for example 03/04/2026 14:30" in texts(replies)
    assert asks(replies, "happened_at")
    assert asks(await teams.say(staff_a, "today 9:15"), "aware_at")


async def test_awareness_cannot_be_before_the_incident(teams: TeamsClient, staff_a: TeamsUser) -> None:
    await walk_to(teams, staff_a, "aware_at")
    replies = await teams.say(staff_a, "yesterday at 3pm")
    assert "before it happened (Wed 25 Nov 2026, 09:15)" in texts(replies) and asks(replies, "aware_at")
    assert asks(await teams.say(staff_a, "now"), "subjects")


@pytest.mark.parametrize(("typed", "why"), [("-3", "negative"), ("2.5", "whole number"), ("loads", "type a number")])
async def test_a_bad_number_is_explained_and_asked_again(teams: TeamsClient, staff_a: TeamsUser, typed: str, why: str) -> None:
    await walk_to(teams, staff_a, "people_count")
    replies = await teams.say(staff_a, typed)
    assert why in texts(replies) and asks(replies, "people_count")
    assert asks(await teams.press(staff_a, {"q": "people_count", "answer": "not known yet"}), "records_count")


async def test_back_goes_to_the_previous_question_with_the_answer_kept(teams: TeamsClient, staff_a: TeamsUser) -> None:
    await walk_to(teams, staff_a, "subjects")
    replies = await teams.say(staff_a, "back")
    assert asks(replies, "aware_at") and "Your answer so far: Wed 25 Nov 2026, 10:00" in texts(replies)
    replies = await teams.press(staff_a, {"q": "aware_at", "nav": "back"})
    assert asks(replies, "happened_at")
    assert asks(await teams.press(staff_a, {"q": "happened_at", "nav": "keep"}), "aware_at")
    assert asks(await teams.press(staff_a, {"q": "aware_at", "nav": "keep"}), "subjects")
    replies = await teams.say(staff_a, "back")
    replies = await teams.say(staff_a, "back")
    replies = await teams.say(staff_a, "back")
    assert asks(replies, "how_discovered")


async def test_typed_choices_long_text_and_stale_buttons(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "report a breach")
    too_long = await teams.press(staff_a, {"q": "what_happened", "answer": "x" * 4001})
    assert "under 4,000" in texts(too_long) and "What happened?" in texts(too_long[-1:])
    await teams.say(staff_a, "A paper register went missing")
    replies = await teams.say(staff_a, "lost or stolen device or paper")
    assert asks(replies, "how_discovered")
    stale = await teams.press(staff_a, {"q": "kind", "answer": "cyber"})
    assert "belongs to an earlier question" in texts(stale) and asks(stale, "how_discovered")


async def test_edit_from_the_summary_then_send(teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime) -> None:
    await walk_to(teams, staff_a, "?")
    replies = await teams.press(staff_a, {"q": "summary", "nav": "edit"})
    assert "Which answer do you want to change?" in texts(replies)
    replies = await teams.press(staff_a, {"q": "edit", "answer": "people_count"})
    assert asks(replies, "people_count")
    replies = await teams.say(staff_a, "12")
    assert "Please check your report" in texts(replies) and "about 12" in texts(replies)
    await teams.press(staff_a, {"q": "summary", "nav": "confirm"})
    [breach] = await breaches(runtime)
    assert breach.people_count == 12 and breach.records_count == 2 and breach.subjects == ["pupils"]


async def test_several_answers_are_checkboxes_that_keep_their_ticks(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime,
) -> None:
    """Multi-select ChoiceSets are not sent reliably by Teams on iOS: checkboxes, each sent ticked or not."""
    await walk_to(teams, staff_a, "?")
    await teams.press(staff_a, {"q": "summary", "nav": "edit"})
    replies = await teams.press(staff_a, {"q": "edit", "answer": "data_categories"})
    card = last_card(replies)
    assert not any(e.get("isMultiSelect") for e in card["body"])
    assert [e["id"] for e in card["body"] if e.get("type") == "Input.Toggle" and e["value"] == "true"] == \
        ["answer.basic", "answer.special"]  # the earlier answer, ticked
    nothing = await teams.press(staff_a, {**ticked(card, ""), "q": "data_categories"})
    assert "Please pick at least one" in texts(nothing) and asks(nothing, "data_categories")
    replies = await teams.press(staff_a, {**ticked(card, "basic,special,education"), "q": "data_categories"})
    assert "Please check your report" in texts(replies)
    await teams.press(staff_a, {"q": "summary", "nav": "confirm"})
    [breach] = await breaches(runtime)
    assert breach.data_categories == ["basic", "education", "special"] and breach.subjects == ["pupils"]


async def test_cancel_saves_nothing_and_logs_hold_no_details(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await walk_to(teams, staff_a, "contained")
    assert "Nothing more was saved" in texts(await teams.say(staff_a, "cancel"))
    assert await breaches(runtime) == []
    await file_report(teams, staff_a)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "breach 1 submitted" in logged
    for secret in (ANSWERS["what_happened"][1], "Megan", "phoned the office", "delayed sending"):
        assert secret not in logged
