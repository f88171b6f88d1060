"""Subject access requests end to end through /api/messages: log, stop the clock for ID, resume, extend, remind, close,
export; isolation across schools and staff."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from dialogs.features import build_features
from dialogs.intents import Match, Recogniser
from dialogs.phrasings import EXAMPLES, LAST_RESORT
from services.clock import SettableClock
from storage.reminder_models import Reminder, ReminderState
from storage.sar_models import SubjectAccessRequest
from tests.conftest import SCHOOL_A
from tests.support.breach import csv_rows, dumps, last_card
from tests.support.consent import import_sample, pupil
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

FORM: dict[str, Any] = {"q": "form", "requester_type": "parent", "requester_name": "Jo Bloggs", "subject_kind": "person",
                        "subject_name": "Sam Bloggs", "received": "23/11/2026", "channel": "email", "id_verified": "no",
                        "educational": "no"}
OTHER_STAFF_A = TeamsUser("Alex Wilber", "3c3c3c3c-0000-4000-8000-0000000000a3", SCHOOL_A)


async def log_sar(teams: TeamsClient, user: TeamsUser, **changes: Any) -> list[Received]:
    """Open the form, fill it in (person, not pupil, unless changed) and confirm; returns the receipt."""
    assert "Log a subject access request" in texts(await teams.say(user, "log a SAR"))
    summary = texts(await teams.press(user, {**FORM, **changes}))
    assert "Please check the request" in summary, summary
    return await teams.press(user, {"q": "summary", "nav": "confirm"})


async def sars(runtime: Runtime) -> list[SubjectAccessRequest]:
    async with runtime.deps.sessions() as session:
        return list((await session.execute(select(SubjectAccessRequest).order_by(col(SubjectAccessRequest.id)))).scalars())


async def clock_reminders(runtime: Runtime, sar_id: int) -> list[Reminder]:
    async with runtime.deps.sessions() as session:
        rows = await session.execute(select(Reminder).where(col(Reminder.subject_type) == "sar",
                                                            col(Reminder.subject_id) == str(sar_id),
                                                            col(Reminder.kind) != "sar.alert").order_by(col(Reminder.id)))
        return list(rows.scalars())


async def sweep_to(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


def at(day: int, month: int, year: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def test_log_pause_for_id_resume_extend_remind_close_export(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await teams.say(dpo_a, "status")  # says hello, so Teams lets the bot write first
    assert "Pupil register updated" in texts(await import_sample(teams, dpo_a))
    olivia = await pupil(runtime, SCHOOL_A, "Olivia", "Smith")

    form = await teams.say(staff_a, "a parent has asked for all the data we hold on their child")
    assert "Log a subject access request" in texts(form)
    picked = await teams.press(staff_a, {**FORM, "subject_kind": "pupil", "subject_name": "olivia smth"})
    assert "Which pupil did you mean" in texts(picked) and "Olivia Smith" in texts(picked)
    summary = texts(await teams.press(staff_a, {"q": "pupil", "pupil": olivia.id}))
    assert "Mon 23 Nov 2026" in summary and "Wed 23 Dec 2026 (one calendar month)" in summary
    receipt = texts(await teams.press(staff_a, {"q": "summary", "nav": "confirm"}))
    assert "SAR-2026-0001" in receipt and "Wed 23 Dec 2026" in receipt and "will be told now" in receipt
    [sar] = await sars(runtime)
    assert sar.pupil_id == olivia.id and sar.subject_name.startswith("Olivia Smith") and sar.requester_name == "Jo Bloggs"
    assert sorted(int(str(r.payload["days"])) for r in await clock_reminders(runtime, sar.id or 0)) == [0, 1, 3, 7, 14]

    alert = dumps(last_card(await sweep_to(runtime, channel, dpo_a)))
    assert "New subject access request: SAR-2026-0001" in alert and "Jo Bloggs" in alert and "Megan Bowen" in alert

    stopped = texts(await teams.press(dpo_a, {"cmd": "sar.pause", "id": sar.id, "kind": "id"}))
    assert "stopped (waiting for proof of identity) from Wed 25 Nov 2026" in stopped
    assert {r.state for r in await clock_reminders(runtime, sar.id or 0)} == {ReminderState.CANCELLED}
    assert "clock stopped" in texts(await teams.say(dpo_a, "status"))

    clock.set(at(30, 11, 2026, 10))
    assert "When did it arrive" in texts(await teams.press(dpo_a, {"cmd": "sar.resume_form", "id": sar.id}))
    early = texts(await teams.press(dpo_a, {"cmd": "sar.resume", "id": sar.id, "on": "20/11/2026"}))
    assert "must be between Wed 25 Nov 2026" in early
    # ID came on Friday 27 Nov: a month is Sun 27 Dec; 28 Dec is Boxing Day (observed) -> Tue 29 Dec.
    resumed = texts(await teams.press(dpo_a, {"cmd": "sar.resume", "id": sar.id, "on": "27/11/2026"}))
    assert "restarted Fri 27 Nov 2026" in resumed and "now due **Tue 29 Dec 2026**" in resumed

    extend = {"cmd": "sar.extend", "id": sar.id, "months": "2", "reason": "Thousands of emails to search", "told": "today"}
    assert "needs the reason" in texts(await teams.press(dpo_a, {**extend, "reason": " "}))
    assert "within the first month" in texts(await teams.press(dpo_a, {**extend, "told": "20/11/2026"}))
    extended = texts(await teams.press(dpo_a, extend))  # 27 Feb 2027 is a Saturday
    assert "extended by 2 month(s) (requester told Mon 30 Nov 2026)" in extended and "**Mon 01 Mar 2027**" in extended
    pending = [r for r in await clock_reminders(runtime, sar.id or 0) if r.state == ReminderState.PENDING]
    assert {r.payload["due_on"] for r in pending} == {"2027-03-01"} and len(pending) == 5

    clock.set(at(15, 2, 2027, 7))  # 14 days before, but 07:00 is inside quiet hours
    assert await sweep_to(runtime, channel, dpo_a) == []
    clock.set(at(15, 2, 2027, 8))
    reminded = texts(await sweep_to(runtime, channel, dpo_a))
    assert "SAR due soon: SAR-2026-0001" in reminded and "14 days left" in reminded

    clock.set(at(2, 3, 2027, 9))
    assert "OVERDUE: SAR-2026-0001" in texts(await sweep_to(runtime, channel, dpo_a))
    assert "OVERDUE by 1 day" in texts(await teams.say(dpo_a, "status"))
    assert "SAR-2026-0001" in texts(await teams.say(dpo_a, "SARs due this week"))

    assert "Which step is done" in texts(await teams.press(dpo_a, {"cmd": "sar.tick_form", "id": sar.id}))
    assert "Ticked" in texts(await teams.press(dpo_a, {"cmd": "sar.tick", "id": sar.id, "step": "mis"}))
    assert "already ticked by Dana Price" in texts(await teams.press(dpo_a, {"cmd": "sar.tick", "id": sar.id, "step": "mis"}))
    close = {"cmd": "sar.close", "id": sar.id, "outcome": "partial", "note": "", "disclosed": "MIS record; 34 emails",
             "sent": "today"}
    assert "exemptions used" in texts(await teams.press(dpo_a, close))
    closed = texts(await teams.press(dpo_a, {**close, "note": "Safeguarding: third-party report withheld"}))
    assert "closed: Disclosed in part (exemptions used), sent Tue 02 Mar 2027" in closed
    assert not [r for r in await clock_reminders(runtime, sar.id or 0) if r.state == ReminderState.PENDING]

    [row] = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export SARs"))
    assert row["Reference"] == "SAR-2026-0001" and row["Received"] == "23/11/2026" and row["Due"] == "01/03/2027"
    assert row["Outcome"].startswith("Disclosed in part") and row["Disclosed"] == "MIS record; 34 emails"
    assert row["Requester told of extension"] == "30/11/2026" and "Search the MIS (Dana Price" in row["Steps done"]
    assert row["Pupil on the register"] == "yes" and row["Sent"] == "02/03/2027"
    assert "Disclosed in part" in texts(await teams.say(staff_a, "sar SAR-2026-0001"))
    assert "Jo Bloggs" not in caplog.text and "Olivia" not in caplog.text


async def test_educational_record_is_15_school_days_and_cannot_be_extended(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime,
) -> None:
    await teams.say(dpo_a, "status")  # says hello, so Teams lets the bot write first
    receipt = texts(await log_sar(teams, staff_a, received="today", educational="yes"))
    assert "Wed 16 Dec 2026" in receipt
    [sar] = await sars(runtime)
    refused = texts(await teams.press(dpo_a, {"cmd": "sar.extend", "id": sar.id, "months": "1", "reason": "x",
                                              "told": "today"}))
    assert "can't be extended" in refused


async def test_bad_input_gets_a_clear_answer(teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime) -> None:
    await teams.say(staff_a, "log a SAR")
    assert "fill in the form" in texts(await teams.say(staff_a, "my name is Jo"))
    assert "can't be in the future" in texts(await teams.press(staff_a, {**FORM, "received": "tomorrow"}))
    assert "couldn't read" in texts(await teams.press(staff_a, {**FORM, "received": "the other day"}))
    assert "requester's name" in texts(await teams.press(staff_a, {**FORM, "requester_name": "  "}))
    assert "Please check the request" in texts(await teams.press(staff_a, FORM))
    assert "Press **Log it**" in texts(await teams.say(staff_a, "hmm"))
    assert await sars(runtime) == []


async def test_staff_see_only_their_own_and_schools_never_see_each_other(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser, dpo_b: TeamsUser, runtime: Runtime,
) -> None:
    await log_sar(teams, staff_a)
    assert "SAR-2026-0001" in texts(await log_sar(teams, staff_b, requester_name="Kim Other"))  # numbered per school
    mine, theirs = await sars(runtime)
    assert "SAR-2026-0001" in texts(await teams.say(staff_a, "open SARs"))
    [detail] = await teams.say(staff_a, "sar SAR-2026-0001")
    assert "Jo Bloggs" in texts([detail]) and not [a for c in detail.cards for a in c.get("actions", [])]  # no DPO buttons
    assert "None." in texts(await teams.say(OTHER_STAFF_A, "open SARs"))
    assert "couldn't find that request" in texts(await teams.say(OTHER_STAFF_A, "sar SAR-2026-0001"))
    assert "couldn't find that request" in texts(await teams.press(staff_a, {"cmd": "sar.pause", "id": mine.id,
                                                                            "kind": "id"}))
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "export SARs"))
    assert "couldn't find that request" in texts(await teams.press(dpo_b, {"cmd": "sar.show", "id": mine.id}))
    assert "couldn't find that request" in texts(await teams.press(dpo_b, {"cmd": "sar.close", "id": mine.id,
                                                                          "outcome": "withdrawn"}))
    listed = texts(await teams.say(dpo_a, "open SARs"))
    assert "(1)" in listed and "Kim Other" not in texts(await teams.press(dpo_a, {"cmd": "sar.show", "id": mine.id}))
    assert "couldn't find that request" in texts(await teams.press(dpo_a, {"cmd": "sar.show", "id": theirs.id}))
    [row] = await csv_rows(teams, dpo_b, await teams.say(dpo_b, "export SARs"))
    assert row["Requester"] == "Kim Other"
    assert (await sars(runtime))[0].closed_at is None


@pytest.mark.parametrize(("said", "dialog"), [
    ("a parent has asked for all the data we hold on their child", "sar.log"),
    ("Mum wants a copy of all the information we have on Jack", "sar.log"),
    ("subject access request", "sar.log"),
    ("show me open SARs", "sar.list"),
    ("which SARs are due this week", "sar.week"),
    ("sar SAR-2026-0003", "sar.show"),
    ("export SARs", "dpo.export_sars"),
    ("I sent all the data we hold on a pupil to the wrong parent", "breach.report"),
])
def test_what_people_say_reaches_the_right_flow(runtime: Runtime, said: str, dialog: str) -> None:
    recogniser = Recogniser([intent for feature in build_features(runtime.deps) for intent in feature.intents], EXAMPLES,
                            LAST_RESORT)
    decision = recogniser.decide(said)
    assert isinstance(decision, Match) and decision.intent.dialog_id == dialog


async def test_a_handler_sees_ticks_and_is_reminded_but_does_not_run_the_clock(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "status")  # says hello, so Teams lets the bot write first
    await teams.say(OTHER_STAFF_A, "help")
    await log_sar(teams, staff_a)
    [sar] = await sars(runtime)
    assert "couldn't find that request" in texts(await teams.say(OTHER_STAFF_A, "sar SAR-2026-0001"))
    form = await teams.press(dpo_a, {"cmd": "sar.assign_form", "id": sar.id})
    assert "Alex Wilber" in texts(form) and "Megan Bowen" in texts(form)
    refused = texts(await teams.press(dpo_a, {"cmd": "sar.assign", "id": sar.id, "handler": "someone-else"}))
    assert "choose someone from the list" in refused
    done = texts(await teams.press(dpo_a, {"cmd": "sar.assign", "id": sar.id, "handler": OTHER_STAFF_A.aad_id}))
    assert "Alex Wilber** now handles **SAR-2026-0001" in done

    assert "SAR-2026-0001" in texts(await teams.say(OTHER_STAFF_A, "open SARs"))
    assert "Ticked" in texts(await teams.press(OTHER_STAFF_A, {"cmd": "sar.tick", "id": sar.id, "step": "email"}))
    refused = texts(await teams.press(OTHER_STAFF_A, {"cmd": "sar.pause", "id": sar.id, "kind": "id"}))
    assert "couldn't find that request" in refused and (await sars(runtime))[0].paused_on is None
    assert "couldn't find that request" in texts(await teams.press(staff_a, {"cmd": "sar.tick", "id": sar.id,
                                                                            "step": "mis"}))

    clock.set(at(9, 12, 2026, 10))  # 14 days before Wed 23 Dec
    before = len(channel.to(dpo_a.conversation_id))
    reminded = texts(await sweep_to(runtime, channel, OTHER_STAFF_A))
    assert "SAR due soon: SAR-2026-0001" in reminded and "You're handling this subject access request" in reminded
    assert "SAR due soon: SAR-2026-0001" in texts(channel.to(dpo_a.conversation_id)[before:])
