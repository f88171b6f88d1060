"""End to end: the DPO's forms come back with the answers kept after an error, typed equivalents of the
buttons, pre-selected answers, and cards that don't invite the wrong action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.runtime import Runtime
from services.clock import SettableClock
from tests.conftest import START
from tests.support.breach import ANSWERS, answer, breaches, file_report, last_card
from tests.support.consent import check_and_post, import_sample
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

MINOR: dict[str, Any] = {"subjects": ("press", "staff"), "data_categories": ("press", "basic"), "contained": ("press", "yes"),
                         "people_count": ("say", "3")}


def inputs(replies: list[Received]) -> dict[str, Any]:
    """The last card's inputs by id, with the value each shows."""
    return {b["id"]: b.get("value") for b in last_card(replies)["body"] if b["type"].startswith("Input.")}


def titles(replies: list[Received]) -> list[str]:
    """Every button title on the replies' cards."""
    return [a.get("title", "") for r in replies for card in r.cards for a in card.get("actions", [])]


async def test_a_refused_decision_comes_back_with_the_answers_kept(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a, **MINOR)
    [breach] = await breaches(runtime)
    refused = await teams.press(dpo_a, {"cmd": "breach.decide", "id": breach.id, "decision": "not_notifiable",
                                        "reason": "", "individuals": "not_required", "individuals_note": "Staff only"})
    assert "needs the reason recorded" in texts(refused)
    assert inputs(refused) == {"decision": "not_notifiable", "reason": None, "individuals": "not_required",
                               "individuals_note": "Staff only"}
    assert [a["data"]["cmd"] for a in last_card(refused)["actions"]] == ["breach.decide"]
    assert (await breaches(runtime))[0].decision is None


async def test_a_future_ico_report_time_and_empty_lessons_come_back_in_their_forms(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    clock.set(START + timedelta(hours=2))
    report = {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-123456", "late_reason": ""}
    refused = await teams.press(dpo_a, {**report, "reported_at": "tomorrow 10:00"})
    assert "not in the future" in texts(refused)
    assert inputs(refused) == {"ico_reference": "IC-123456", "reported_at": "tomorrow 10:00", "late_reason": None}
    assert "reported to the ICO" in texts(await teams.press(dpo_a, {**report, "reported_at": "now"}))

    refused = await teams.press(dpo_a, {"cmd": "breach.close", "id": breach.id, "lessons": "   "})
    assert "Close BR-2026-0001" in texts(refused) and "lessons" in inputs(refused)
    assert (await breaches(runtime))[0].closed_at is None


async def test_typed_equivalents_of_the_dpo_buttons(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    form = await teams.say(dpo_a, "mark reported to ICO BR-2026-0001")
    assert "Reported BR-2026-0001 to the ICO" in texts(form) and "ico_reference" in inputs(form)
    assert "Decision on BR-2026-0001" in texts(await teams.say(dpo_a, "record decision BR-2026-0001"))
    assert "Ask the reporter about BR-2026-0001" in texts(await teams.say(dpo_a, "ask the reporter BR-2026-0001"))
    assert "Close BR-2026-0001" in texts(await teams.say(dpo_a, "close BR-2026-0001"))
    assert "Timeline" in texts(await teams.say(dpo_a, "timeline BR-2026-0001"))
    refused = texts(await teams.say(staff_a, "mark reported to ICO BR-2026-0001"))
    assert "couldn't find that breach" in refused and "ico_reference" not in refused


async def test_pressing_next_on_the_guessed_kind_keeps_it(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(staff_a, "I emailed a report to the wrong parent")
    replies = await teams.press(staff_a, {"q": "kind"})  # Next, the guessed kind left as it was
    assert "How was it found" in texts(replies)
    await answer(teams, staff_a, "how_discovered", "say", "The parent rang")
    await teams.say(staff_a, "back")
    back = await teams.say(staff_a, "back")
    assert inputs(back)["answer"] == "wrong_person"


async def test_a_dpo_updating_a_breach_is_not_told_their_dpo_has_been_told(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a, **MINOR)
    await teams.say(dpo_a, "update BR-2026-0001")
    await teams.press(dpo_a, {"q": "pick", "answer": "people_count"})
    saved = texts(await teams.say(dpo_a, "120"))
    assert "suggested assessment is now" in saved and "your DPO" not in saved and "other DPOs" not in saved
    await teams.say(staff_a, "update BR-2026-0001")
    await teams.press(staff_a, {"q": "pick", "answer": "people_count"})
    assert "telling your DPO now" in texts(await teams.say(staff_a, "3"))


async def test_a_breach_reported_to_the_ico_shows_reported_not_hours_left(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    await teams.press(dpo_a, {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-1", "reported_at": "now"})
    detail = texts(await teams.say(dpo_a, "breach BR-2026-0001"))
    assert "reported to the ICO Wed 25 Nov 2026, 10:00" in detail and "h 00m left" not in detail
    listing = texts(await teams.say(dpo_a, "open breaches"))
    assert "reported to the ICO" in listing and "left" not in listing


async def test_removal_and_housekeeping_reminders_have_no_generic_mark_done(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones")
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    removal = channel.to(staff_a.conversation_id)[before:]
    assert "Please take down post #1" in texts(removal)
    assert "Mark removed" in titles(removal) and "Mark done" not in titles(removal)

    await check_and_post(teams, staff_a, "Jack Jones")
    clock.set(START + timedelta(days=366))
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    due = channel.to(staff_a.conversation_id)[before:]
    assert "Time to take down post #2" in texts(due)
    shown = titles(due)
    assert "Mark removed" in shown and "Mark done" not in shown


async def test_a_breach_from_a_never_publish_removal_carries_the_channel_and_the_risk_not_the_name(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones", link="https://facebook.example/school/posts/1")
    await teams.say(dpo_a, "never publish Olivia Smith - looked-after child")
    replies = await teams.press(dpo_a, {"cmd": "consent.report_breach", "task": 1})
    seen = texts(replies)
    for q in ("how_discovered", "records_count", "contained", "actions_taken", "actions_planned", "others_informed"):
        replies = await answer(teams, dpo_a, q, *ANSWERS[q])  # the rest was pre-filled from the removal
        seen += texts(replies)
    summary = texts(replies)
    for expected in ("on School social media without valid consent (School Facebook page, ",  # the link shown inert
                     "Safeguarding / child protection"):
        assert expected in summary, expected
    assert "Olivia" not in seen and "Smith" not in seen
    await teams.press(dpo_a, {"q": "summary", "nav": "confirm"})
    [breach] = await breaches(runtime)
    assert breach.suggested_risk == "high" and breach.data_categories == ["basic", "safeguarding"]
    assert "posts/1); consent changed" in breach.what_happened
    assert "1 pupil in it must never be published (looked-after, adopted or otherwise protected)" in breach.what_happened


async def test_an_opening_that_only_says_there_is_a_breach_is_not_taken_as_what_happened(
    teams: TeamsClient, staff_a: TeamsUser,
) -> None:
    replies = texts(await teams.say(staff_a, "I think I've made a data breach"))
    assert "noted what happened" not in replies and "What happened?" in replies
    await teams.say(staff_a, "cancel")
    replies = texts(await teams.say(staff_a, "I sent the SATs results to the wrong family"))
    assert "noted what happened from your message" in replies


async def test_a_dpo_reporting_a_breach_is_not_told_their_dpo_was_alerted(
    teams: TeamsClient, dpo_a: TeamsUser,
) -> None:
    receipt = texts(await file_report(teams, dpo_a))
    assert "Your DPO has been alerted" not in receipt and "you included" in receipt
