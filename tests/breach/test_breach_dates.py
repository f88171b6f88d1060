"""Breach times typed the UK way: read fully and read back on the next card, or refused with an example (never "now")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime import Runtime
from services.breach.alerts import DEADLINE, OVERDUE
from services.breach.facts import CLOCK_STAGES, ICO_HOURS, ICO_WINDOW, clock_stages
from services.clock import SettableClock
from tests.support.breach import ANSWERS, answer, breaches, file_report, last_card
from tests.support.consent import import_sample
from tests.teams.client import TeamsClient, TeamsUser, texts


async def start_and_walk_to(teams: TeamsClient, user: TeamsUser, key: str) -> None:
    """Start a report and answer every question before `key` (the clock: Wed 25 Nov 2026, 10:00 UK)."""
    await teams.say(user, "report a breach")
    for name, (how, value) in ANSWERS.items():
        if name == key:
            return
        await answer(teams, user, name, how, value)


def asks(replies: list, key: str) -> bool:
    """True when the last card is the question `key`."""
    return any(a.get("data", {}).get("q") == key for a in last_card(replies).get("actions", []))


async def test_each_typed_time_is_read_back_on_the_next_card_and_stored_exactly(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime
) -> None:
    await start_and_walk_to(teams, staff_a, "happened_at")
    replies = await teams.say(staff_a, "this morning about 8.45")
    assert asks(replies, "aware_at")
    assert "When it happened: **Wed 25 Nov 2026, 08:45** (UK time) \u2014 not right? Type **back**" in texts(replies)
    replies = await teams.say(staff_a, "today 9.15")
    assert asks(replies, "subjects") and "School aware since: **Wed 25 Nov 2026, 09:15** (UK time)" in texts(replies)
    replies = await teams.say(staff_a, "back")  # the echo's way to change it
    assert asks(replies, "aware_at") and "Your answer so far: Wed 25 Nov 2026, 09:15" in texts(replies)
    replies = await teams.press(staff_a, {"q": "aware_at", "nav": "keep"})
    assert asks(replies, "subjects") and "School aware since" not in texts(replies)  # nothing new to read back
    for key, (how, value) in list(ANSWERS.items())[5:]:
        replies = await answer(teams, staff_a, key, how, value)
    await teams.press(staff_a, {"q": "summary", "nav": "confirm"})
    [breach] = await breaches(runtime)
    aware = datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
    assert (breach.happened_at, breach.aware_at) == (datetime(2026, 11, 25, 8, 45, tzinfo=UTC), aware)
    assert breach.deadline_at == aware + timedelta(hours=72)


async def test_a_time_that_cannot_be_read_fully_is_refused_never_taken_as_now(teams: TeamsClient, staff_a: TeamsUser) -> None:
    await start_and_walk_to(teams, staff_a, "happened_at")
    for typed in ("just before lunch", "this morning", "yesterday at midnight"):
        replies = await teams.say(staff_a, typed)
        assert f"couldn't read \u201c{typed}\u201d fully" in texts(replies) and "for example 03/04/2026 14:30" in texts(replies)
        assert asks(replies, "happened_at") and "When it happened:" not in texts(replies)
    replies = await teams.say(staff_a, "yesterday 4.30pm")
    assert asks(replies, "aware_at") and "When it happened: **Tue 24 Nov 2026, 16:30**" in texts(replies)


async def test_the_dpo_sees_the_ico_report_time_as_read(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser,
                                                        runtime: Runtime, clock: SettableClock) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a)  # aware "now": 10:00
    [breach] = await breaches(runtime)
    clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    refused = await teams.press(dpo_a, {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-1",
                                        "reported_at": "after lunch", "late_reason": ""})
    assert "couldn't read \u201cafter lunch\u201d fully" in texts(refused) and "Recorded" not in texts(refused)
    done = await teams.press(dpo_a, {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-1",
                                     "reported_at": "half past two", "late_reason": ""})
    assert "reported to the ICO (case IC-1) on Wed 25 Nov 2026, 14:30 UK time" in texts(done)


async def test_a_corrected_time_is_read_back_when_saved(teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime) -> None:
    await file_report(teams, staff_a)
    await teams.say(staff_a, "update BR-2026-0001")
    await teams.press(staff_a, {"q": "pick", "answer": "happened_at"})
    refused = texts(await teams.say(staff_a, "earlier"))
    assert "couldn't read \u201cearlier\u201d fully" in refused and "Saved" not in refused
    saved = texts(await teams.say(staff_a, "quarter to nine"))
    assert "Saved to the timeline of **BR-2026-0001**. When it happened: **Wed 25 Nov 2026, 08:45** (UK time)." in saved
    [breach] = await breaches(runtime)
    assert breach.happened_at == datetime(2026, 11, 25, 8, 45, tzinfo=UTC)


async def test_when_an_image_was_published_is_read_back(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(dpo_a, "record published without consent")
    await teams.say(dpo_a, "Amir Khan")
    await teams.press(dpo_a, {"purpose": "press"})
    refused = texts(await teams.press(dpo_a, {"when": "after school", "where": "local paper"}))
    assert "couldn't read \u201cafter school\u201d fully" in refused and "When and where was it published?" in refused
    refused = texts(await teams.press(dpo_a, {"when": "tomorrow", "where": "local paper"}))
    assert "That's in the future (Thu 26 Nov 2026, 00:00)" in refused and "Recorded" not in refused
    replies = await teams.press(dpo_a, {"when": "yesterday 4.30", "where": "local paper"})
    assert "It was published Tue 24 Nov 2026, 16:30 (UK time)." in texts(replies)


def test_the_breach_clock_stages_come_from_the_ico_window() -> None:
    assert ICO_HOURS == ICO_WINDOW.total_seconds() / 3600 == 72
    assert CLOCK_STAGES == (24, 48, 60, 68, 71, 72)
    assert clock_stages(DEADLINE, OVERDUE) == [(DEADLINE, 24), (DEADLINE, 48), (DEADLINE, 60), (DEADLINE, 68),
                                               (DEADLINE, 71), (OVERDUE, 72)]
