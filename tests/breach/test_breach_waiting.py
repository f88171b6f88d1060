"""End to end: a breach reported before any DPO has opened Custodian still reaches them, late and marked so."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.reminder_models import ReminderState
from tests.conftest import START
from tests.support.breach import breaches, dumps, file_report, ledger
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel


def in_group(teams: TeamsClient, user: TeamsUser, text: str) -> dict[str, object]:
    """`user` writes in a group chat (Teams gives no 1:1 conversation to write to later)."""
    activity = teams.message(user, text)
    activity["conversation"] = {"id": "19:staffroom@thread.v2", "conversationType": "groupChat", "isGroup": True}
    return activity


async def test_a_breach_before_the_dpo_ever_spoke_reaches_them_at_first_hello(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    receipt = texts(await file_report(teams, staff_a))
    assert "No DPO has opened Custodian yet" in receipt and "tell them now by phone" in receipt
    assert "Your DPO has been alerted" not in receipt
    [breach] = await breaches(runtime)
    await runtime.sweep_reminders()
    assert channel.to(dpo_a.conversation_id) == []

    clock.set(START + timedelta(hours=30))
    first = await teams.say(dpo_a, "hello")
    assert first[0].cards and first[0].cards[0]["body"][0]["text"] == "Waiting for you"
    waiting = texts(first[:1])
    assert "BR-2026-0001" in waiting and "1 breach alert waited for you" in waiting and "42h 00m left" in waiting
    assert "Custodian can help you with" in texts(first[1:])  # then the menu

    report = await runtime.sweep_reminders()
    assert report.sent == 1  # the late alert only: the 24-hour reminder it replaces is not sent as well
    [alert] = [card for r in channel.to(dpo_a.conversation_id)[len(first):] for card in r.cards]
    shown = dumps(alert)
    assert "New breach reported: BR-2026-0001" in shown and "Late: sent when you first opened Custodian" in shown
    assert "Reported Wed 25 Nov 2026, 10:00 UK time" in shown and "42h 00m left" in shown
    pending = {(r.kind, r.due_at) for r in await ledger(runtime, breach.id) if r.state == ReminderState.PENDING}
    assert ("breach.deadline", START + timedelta(hours=48)) in pending

    clock.set(START + timedelta(hours=48))
    await runtime.sweep_reminders()
    assert "48 hours since the school became aware" in texts(channel.to(dpo_a.conversation_id))
    again = texts(await teams.say(dpo_a, "help"))  # a DPO's help starts with what waits; the late note was once
    assert "Waiting for you" in again and "24h 00m left" in again and "waited for you" not in again
    assert "Waiting for you" not in texts(await teams.say(staff_a, "help"))


async def test_a_dpo_seen_only_in_a_group_chat_gets_alerts_held_then_delivered_on_install(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    await teams.send(in_group(teams, dpo_a, "help"))  # a DPO now, but no 1:1 chat to write to
    receipt = texts(await file_report(teams, staff_a))
    assert "No DPO has opened Custodian yet" in receipt
    [breach] = await breaches(runtime)
    alerts = [r for r in await ledger(runtime, breach.id) if r.kind == "breach.alert"]
    assert [r.recipient_aad_id for r in alerts] == [dpo_a.aad_id]  # in the ledger from the moment it was filed

    report = await runtime.sweep_reminders()
    assert (report.waiting, report.unreachable, report.failed) == (1, 0, 0)
    clock.set(START + timedelta(hours=25))
    assert (await runtime.sweep_reminders()).waiting == 2  # the 24-hour reminder waits too; the alert, looked at daily
    assert [r.state for r in await ledger(runtime, breach.id) if r.kind == "breach.alert"] == [ReminderState.PENDING]

    install = await teams.send(teams.from_file("conversationUpdate_bot_installed_personal_docs_ADAPTED.json", dpo_a))
    assert install[0].cards[0]["body"][0]["text"] == "Waiting for you" and "BR-2026-0001" in texts(install[:1])
    assert "Hello, I'm Custodian" in texts(install[1:])
    report = await runtime.sweep_reminders()
    assert (report.sent, report.cancelled) == (1, 0)
    assert "Late: sent when you first opened Custodian" in texts(channel.to(dpo_a.conversation_id))
    states = {r.kind: r.state for r in await ledger(runtime, breach.id) if r.due_at <= clock()}
    assert states == {"breach.alert": ReminderState.SENT, "breach.deadline": ReminderState.CANCELLED}


async def test_a_colleague_made_dpo_gets_the_open_breaches(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    await runtime.sweep_reminders()
    reply = texts(await teams.say(dpo_a, "make Megan Bowen a DPO"))
    assert "They will get an alert for each open breach" in reply
    await runtime.sweep_reminders()
    assert "Sent now because you have just been made a DPO" in texts(channel.to(staff_a.conversation_id))
    help_reply = await teams.say(staff_a, "help")
    assert help_reply[0].cards[0]["body"][0]["text"] == "Waiting for you"  # a DPO's help starts with what waits


async def test_a_dpos_help_in_a_group_chat_names_no_breach(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    said = texts(await teams.send(in_group(teams, dpo_a, "help")))
    assert "awaiting decision" not in said and "Waiting for you" not in said


async def test_installation_update_is_a_first_contact_too(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel,
) -> None:
    await file_report(teams, staff_a)  # the seeded DPO is known from now on: the alert is in the ledger at once
    installed = await teams.send(teams.from_file("installationUpdate_add_team_docs.json", dpo_a))
    assert installed[0].cards[0]["body"][0]["text"] == "Waiting for you" and "BR-2026-0001" in texts(installed)
    assert (await runtime.sweep_reminders()).sent == 1
    sent = texts(channel.to(dpo_a.conversation_id))
    assert "New breach reported: BR-2026-0001" in sent and "Late:" not in sent  # no time passed: not late
