"""Breach drills end to end: a compressed drill from start to report with nothing in the breach log, the clock's
reminders at their compressed times, the drill's practice ICO pack, the report compared with earlier drills, who may
run one, and bad input."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from dialogs.breach import drill_cards
from services.breach import drills
from services.breach.drill_pack import drill_pack, practice_breach
from services.breach.drill_scenarios import SCENARIOS
from services.breach.facts import CATEGORIES, CONTAINED, KINDS, SUBJECTS
from services.breach.ico_pack import gaps
from services.clock import SettableClock
from storage.drill_models import BreachDrill
from storage.models import AuditEvent
from storage.reminder_models import ReminderState
from tests.conftest import START
from tests.support.breach import ICO_ORDER, breaches, card_text, csv_rows, dumps, last_card, ledger
from tests.support.consent import rows
from tests.teams.client import FILE_CONSENT, TeamsClient, TeamsUser, attachments_of, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received


async def sweep_to(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    """Run the reminder engine now and return what reached `user`."""
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


def at_minute(clock: SettableClock, minutes: float) -> None:
    """Real minutes after START (at speed 60, one drill hour each)."""
    clock.set(START + timedelta(minutes=minutes))


def drill_sections(replies: list[Received]) -> list[str]:
    """The titles of a practice pack's section cards, in the order sent ("DRILL · 3 · What has happened?")."""
    titles = [str(card["body"][0]["text"]) for reply in replies for card in reply.cards]
    return [title.split(" \u00b7 ", 2)[2] for title in titles if title.startswith("DRILL \u00b7 ")]


def drill_section(replies: list[Received], title: str) -> str:
    """One practice section card's text."""
    [found] = [card for reply in replies for card in reply.cards if card["body"][0]["text"].endswith(f" \u00b7 {title}")]
    return dumps(found)


async def test_acceptance_compressed_drill_from_start_to_report_with_nothing_in_the_breach_log(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    started = texts(await teams.say(dpo_a, "start a breach drill"))
    assert "DRILL: Breach drill started" in started and "drill speed 60" in started
    assert "DRILL" in texts(await teams.say(dpo_a, "drill speed 60")) and "(drill time, 60\u00d7 speed)" in texts(
        await teams.say(dpo_a, "status"))
    [drill] = await rows(runtime, BreachDrill)
    due = sorted((r.due_at - START, r.kind) for r in await ledger(runtime) if r.state == ReminderState.PENDING
                 and r.kind != "drill.alert")
    assert due == [(timedelta(minutes=m), "drill.deadline") for m in (24, 48, 60, 68, 71)] + [
        (timedelta(minutes=72), "drill.overdue")]

    alert = last_card(await sweep_to(runtime, channel, dpo_a))
    shown = dumps(alert)
    assert "DRILL: New breach reported" in shown and "Practice only" in shown and "SEN support plans" in shown
    assert all(a["data"]["id"] == drill.id for a in card_actions(alert))

    at_minute(clock, 5)
    opened = dumps(last_card(await teams.press(dpo_a, {"cmd": "drill.show", "id": drill.id})))
    assert "DRILL: Misdirected email with SEN data" in opened and "5h 00m of 72h" in opened
    at_minute(clock, 10)
    assert "containment" in dumps(last_card(await teams.press(dpo_a, {"cmd": "drill.contain_form", "id": drill.id})))
    contained = texts(await teams.press(dpo_a, {"cmd": "drill.contain", "id": drill.id,
                                                "containment": "Parent confirmed deletion by phone"}))
    assert "Containment recorded at 10h 00m drill time" in contained
    at_minute(clock, 20)
    decided = texts(await teams.press(dpo_a, {"cmd": "drill.decide", "id": drill.id, "decision": "notify",
                                              "individuals": "tell"}))
    assert "Decision recorded at 20h 00m" in decided
    at_minute(clock, 24)
    assert "24 hours since the school became aware (drill time)" in texts(await sweep_to(runtime, channel, dpo_a))
    at_minute(clock, 30)
    pack = await teams.press(dpo_a, {"cmd": "drill.ico_pack", "id": drill.id})
    assert "asked for the ICO pack at 30h 00m drill time" in texts(pack) and drill_sections(pack) == ICO_ORDER
    at_minute(clock, 48)
    assert await sweep_to(runtime, channel, dpo_a) == []  # the pack stands in for the report: the clock stopped

    report = texts(await teams.say(dpo_a, "stop drill"))
    for expected in ("DRILL: Drill report", "Time to first look", "5h 00m", "Time to a decision", "20h 00m",
                     "Time to the ICO pack", "30h 00m", "None: every step was taken", "first drill"):
        assert expected in report, expected
    after = texts(await teams.say(dpo_a, "status"))
    assert "DRILL" not in after and "Breaches" not in after  # only the standing training-due line is left
    assert not [r for r in await ledger(runtime) if r.state == ReminderState.PENDING]

    assert await breaches(runtime) == []
    assert "None open" in texts(await teams.say(dpo_a, "open breaches"))
    assert "BR-" not in texts(await teams.say(dpo_a, "breaches this month"))
    assert await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export breaches")) == []
    audited = [e.action for e in await rows(runtime, AuditEvent) if e.subject_type == "drill"]
    assert audited == ["drill.started", "drill.speed", "drill.contained", "drill.decided", "drill.ico_pack",
                       "drill.stopped"]


async def test_the_drills_ico_pack_is_the_real_pack_of_its_scenario_marked_drill_and_saves_no_breach(
    teams: TeamsClient, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
) -> None:
    assert "Saved the school profile" in texts(await teams.press(dpo_a, {
        "cmd": "school.profile_save", "name": "St Mary's CE Primary", "address": "1 Church Lane, Leeds LS1 1AA",
        "ico_registration": "ZA123456", "dpo_contact": "Dana Price, dpo@stmarys.example"}))
    await teams.say(dpo_a, "start a breach drill about ransomware at speed 60")
    [drill] = await rows(runtime, BreachDrill)
    at_minute(clock, 6)
    await teams.press(dpo_a, {"cmd": "drill.contain", "id": drill.id, "containment": "IT unplugged the network"})
    at_minute(clock, 9)
    pack = await teams.say(dpo_a, "drill ico pack")

    assert "asked for the ICO pack at 9h 00m drill time" in texts(pack)
    assert drill_sections(pack) == ICO_ORDER
    assert len(pack[-1].cards) == 1 and all("Practice only: not a real breach" in dumps(reply.cards)
                                            for reply in pack if reply.cards)
    assert "ICO report pack: DRILL \u00b7 Ransomware" in texts(pack) and "has no Word version" in texts(pack)
    assert "St Mary's CE Primary" in drill_section(pack, "Organisation details")
    assert "demanding payment" in drill_section(pack, "What has happened?")
    assert '"text": "Yes"' in drill_section(pack, "Cyber incident")
    assert "about 600" in drill_section(pack, "Data subjects and records")
    assert "IT unplugged the network" in drill_section(pack, "Containment and recovery")
    assert "I am unclear whether" in drill_section(pack, "Initial or follow-up report")  # no decision recorded yet
    assert "the drill's Record decision button" in drill_section(pack, "Telling the people affected")
    training = drill_section(pack, "Staff training")
    assert "Alex Moore" in training and "Attention" in training  # the pretend reporter's training is a gap
    assert not attachments_of(pack, FILE_CONSENT) and "BR-" not in texts(pack)

    assert await breaches(runtime) == []
    assert "Time to the ICO pack" in (report := texts(await teams.say(dpo_a, "stop drill"))) and "9h 00m" in report
    assert (await rows(runtime, BreachDrill))[0].ico_pack_s == 9 * 3600


async def test_an_ignored_drill_gets_every_compressed_reminder_and_its_report_lists_what_was_missed(
    teams: TeamsClient, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock, channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "start a breach drill about ransomware at speed 60")
    assert "Ransomware" in texts(await sweep_to(runtime, channel, dpo_a))
    at_minute(clock, 2)
    await teams.press(dpo_a, {"cmd": "drill.show", "id": (await rows(runtime, BreachDrill))[0].id})
    at_minute(clock, 3)
    first = texts(await teams.say(dpo_a, "stop drill"))
    assert "No decision on notifying the ICO" in first and "No containment recorded" in first

    at_minute(clock, 10)
    await teams.say(dpo_a, "start a breach drill at speed 60")
    assert "Misdirected email with SEN data" in texts(await sweep_to(runtime, channel, dpo_a))  # not practised yet
    for hours in (24, 48, 60, 68, 71):
        at_minute(clock, 10 + hours - 0.5)
        assert await sweep_to(runtime, channel, dpo_a) == []
        at_minute(clock, 10 + hours)
        got = texts(await sweep_to(runtime, channel, dpo_a))
        assert "DRILL: ICO deadline reminder" in got and f"{hours} hours since" in got and f"{72 - hours}h 00m left" in got
    at_minute(clock, 82)
    assert "DRILL: OVERDUE" in texts(await sweep_to(runtime, channel, dpo_a))

    report = texts(await teams.say(dpo_a, "stop drill"))
    for expected in ("The alert was never opened", "No decision on notifying the ICO",
                     "No decision on telling the people affected", "No containment recorded",
                     "last drill 2h 00m", "Compared with 1 earlier drill"):
        assert expected in report, expected
    assert await breaches(runtime) == []


async def test_only_a_dpo_runs_a_drill_and_another_school_never_sees_it(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, dpo_b: TeamsUser, runtime: Runtime,
) -> None:
    assert "only for your school's DPO" in texts(await teams.say(staff_a, "start a breach drill"))
    assert await rows(runtime, BreachDrill) == []
    await teams.say(dpo_a, "start a breach drill")
    assert "already running" in texts(await teams.say(dpo_a, "start a breach drill"))
    [drill] = await rows(runtime, BreachDrill)
    assert "couldn't find that breach drill" in texts(await teams.press(dpo_b, {"cmd": "drill.show", "id": drill.id}))
    assert "couldn't find that breach drill" in texts(await teams.press(dpo_b, {"cmd": "drill.stop", "id": drill.id}))
    assert "no breach drill running" in texts(await teams.say(dpo_b, "stop drill"))
    assert "DRILL" not in texts(await teams.say(dpo_b, "status"))
    assert "DRILL" not in texts(await teams.say(staff_a, "status"))
    assert (await rows(runtime, BreachDrill))[0].ended_at is None


async def test_bad_input_gets_a_clear_answer(teams: TeamsClient, dpo_a: TeamsUser, runtime: Runtime) -> None:
    assert "no breach drill running" in texts(await teams.say(dpo_a, "drill speed 60"))
    assert "no breach drill running" in texts(await teams.say(dpo_a, "stop drill"))
    await teams.say(dpo_a, "start a breach drill")
    for said in ("drill speed fast", "drill speed 0", "drill speed 100000", "drill speed 6 0"):
        assert "one whole number from 1 to 720" in texts(await teams.say(dpo_a, said)), said
    [drill] = await rows(runtime, BreachDrill)
    assert "choose a decision" in texts(await teams.press(dpo_a, {"cmd": "drill.decide", "id": drill.id,
                                                                   "decision": "maybe"}))
    assert "Please type an answer" in texts(await teams.press(dpo_a, {"cmd": "drill.contain", "id": drill.id,
                                                                       "containment": "  "}))
    assert "couldn't find that breach drill" in texts(await teams.press(dpo_a, {"cmd": "drill.show", "id": "x"}))
    assert "Drill report" in texts(await teams.say(dpo_a, "end the drill"))
    assert "has ended" in texts(await teams.press(dpo_a, {"cmd": "drill.decide_form", "id": drill.id}))
    assert card_text(await teams.say(dpo_a, "drill")).count("no breach drill running") == 1


async def test_speeding_up_mid_drill_keeps_the_drill_time_and_moves_the_reminders(
    teams: TeamsClient, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock, channel: FakeTeamsChannel,
) -> None:
    await teams.say(dpo_a, "start a breach drill")
    clock.set(START + timedelta(hours=2))
    assert "2h 00m of 72h (drill time, real time)" in texts(await teams.say(dpo_a, "drill"))
    assert "2h 00m of 72h (drill time, 60\u00d7 speed)" in texts(await teams.say(dpo_a, "drill speed 60"))
    pending = [r for r in await ledger(runtime) if r.state == ReminderState.PENDING and r.kind != "drill.alert"]
    assert sorted(r.due_at - START for r in pending) == [timedelta(hours=2, minutes=h - 2) for h in (24, 48, 60, 68, 71, 72)]
    clock.set(START + timedelta(hours=2, minutes=22))
    assert "24 hours since" in texts(await sweep_to(runtime, channel, dpo_a))


def test_the_drill_clock_and_the_steps_missed() -> None:
    drill = BreachDrill(tenant_id="t", started_by="d", scenario="ransomware", started_at=START, speed=60,
                        clock_real_at=START + timedelta(minutes=10), clock_drill_s=3600)
    assert drills.drill_seconds(drill, START + timedelta(minutes=11)) == 2 * 3600
    assert drills.steps_missed(drill) == ["The alert was never opened.", "No decision on notifying the ICO.",
                                          "No decision on telling the people affected.", "No containment recorded."]
    drill.first_look_s, drill.decided_s, drill.decision, drill.individuals = 60, 73 * 3600, "notify", "tell"
    drill.contained_s = 600
    assert drills.steps_missed(drill) == ["The decision came after the 72 hours.",
                                          "Decided to notify the ICO, but the ICO pack was never prepared."]
    drill.ended_s = 5
    assert drills.drill_seconds(drill, START + timedelta(days=9)) == 5
    assert drill_cards.hours(45 * 60) == "45m" and drill_cards.hours(3 * 3600 + 300) == "3h 05m"


def test_every_scenario_makes_a_practice_breach_whose_pack_builds() -> None:
    for scenario in SCENARIOS:
        drill = BreachDrill(tenant_id="t", started_by="d", scenario=scenario.key, started_at=START, speed=60,
                            clock_real_at=START, decision="notify", individuals="tell", containment="Done it")
        breach = practice_breach(drill)
        assert breach.id is None and breach.reference == f"DRILL \u00b7 {scenario.title}"
        assert breach.kind in KINDS and breach.contained in CONTAINED and breach.what_happened == scenario.said
        assert set(breach.subjects) <= set(SUBJECTS) and set(breach.data_categories) <= set(CATEGORIES)
        assert breach.aware_at == START and breach.people_count == scenario.people_count
        on_time = drill_pack(drill, None, months=24, now=START + timedelta(minutes=10))
        assert [section.title for section in on_time] == ICO_ORDER and gaps(on_time) > 0, scenario.key
        assert "Done it" in str(on_time[9]) and "Yes, we've told them" in str(on_time[11])
        late = drill_pack(drill, None, months=24, now=START + timedelta(minutes=80))  # 80 drill hours
        assert "the ICO asks why the report is late" in str(late[4]), scenario.key
