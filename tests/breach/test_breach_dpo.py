"""End to end: the DPO's alert, the 72-hour reminders, decisions, the ICO report, questions, closing, the CSV log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.reminder_models import ReminderState
from tests.conftest import START
from tests.support.breach import breaches, csv_rows, dumps, file_report, last_card, ledger
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

MINOR: dict[str, Any] = {"subjects": ("press", "staff"), "data_categories": ("press", "basic"), "contained": ("press", "yes"),
         "people_count": ("say", "3")}


async def sweep_to(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    """Run the reminder engine now and return what reached `user`."""
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


async def test_acceptance_report_alert_reminders_reported_to_ico_and_csv(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "help")
    receipt = texts(await file_report(teams, staff_a))
    assert "BR-2026-0001" in receipt and "Sat 28 Nov 2026, 10:00 UK time" in receipt and "What happens next" in receipt
    [breach] = await breaches(runtime)

    alert = last_card(await sweep_to(runtime, channel, dpo_a))
    shown = dumps(alert)
    for expected in ("New breach reported: BR-2026-0001", "Sent to the wrong person", "Pupils", "about 1", "Special category",
                     "72h 00m left", "High risk", "Children's data", "Record decision", "Mark reported to ICO",
                     "Ask the reporter", "Close"):
        assert expected in shown, expected
    assert all(a["data"]["id"] == breach.id for a in card_actions(alert))

    for hours in (24, 48, 60, 68, 71):
        clock.set(START + timedelta(hours=hours, minutes=-1))
        assert await sweep_to(runtime, channel, dpo_a) == []
        clock.set(START + timedelta(hours=hours))
        got = texts(await sweep_to(runtime, channel, dpo_a))
        assert f"{hours} hours since the school became aware" in got and f"{72 - hours}h 00m left" in got

    form = texts(await teams.press(dpo_a, {"cmd": "breach.reported_form", "id": breach.id}))
    assert "ico_reference" in form
    done = await teams.press(dpo_a, {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-123456-A1B2",
                                     "reported_at": "", "late_reason": ""})
    assert "reported to the ICO (case IC-123456-A1B2)" in texts(done)
    overdue = [r for r in await ledger(runtime, breach.id) if r.kind == "breach.overdue"]
    assert [r.state for r in overdue] == [ReminderState.CANCELLED]
    assert not [r for r in await ledger(runtime, breach.id) if r.state == ReminderState.PENDING]
    clock.set(START + timedelta(hours=80))
    assert await sweep_to(runtime, channel, dpo_a) == []

    [row] = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export breaches"))
    assert row["Reference"] == "BR-2026-0001" and row["ICO case reference"] == "IC-123456-A1B2"
    assert row["Status"] == "reported to the ICO" and row["Special category data"] == "yes"
    assert row["What happened"] == "I emailed a pupil's SEN report to the wrong parent"
    assert row["When the school became aware"] == "25/11/2026 10:00"


async def test_not_notifiable_needs_a_reason_and_stays_in_the_log(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a, **MINOR)
    [breach] = await breaches(runtime)
    assert "Risk to people unlikely" in texts(await sweep_to(runtime, channel, dpo_a))
    decide = {"cmd": "breach.decide", "id": breach.id, "decision": "not_notifiable", "individuals": "not_required"}
    refused = texts(await teams.press(dpo_a, {**decide, "reason": "  "}))
    assert "needs the reason recorded" in refused
    assert (await breaches(runtime))[0].decision is None
    assert "Decision: Not notifiable" not in texts(await teams.say(dpo_a, "breach BR-2026-0001"))

    done = texts(await teams.press(dpo_a, {**decide, "reason": "Colleague deleted it; staff phone numbers only"}))
    assert "Not notifiable" in done and "reminders have stopped" in done
    assert not [r for r in await ledger(runtime, breach.id) if r.state == ReminderState.PENDING]
    closed = texts(await teams.press(dpo_a, {"cmd": "breach.close", "id": breach.id, "lessons": "Check recipients"}))
    assert "stays in the breach log" in closed
    assert "BR-2026-0001 is closed" in texts(await sweep_to(runtime, channel, staff_a))

    assert "None open" in texts(await teams.say(dpo_a, "open breaches"))
    timeline = texts(await teams.say(staff_a, "breach BR-2026-0001"))
    assert "Decision: Not notifiable" in timeline and "Dana Price" in timeline and "Lessons learned" in timeline
    [row] = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export breaches"))
    assert row["Decision"].startswith("Not notifiable") and row["Decision reason"].startswith("Colleague deleted")
    assert row["Status"] == "closed" and row["Lessons learned"] == "Check recipients"


async def test_overdue_alert_and_a_late_report_needs_the_reason(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    clock.set(START + timedelta(hours=72, minutes=30))
    got = await sweep_to(runtime, channel, dpo_a)
    assert "OVERDUE: BR-2026-0001" in texts(got) and "reason for the delay" in texts(got)
    assert "OVERDUE by 30m" in texts(await teams.say(dpo_a, "status"))
    report = {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-9", "reported_at": "now"}
    assert "needs the reason for the delay" in texts(await teams.press(dpo_a, {**report, "late_reason": ""}))
    assert (await breaches(runtime))[0].ico_reported_at is None
    await teams.press(dpo_a, {**report, "late_reason": "The DPO was on leave"})
    [row] = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export breaches"))
    assert row["Reason for late report"] == "The DPO was on leave"


async def test_dpo_asks_reporter_answers_and_new_facts_reassess(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a, **MINOR)
    [breach] = await breaches(runtime)
    await sweep_to(runtime, channel, dpo_a)
    assert "Your question" in texts(await teams.press(dpo_a, {"cmd": "breach.ask_form", "id": breach.id}))
    await teams.press(dpo_a, {"cmd": "breach.ask", "id": breach.id, "question": "Did the colleague confirm deletion?"})
    asked = await sweep_to(runtime, channel, staff_a)
    assert "needs more information about BR-2026-0001" in texts(asked) and "Did the colleague confirm" in texts(asked)

    assert "What would you like to add" in texts(await teams.press(staff_a, {"cmd": "breach.update", "id": breach.id}))
    await teams.press(staff_a, {"q": "pick", "answer": "note"})
    saved = texts(await teams.say(staff_a, "Yes, by email this morning"))
    assert "Saved to the timeline of **BR-2026-0001**" in saved and "now:" not in saved
    told = texts(await sweep_to(runtime, channel, dpo_a))
    assert "New information: BR-2026-0001" in told and "Note: Yes, by email this morning" in told

    await teams.say(staff_a, "update BR-2026-0001")
    await teams.press(staff_a, {"q": "pick", "answer": "people_count"})
    assert "Please type a number" in texts(await teams.say(staff_a, "loads"))
    saved = texts(await teams.say(staff_a, "120"))
    assert "suggested assessment is now: Likely risk" in saved
    told = texts(await sweep_to(runtime, channel, dpo_a))
    assert "Suggested assessment changed: BR-2026-0001" in told and "about 3 \u2192 about 120" in told
    timeline = texts(await teams.say(dpo_a, "breach BR-2026-0001"))
    assert "Did the colleague confirm" in timeline and "about 3 \u2192 about 120" in timeline and "Megan Bowen" in timeline


async def test_status_lists_overdue_first_for_the_dpo_and_own_reports_for_staff(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a)
    clock.advance(timedelta(minutes=1))  # a person's pace (the bot limits messages per minute)
    await file_report(teams, staff_a, happened_at=("press", "not known"), aware_at=("say", "21/11/2026 09:00"))
    status = texts(await teams.say(dpo_a, "status"))
    assert status.index("BR-2026-0002") < status.index("BR-2026-0001")
    assert "OVERDUE by 25h 01m" in status and "71h 59m left" in status and "decision needed" in status
    mine = texts(await teams.say(staff_a, "status"))
    assert "BR-2026-0001" in mine and "BR-2026-0002" in mine and "left" not in mine
    listing = texts(await teams.say(staff_a, "open breaches"))
    assert "Your open breach reports" in listing and "BR-2026-0002" in listing
