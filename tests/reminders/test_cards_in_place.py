"""End to end: a pressed card is replaced by its settled version, every card sent about an item follows it, and a
button on an out-of-date card changes nothing (Action.Submit names its message in `replyToId`; the bot PUTs it)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime import Runtime
from config import Settings
from services.breach.decisions import record_decision
from services.breach.records import load_breach, timeline
from services.clock import SettableClock
from services.errors import Outdated
from services.identity import Actor
from storage.breach_models import Breach
from storage.models import Role
from tests.conftest import SCHOOL_A
from tests.support.breach import breaches, file_report
from tests.support.consent import SAMPLE, check_and_post, csv_message, data_uri, import_sample, tasks
from tests.support.training import bookings_of, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

DEE = TeamsUser("Dee Patel", "d0d0d0d0-0000-4000-8000-0000000000a2", SCHOOL_A)
OMAR = TeamsUser("Omar Ali", "d0d0d0d0-0000-4000-8000-0000000000a3", SCHOOL_A)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Three DPOs in school A (Dana, Dee, Omar), and the training catalogue."""
    extra = [f"{SCHOOL_A}:{DEE.aad_id}", f"{SCHOOL_A}:{OMAR.aad_id}"]
    return training_settings(settings, tmp_path).model_copy(update={"dpo_aad_ids": [*settings.dpo_aad_ids, *extra]})


def now_showing(channel: FakeTeamsChannel, message: Received) -> Received:
    """What the person sees now in place of `message` (updated, or as sent)."""
    [current] = [m for m in channel.current(message.conversation_id) if m.id == message.id]
    return current


def titles(message: Received) -> list[str]:
    """The button titles on a message's cards."""
    return [str(action.get("title")) for card in message.cards for action in card_actions(card)]


def button(message: Received, title: str, **inputs: Any) -> dict[str, Any]:
    """What pressing `title` on `message` submits (with the card's inputs filled in)."""
    [data] = [a["data"] for card in message.cards for a in card_actions(card) if a.get("title") == title]
    return {**data, **inputs}


def last_card_message(replies: list[Received]) -> Received:
    """The last reply that carries a card."""
    return [reply for reply in replies if reply.cards][-1]


async def alerts_to(runtime: Runtime, channel: FakeTeamsChannel, people: list[TeamsUser]) -> list[Received]:
    """Sweep the reminders; the one alert each DPO got."""
    await runtime.sweep_reminders()
    found = []
    for person in people:
        [alert] = [m for m in channel.to(person.conversation_id) if "New breach reported" in texts([m])]
        found.append(alert)
    return found


async def test_one_dpo_decides_and_all_three_alerts_show_the_decision_without_decision_buttons(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    dpos = [dpo_a, DEE, OMAR]
    for dpo in dpos:
        await teams.say(dpo, "help")
    await file_report(teams, staff_a)
    alerts = await alerts_to(runtime, channel, dpos)
    assert all("Record decision" in titles(alert) for alert in alerts)
    omar_form = last_card_message(await teams.press(OMAR, button(alerts[2], "Record decision"), on=alerts[2]))

    form = last_card_message(await teams.press(DEE, button(alerts[1], "Record decision"), on=alerts[1]))
    said = await teams.press(DEE, button(form, "Save decision", decision="notify", individuals="tell"), on=form)
    assert "Recorded for **BR-2026-0001**: Notify the ICO" in texts(said)

    for alert in alerts:  # every DPO's alert, where it was: the decision, by whom and when; no decision button
        shown = now_showing(channel, alert)
        assert "Decided by Dee Patel on Wed 25 Nov 2026, 10:00: Notify the ICO" in texts([shown])
        assert "Record decision" not in titles(shown) and "Mark reported to ICO" in titles(shown)
    settled = now_showing(channel, form)
    assert "Decided by Dee Patel" in texts([settled]) and titles(settled) == ["Open"]
    assert [u.id for u in channel.updates(DEE.conversation_id)] == [form.id, alerts[1].id]

    # Omar's form was opened before Dee decided: saving it changes nothing and says what happened.
    late = await teams.press(OMAR, button(omar_form, "Save decision", decision="not_notifiable", individuals="not_required",
                                          reason="only staff names"), on=omar_form)
    assert texts(late).startswith("Decided by Dee Patel on Wed 25 Nov 2026, 10:00: Notify the ICO. That card was out of date")
    [breach] = await breaches(runtime)
    assert breach.decision == "notify" and breach.decision_reason == ""
    assert "That card was out of date" in texts([now_showing(channel, omar_form)])
    again = await teams.press(OMAR, button(alerts[2], "Record decision"), on=alerts[2])  # the button as it was
    assert "Decided by Dee Patel" in texts(again) and not [r for r in again if r.cards]


async def test_a_second_ico_report_from_an_outdated_form_changes_nothing(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    for dpo in (dpo_a, DEE):
        await teams.say(dpo, "help")
    await file_report(teams, staff_a)
    dana_alert, dee_alert = await alerts_to(runtime, channel, [dpo_a, DEE])
    forms = [last_card_message(await teams.press(person, button(alert, "Mark reported to ICO"), on=alert))
             for person, alert in ((dpo_a, dana_alert), (DEE, dee_alert))]
    report = {"reported_at": "", "late_reason": ""}
    done = await teams.press(dpo_a, button(forms[0], "Save", ico_reference="IC-111", **report), on=forms[0])
    assert "case IC-111" in texts(done)
    late = await teams.press(DEE, button(forms[1], "Save", ico_reference="IC-222", **report), on=forms[1])
    assert "Reported to the ICO by Dana Price" in texts(late) and "case IC-111" in texts(late)
    [breach] = await breaches(runtime)
    assert breach.ico_reference == "IC-111"
    for alert in (dana_alert, dee_alert):
        shown = now_showing(channel, alert)
        assert "Reported to the ico" not in texts([shown]) and "Reported to the ICO by Dana Price" in texts([shown])
        assert "Mark reported to ICO" not in titles(shown) and "Record decision" not in titles(shown)


async def test_a_removal_task_marked_removed_updates_in_place_for_the_poster_and_the_dpo(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser,
    dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones")
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    await runtime.sweep_reminders()
    [alert] = [m for m in channel.to(staff_a.conversation_id) if "Please take down post #1" in texts([m])]
    clock.set(clock() + timedelta(days=1, hours=-1))  # Thursday 09:00: the DPO's daily copy
    seen = len(channel.to(dpo_a.conversation_id))  # (the first notices of two DPOs who never opened Custodian: earlier)
    await runtime.sweep_reminders()
    [copy] = [m for m in channel.to(dpo_a.conversation_id)[seen:] if "Please take down post #1" in texts([m])]

    said = await teams.press(staff_a, button(alert, "Mark removed"), on=alert)
    assert "removal #1 is done" in texts(said)
    for message in (alert, copy):
        shown = now_showing(channel, message)
        assert "Removed by Megan Bowen on Thu 26 Nov 2026, 09:00" in texts([shown]) and titles(shown) == []
    again = await teams.press(dpo_a, button(copy, "Mark removed"), on=copy)
    assert texts(again) == ("Removal #1 is already done: Removed by Megan Bowen on Thu 26 Nov 2026, 09:00. "
                            "Nothing was changed.")
    [task] = await tasks(runtime)
    assert task.done_by == staff_a.aad_id


async def test_a_booking_card_after_booking_shows_the_answers_and_old_cards_change_nothing(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser,
) -> None:
    await teams.say(staff_a, "book training")
    training = await session_by_key(runtime, "online")
    role = last_card_message(await teams.press(staff_a, {"cmd": "training.book", "session_id": training.id}))
    confirm = last_card_message(await teams.press(staff_a, button(role, "Head teacher"), on=role))
    shown = now_showing(channel, role)
    assert "\u2705 Head teacher" in texts([shown]) and titles(shown) == []
    assert "That card is from an earlier step" in texts(await teams.press(staff_a, button(role, "Governor"), on=role))

    booked = await teams.press(staff_a, button(confirm, "Book my seat"), on=confirm)
    assert "You're booked" in texts(booked)
    shown = now_showing(channel, confirm)
    assert "\u2705 Book my seat" in texts([shown]) and titles(shown) == [] and "Book a seat on this session?" in texts([shown])
    replay = await teams.press(staff_a, button(confirm, "Book my seat"), on=confirm)
    assert "from a conversation that has already finished" in texts(replay)
    assert len(await bookings_of(runtime, int(training.id or 0))) == 1


async def test_an_applied_import_preview_keeps_no_apply_button_and_a_second_apply_changes_nothing(
    teams: TeamsClient, channel: FakeTeamsChannel, dpo_a: TeamsUser,
) -> None:
    await teams.say(dpo_a, "help")
    preview = last_card_message(await teams.send(csv_message(teams, dpo_a, data_uri(SAMPLE.read_text()))))
    assert titles(preview) == ["Apply", "Cancel"]
    await teams.press(dpo_a, button(preview, "Apply"), on=preview)
    shown = now_showing(channel, preview)
    assert "Applied by Dana Price on Wed 25 Nov 2026, 10:00." in texts([shown]) and titles(shown) == []
    again = await teams.press(dpo_a, button(preview, "Apply"), on=preview)
    assert texts(again).startswith("That import was already applied on Wed 25 Nov 2026, 10:00, so nothing was changed.")
    assert "Nothing was changed" in texts([now_showing(channel, preview)])


async def test_two_dpos_deciding_at_the_same_moment_make_one_decision(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    dana, dee = (Actor(p.tenant_id, p.aad_id, p.name, frozenset({Role.DPO})) for p in (dpo_a, DEE))

    async def decide(session: AsyncSession, actor: Actor, decision: str) -> Breach:
        return await record_decision(session, actor=actor, breach_id=int(breach.id or 0), decision=decision,
                                     reason="staff names only", individuals="not_required", now=runtime.deps.clock(),
                                     seen="AWAITING_DECISION")

    async with runtime.deps.sessions() as late:
        seen = await load_breach(late, actor=dee, breach_id=int(breach.id or 0), dpo_only=True)  # Dee reads it undecided
        async with runtime.deps.sessions() as first:
            await decide(first, dana, "notify")  # Dana saves first
        assert (await load_breach(late, actor=dee, breach_id=int(breach.id or 0))).decision is None, seen
        with pytest.raises(Outdated, match=r"^Decided by Dana Price on .*That card was out of date"):
            await decide(late, dee, "not_notifiable")
    [saved] = await breaches(runtime)
    assert saved.decision == "notify"
    async with runtime.deps.sessions() as session:
        assert [e.action for e in await timeline(session, breach=saved)].count("decided") == 1


async def test_the_fake_channel_updates_and_deletes_as_the_bot_connector_does(channel: FakeTeamsChannel) -> None:
    base = f"{channel.url}v3/conversations/a%3Aone/activities"
    async with aiohttp.ClientSession() as http:
        async with http.post(base, json={"type": "message", "text": "first"}) as sent:
            first = (await sent.json())["id"]
        async with http.put(f"{base}/{first}", json={"type": "message", "text": "changed"}) as updated:
            assert updated.status == 200 and await updated.json() == {"id": first}
        async with http.put(f"{base}/no-such-id", json={"type": "message", "text": "x"}) as unknown:
            assert unknown.status == 404
        assert [m.text for m in channel.current("a:one")] == ["changed"]
        async with http.delete(f"{base}/{first}") as deleted:
            assert deleted.status == 200
        async with http.delete(f"{base}/{first}") as again:
            assert again.status == 404
    assert channel.current("a:one") == [] and [r.op for r in channel.received] == ["send", "update", "delete"]


async def test_a_card_that_can_no_longer_be_updated_leaves_the_others_updated(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    for dpo in (dpo_a, DEE):
        await teams.say(dpo, "help")
    await file_report(teams, staff_a)
    dana_alert, dee_alert = await alerts_to(runtime, channel, [dpo_a, DEE])
    async with aiohttp.ClientSession() as http:  # Dana's alert is gone (deleted in Teams): its update answers 404
        await http.delete(f"{channel.url}v3/conversations/{dpo_a.conversation_id}/activities/{dana_alert.id}")
    form = last_card_message(await teams.press(DEE, button(dee_alert, "Record decision"), on=dee_alert))
    said = await teams.press(DEE, button(form, "Save decision", decision="notify", individuals="tell"), on=form)
    assert "Recorded for **BR-2026-0001**" in texts(said)
    assert "Decided by Dee Patel" in texts([now_showing(channel, dee_alert)])
    assert await runtime.deps.refresh_cards(SCHOOL_A, "breach", 1) == 1  # again: Dee's, not the deleted one
