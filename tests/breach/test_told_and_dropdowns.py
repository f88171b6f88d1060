"""What the bot says is true when it says it ("I'm telling the reporter now" at a weekend too), dropdowns with an
obvious choice start on it, and Next with nothing chosen shows the same card again with the reason at its top."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.runtime import Runtime
from dialogs.breach.forms import pick_card
from services.clock import SettableClock
from tests.breach.test_breach_dpo import sweep_to
from tests.conftest import START
from tests.support.breach import breaches, file_report, last_card
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel

SATURDAY = START + timedelta(days=3)  # Sat 28 Nov 2026, 10:00: quiet hours all day


def dropdown(card: dict[str, Any]) -> dict[str, Any]:
    [choice] = [e for e in card["body"] if e.get("type") == "Input.ChoiceSet"]
    return choice


async def test_closing_at_a_weekend_tells_the_reporter_then_and_there(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock,
    staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a, subjects=("press", "staff"), data_categories=("press", "basic"),
                      contained=("press", "yes"), people_count=("say", "3"))
    [breach] = await breaches(runtime)
    await teams.press(dpo_a, {"cmd": "breach.decide", "id": breach.id, "decision": "not_notifiable",
                              "reason": "Deleted unread", "individuals": "not_required"})
    clock.set(SATURDAY)
    closed = texts(await teams.press(dpo_a, {"cmd": "breach.close", "id": breach.id, "lessons": "Check recipients"}))
    assert "I'm telling the reporter now." in closed and "has been told" not in closed
    assert "BR-2026-0001 is closed" in texts(await sweep_to(runtime, channel, staff_a))  # on Saturday, not Monday


async def test_a_dpo_closing_their_own_report_is_not_told_someone_was_told(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser,
) -> None:
    await file_report(teams, dpo_a, subjects=("press", "staff"), data_categories=("press", "basic"),
                      contained=("press", "yes"), people_count=("say", "3"))
    [breach] = await breaches(runtime)
    await teams.press(dpo_a, {"cmd": "breach.decide", "id": breach.id, "decision": "not_notifiable",
                              "reason": "Deleted unread", "individuals": "not_required"})
    closed = texts(await teams.press(dpo_a, {"cmd": "breach.close", "id": breach.id, "lessons": "Check recipients"}))
    assert "is closed" in closed and "reporter" not in closed


def test_pick_lists_start_on_their_obvious_choice() -> None:
    options = {"note": "Add a note or answer the DPO's question", "kind": "What kind of breach"}
    assert dropdown(pick_card("What?", q="pick", options=options, go="Next", back_title="Never mind"))["value"] == "note"
    assert dropdown(pick_card("What?", q="edit", options=options, go="Next", back_title="Back", value="kind"))["value"] == "kind"


async def test_the_reporters_answer_card_starts_on_answering_the_question(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    card = last_card(await teams.press(staff_a, {"cmd": "breach.update", "id": breach.id}))
    assert dropdown(card)["value"] == "note"


async def test_next_with_nothing_chosen_shows_the_same_card_with_the_reason(
    teams: TeamsClient, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "report a breach")
    asked = await teams.say(staff_a, "A box of pupil records went into the recycling bin")  # no kind to guess
    question = last_card(asked)
    assert "value" not in dropdown(question)  # nothing pre-selected (a pre-selected answer counts when Next is pressed)
    again = await teams.press(staff_a, {"q": "kind"})  # Next pressed, the dropdown left empty
    [reply] = again
    [card] = reply.cards
    assert card["body"][0]["text"].startswith("Nothing was chosen") and card["body"][0]["color"] == "Attention"
    assert card["body"][1:] == question["body"] and card["actions"] == question["actions"]
    assert "didn't catch" not in texts(again)


async def test_the_kind_question_starts_on_what_the_answer_sounds_like(teams: TeamsClient, staff_a: TeamsUser) -> None:
    await teams.say(staff_a, "report a breach")
    kind = last_card(await teams.say(staff_a, "I emailed a pupil's SEN report to the wrong parent"))
    assert dropdown(kind)["value"] == "wrong_person" and "looks like **Sent to the wrong person**" in str(kind)
