"""End to end: the school profile, the ICO report pack (sections in the ICO form's order, gaps in red, the .docx
through Allow), and training that counts (attendance -> training record -> the pack's training answer)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from tests.conftest import START
from tests.support.breach import ICO_ORDER, breaches, dumps, file_report
from tests.support.training import ORGANISER, book_via_chat, bookings_of, session_by_key, training_settings
from tests.teams.client import FILE_CONSENT, TeamsClient, TeamsUser, attachments_of, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

GAP = "Not known yet \u2014 the ICO accepts this in an initial report"
PROFILE = {"cmd": "school.profile_save", "name": "St Mary's CE Primary", "address": "1 Church Lane, Leeds LS1 1AA",
           "ico_registration": "za 123456", "dpo_contact": "Dana Price, dpo@stmarys.example, 0113 000 0000"}
GAPPY: dict[str, Any] = {"happened_at": ("say", "not known"), "people_count": ("say", "not known yet"),
         "data_categories": ("press", "special,unknown")}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


def sections(replies: list[Received]) -> list[str]:
    """The titles of the pack's section cards, in the order sent ("3 · What has happened?" -> "What has happened?")."""
    return [title.split(" \u00b7 ", 1)[1] for title in map(_title, (c for r in replies for c in r.cards))
            if title[:1].isdigit()]


def _title(card: dict[str, object]) -> str:
    body = card.get("body")
    return str(body[0].get("text", "")) if isinstance(body, list) and body else ""


def section(replies: list[Received], title: str) -> str:
    """One section card's text (the red blocks included)."""
    [found] = [card for reply in replies for card in reply.cards if _title(card).endswith(f" \u00b7 {title}")]
    return dumps(found)


async def test_pack_for_a_breach_with_gaps_in_ico_order_with_the_docx(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser, dpo_b: TeamsUser, runtime: Runtime,
) -> None:
    form = await teams.say(dpo_a, "school profile")
    assert "ICO registration number" in texts(form) and "Save" in dumps(card_actions(form[-1].cards[-1]))
    refused = await teams.press(dpo_a, {**PROFILE, "ico_registration": "12345"})
    assert "looks like ZA123456" in texts(refused) and "1 Church Lane" in texts(refused)  # what was typed is kept
    assert "Saved the school profile for **St Mary's CE Primary**" in texts(await teams.press(dpo_a, PROFILE))
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "school profile"))

    await file_report(teams, staff_a, **GAPPY)
    await file_report(teams, staff_b, what_happened=("say", "School B only: lost the Year 6 register"))
    [breach, _] = await breaches(runtime)
    decided = await teams.press(dpo_a, {"cmd": "breach.decide", "id": breach.id, "decision": "notify",
                                        "individuals": "undecided", "reason": ""})
    assert "Recorded for **BR-2026-0001**: Notify the ICO" in texts(decided)
    assert "ICO report pack: BR-2026-0001" in texts(decided) and "answers in red still need you" in texts(decided)
    assert sections(decided) == ICO_ORDER

    organisation = section(decided, "Organisation details")
    assert "St Mary's CE Primary" in organisation and "ZA123456" in organisation
    assert GAP in section(decided, "When did the breach happen?")
    assert "No delay: the 72 hours end Sat 28 Nov 2026, 10:00" in section(decided, "When did the breach happen?")
    assert GAP in section(decided, "Data subjects and records") and "about 2" in section(decided, "Data subjects and records")
    categories = section(decided, "Categories of personal data")
    assert GAP in categories and "Special category" in categories
    assert "I consider the incident meets the threshold to report" in section(decided, "Initial or follow-up report")
    assert "Attention" in section(decided, "Telling the people affected")  # not decided yet: in red
    assert '"text": "No"' in section(decided, "Cyber incident")
    assert "Megan Bowen" in section(decided, "Staff training") and "Attention" in section(decided, "Staff training")

    [(name, content)] = await teams.files(dpo_a, decided)
    assert name == "ICO-report-BR-2026-0001.docx"
    document = Document(io.BytesIO(content))
    headings = [p.text.split(". ", 1)[1] for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == ICO_ORDER
    red = [run.text for p in document.paragraphs for run in p.runs if run.font.color.rgb is not None]
    assert any(text.startswith(GAP) for text in red) and "I emailed a pupil's SEN report" in "\n".join(
        p.text for p in document.paragraphs)

    # Only that school's DPOs: its reporter gets "not found" and no file; the other school's DPO gets their own.
    replies = await teams.say(staff_a, "ico pack BR-2026-0001")
    assert not attachments_of(replies, FILE_CONSENT) and "ICO report pack" not in texts(replies)
    assert "SEN report" not in texts(replies)
    theirs = texts(await teams.say(dpo_b, "ico pack BR-2026-0001"))
    assert "School B only" in theirs and "SEN report" not in theirs and "St Mary's" not in theirs


async def test_late_pack_asks_for_the_reason_and_a_reported_one_is_a_follow_up(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
) -> None:
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    clock.set(START + timedelta(hours=80))
    late = await teams.say(dpo_a, "ico pack br-2026-1")
    timing = section(late, "When did the breach happen?")
    assert "The 72 hours ended Sat 28 Nov 2026, 10:00 UK time: the ICO asks why the report is late" in timing
    assert "type \u201cschool profile\u201d" in section(late, "Organisation details")

    await teams.press(dpo_a, {"cmd": "breach.reported", "id": breach.id, "ico_reference": "IC-123456-A1B2",
                              "reported_at": "", "late_reason": "The head was on a residential trip with no signal"})
    again = await teams.say(dpo_a, "ico pack BR-2026-0001")
    report = section(again, "Initial or follow-up report")
    assert "Follow-up report" in report and "IC-123456-A1B2" in report
    assert "residential trip" in section(again, "When did the breach happen?")
    assert "Which breach?" in texts(await teams.say(dpo_a, "ico pack"))


async def test_attendance_becomes_the_training_record_and_the_packs_answer(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, clock: SettableClock,
    channel: FakeTeamsChannel,
) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")
    await book_via_chat(teams, staff_a, int(online.id or 0))
    await book_via_chat(teams, dpo_a, int(online.id or 0))
    assert "No data-protection session attended yet" in texts(await teams.say(staff_a, "my training"))

    assert "mark attendance once it has started" in texts(await teams.say(ORGANISER, f"attendance {online.id}"))
    assert "only training organisers" in texts(await teams.say(staff_a, f"attendance {online.id}"))
    clock.set(online.ends_at + timedelta(hours=1))
    status = await teams.say(ORGANISER, "status")
    assert f"#{online.id} AI for senior leaders (online)" in texts(status) and "attendance not marked yet" in texts(status)
    register = await teams.press(ORGANISER, {"cmd": "training.register", "session_id": online.id})
    toggles = [b for card in register[0].cards for b in card["body"] if b["type"] == "Input.Toggle"]
    assert sorted(t["title"] for t in toggles) == ["Dana Price \u2014 school aaaaaaaa", "Megan Bowen \u2014 school aaaaaaaa"]
    bookings = {b.name: b.id for b in await bookings_of(runtime, int(online.id or 0))}
    saved = await teams.press(ORGANISER, {"cmd": "training.attendance_save", "session_id": online.id,
                                          f"came_{bookings['Megan Bowen']}": "true", f"came_{bookings['Dana Price']}": "false"})
    assert "Saved: 1 of 2 came" in texts(saved)
    assert [(b.name, b.attended) for b in await bookings_of(runtime, int(online.id or 0))] == [
        ("Megan Bowen", True), ("Dana Price", False)]
    assert "attendance not marked yet" not in texts(await teams.say(ORGANISER, "status"))

    record = texts(await teams.say(staff_a, "my training"))
    assert "AI for senior leaders (online)" in record and "Up to date" in record
    assert "No data-protection session attended yet" in texts(await teams.say(dpo_a, "my training"))

    await file_report(teams, staff_a)
    pack = await teams.say(dpo_a, "ico pack BR-2026-0001")
    training = section(pack, "Staff training")
    assert "Yes \u2014 Megan Bowen (who reported it) attended \u201cAI for senior leaders (online)\u201d" in training
    assert "Attention" not in training

    # Two years and a day later the same session no longer counts: the pack says so, in red.
    clock.set(online.starts_at + timedelta(days=2 * 366))
    later = section(await teams.say(dpo_a, "ico pack BR-2026-0001"), "Staff training")
    assert "Attention" in later and "in the last 24 months" in later


async def test_dpo_sees_who_is_due_and_invites_them_in_one_click(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel,
    clock: SettableClock,
) -> None:
    await teams.say(staff_a, "hello")
    assert "Waiting for you" not in texts(await teams.say(dpo_a, "hello"))  # a standing list, not something waiting
    status = texts(await teams.say(dpo_a, "status"))
    assert "2 staff due data-protection training (none in 24 months)" in status
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "training due"))
    due = await teams.press(dpo_a, {"cmd": "training.show_due"})
    shown = texts(due)
    assert "Megan Bowen \u2014 never" in shown and "Dana Price \u2014 never" in shown and "Ben Carter" not in shown
    [invite] = [a["data"] for a in card_actions(due[-1].cards[-1])]
    online = await session_by_key(runtime, "online")
    assert invite == {"cmd": "training.invite_due", "session_id": online.id}
    assert "Only your school's DPO" in texts(await teams.press(staff_a, invite))

    assert "Invited 2 people to session" in texts(await teams.press(dpo_a, invite))
    before = len(channel.to(staff_a.conversation_id))
    await runtime.sweep_reminders()
    [card] = [c for r in channel.to(staff_a.conversation_id)[before:] for c in r.cards]
    assert "Your data-protection training is due" in dumps(card) and "AI for senior leaders (online)" in dumps(card)
    assert "Head teacher" in texts(await teams.press(staff_a, card_actions(card)[0]["data"]))  # booking starts

    await teams.press(dpo_a, invite)  # pressed twice: nobody is invited twice
    await runtime.sweep_reminders()
    assert len([c for r in channel.to(staff_a.conversation_id)[before:] for c in r.cards
                if "training is due" in dumps(c)]) == 1

    # The weekly digest counts them (no names) with a button to the list and the invitation.
    before = len(channel.to(dpo_a.conversation_id))
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # Monday 08:00 UK
    await runtime.sweep_reminders()
    [digest] = [c for r in channel.to(dpo_a.conversation_id)[before:] for c in r.cards if "weekly digest" in dumps(c)]
    assert {"title": "Staff due data-protection training", "value": "2"} in digest["body"][2]["facts"]
    assert {"cmd": "training.show_due"} in [a["data"] for a in card_actions(digest)]
    assert "Megan" not in dumps(digest)
