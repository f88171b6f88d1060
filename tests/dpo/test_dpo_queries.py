"""A DPO's plain-words questions, the exports, and the weekly digest (exactly once per DPO per school per week)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from config import Settings
from dialogs.dpo.cards import digest_card, due_today_card, questions_card
from services.clock import SettableClock
from services.dpo.digest import Digest, DigestTime, plan_digests
from services.dpo.overview import DueToday
from storage.models import AuditEvent
from storage.reminder_models import Reminder
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.breach import file_report
from tests.support.consent import check_and_post, import_sample, schema_errors
from tests.support.training import book_via_chat, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


async def csv_of(teams: TeamsClient, user: TeamsUser, replies: list[Received]) -> tuple[str, list[list[str]]]:
    """(file name, rows) of the one CSV offered in the replies, once `user` has pressed Allow."""
    [(name, content)] = await teams.files(user, replies)
    return name, list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def audit_actions(runtime: Runtime, tenant: str) -> list[str]:
    async with runtime.deps.sessions() as session:
        query = select(col(AuditEvent.action)).where(col(AuditEvent.tenant_id) == tenant).order_by(col(AuditEvent.id))
        rows = await session.execute(query)
        return list(rows.scalars())


async def digests(runtime: Runtime) -> list[Reminder]:
    async with runtime.deps.sessions() as session:
        rows = await session.execute(select(Reminder).where(col(Reminder.kind) == "dpo.digest").order_by(col(Reminder.id)))
        return list(rows.scalars())


def test_digest_time_and_cards_are_valid() -> None:
    when = DigestTime()
    moment, week = when.this_week(datetime(2026, 11, 25, 10, tzinfo=UTC))
    assert (moment, week) == (datetime(2026, 11, 23, 8, tzinfo=UTC), "2026-W48")
    summer, _ = when.this_week(datetime(2026, 6, 3, 12, tzinfo=UTC))
    assert summer == datetime(2026, 6, 1, 7, tzinfo=UTC)  # 08:00 BST
    digest = Digest(["BR-2026-0001"], 2, [], list(range(1, 13)), [4], 3, 1)
    content = digest_card("Oakfield", digest, moment)
    assert not schema_errors(content) and not schema_errors(questions_card(is_dpo=True, lead="?"))
    flat = str(content)
    assert "1 (BR-2026-0001)" in flat and "#10, \u2026" in flat and "#11" not in flat and "Oakfield" in flat
    due = DueToday([], [Reminder(key="k", tenant_id=SCHOOL_A, kind="consent.housekeeping", recipient_aad_id="x",
                                 subject_type="consent_post", subject_id="3", due_at=moment, created_at=moment)], [], [])
    today = due_today_card(due, moment, is_dpo=False)
    assert not schema_errors(today) and "Photo consent \u00b7 08:00" in str(today) and "Only your own items" in str(today)


async def test_breaches_this_month_and_open_breaches(teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser,
                                                     clock: SettableClock) -> None:
    await teams.say(dpo_a, "hello")
    await file_report(teams, staff_a)
    clock.advance(timedelta(minutes=1))
    month = texts(await teams.say(dpo_a, "breaches this month"))
    assert "Breaches this month (1)" in month and "BR-2026-0001" in month
    assert "BR-2026-0001" in texts(await teams.say(dpo_a, "show me open breaches"))
    assert "(your reports) (1)" in texts(await teams.say(staff_a, "breaches this month"))
    clock.advance(timedelta(days=7))  # December
    assert "Breaches this month (0)" in texts(await teams.say(dpo_a, "breaches this month"))


async def test_whats_due_today_and_posts_to_remove(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser,
                                                   staff_a: TeamsUser, clock: SettableClock) -> None:
    await teams.say(dpo_a, "hello")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith")
    clock.advance(timedelta(minutes=1))
    await file_report(teams, staff_a)
    clock.advance(timedelta(minutes=1))
    assert "Nothing is past its remove-by date" in texts(await teams.say(dpo_a, "posts to remove"))
    clock.advance(timedelta(days=70))  # the breach deadline passed long ago
    due = texts(await teams.say(dpo_a, "what's due today"))
    assert "ICO deadlines" in due and "BR-2026-0001" in due and "OVERDUE" in due
    clock.advance(timedelta(days=400))  # social media posts come down after 12 months
    posts = texts(await teams.say(dpo_a, "posts to remove"))
    assert "Posts to remove (your school) (1)" in posts and "Post #1" in posts
    assert "Post #1" in texts(await teams.say(staff_a, "posts to remove"))  # their own post
    assert "Post #1" in texts(await teams.say(dpo_a, "anything due today?"))


async def test_consent_gaps_dpo_only(teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    gaps = texts(await teams.say(dpo_a, "who has not got photo consent in 4B?"))
    assert "Without photo consent in 4B" in gaps and "Amir" in gaps and "Grace" in gaps  # refused social media; never publish
    social = texts(await teams.say(dpo_a, "which pupils have no social media consent in 4B"))
    assert "Amir" in social and "Local press" not in social
    refused = texts(await teams.say(staff_a, "who has not got photo consent in 4B"))
    assert "Only your school's DPO" in refused and "Amir" not in refused


async def test_bookings_for_a_day(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser,
                                  staff_b: TeamsUser) -> None:
    await teams.say(staff_a, "book training")
    online = await session_by_key(runtime, "online")  # Wed 9 Dec 2026, 15:30
    await book_via_chat(teams, staff_a, int(online.id or 0))
    await book_via_chat(teams, staff_b, int(online.id or 0))
    await teams.say(dpo_a, "hello")
    day = texts(await teams.say(dpo_a, "bookings for 9 December"))
    assert "Training bookings on Wed 09 Dec 2026 (1)" in day and "Megan Bowen" in day and "Ben Carter" not in day
    assert "(1)" in texts(await teams.say(dpo_a, "bookings on 09/12/2026"))
    assert "(0)" in texts(await teams.say(dpo_a, "bookings for 10 December"))
    assert "(yours) (1)" in texts(await teams.say(staff_a, "bookings for 9 Dec"))
    assert "couldn't read" in texts(await teams.say(dpo_a, "bookings for the cows come home"))


async def test_unknown_questions_list_what_can_be_asked(teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser) -> None:
    dpo = texts(await teams.say(dpo_a, "what about the fire drill"))
    assert "You can ask me" in dpo and "export audit" in dpo and "breaches this month" in dpo
    staff = texts(await teams.say(staff_a, "show me everything"))
    assert "You can ask me" in staff and "export audit" not in staff
    assert "Open breaches" in texts(await teams.say(dpo_a, "open breaches"))  # the breach feature's own command


async def test_exports_are_school_scoped_formula_safe_and_audited(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, dpo_b: TeamsUser, staff_a: TeamsUser, clock: SettableClock,
) -> None:
    hostile = "UPN,Legal Surname,Forename,Preferred name,Year,Reg group,Website\nZ9,=HYPERLINK(1),+Eve,,Year 4,4B,Yes\n"
    await import_sample(teams, dpo_a)
    await import_sample(teams, dpo_b, hostile)
    await check_and_post(teams, staff_a, "Olivia Smith", description="@SUM(1+1)")
    clock.advance(timedelta(minutes=1))

    name, rows = await csv_of(teams, dpo_b, await teams.say(dpo_b, "export consent"))
    assert name.startswith("consent-register-") and len(rows) == 2
    assert rows[1][1:3] == ["'=HYPERLINK(1)", "'+Eve"]
    _, rows = await csv_of(teams, dpo_a, await teams.say(dpo_a, "export consent register"))
    assert len(rows) == 41 and not any(r[1].startswith("'=") for r in rows)

    _, posts = await csv_of(teams, dpo_a, await teams.say(dpo_a, "export posts"))
    assert posts[0][0] == "Post" and len(posts) == 2 and posts[1][3] == "'@SUM(1+1)"
    _, none = await csv_of(teams, dpo_b, await teams.say(dpo_b, "export posts"))
    assert len(none) == 1

    _, trail = await csv_of(teams, dpo_a, await teams.say(dpo_a, "export audit"))
    assert trail[0] == ["Time (UK)", "Actor (Entra id)", "Action", "Subject type", "Subject id"]
    actions = [r[2] for r in trail[1:]]
    expected = {"pupils.imported", "consent.checked", "post.recorded", "consent_register.exported", "post_register.exported"}
    assert expected <= set(actions)
    assert dpo_b.aad_id not in {r[1] for r in trail}  # school B's rows stay in school B
    assert "audit_trail.exported" in await audit_actions(runtime, SCHOOL_A)
    assert "consent_register.exported" in await audit_actions(runtime, SCHOOL_B)

    for command in ("export consent", "export posts", "export audit"):
        before = await audit_actions(runtime, SCHOOL_A)
        replies = await teams.say(staff_a, command)
        assert not [a for r in replies for a in r.attachments] and "DPO" in texts(replies)
        assert await audit_actions(runtime, SCHOOL_A) == before


async def test_weekly_digest_once_per_dpo_per_school_per_week(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, dpo_a: TeamsUser, dpo_b: TeamsUser, staff_a: TeamsUser,
    clock: SettableClock,
) -> None:
    await teams.say(dpo_a, "hello")
    await teams.say(dpo_b, "hello")
    await file_report(teams, staff_a)
    await runtime.sweep_reminders()
    assert await digests(runtime) == []  # Wednesday: this week's digest time is long gone
    clock.set(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))  # Monday 07:59 UK
    await runtime.sweep_reminders()
    assert await digests(runtime) == []
    before = {u.name: len(channel.to(u.conversation_id)) for u in (dpo_a, dpo_b)}
    clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    await runtime.sweep_reminders()
    planned = await digests(runtime)
    assert sorted(r.key for r in planned) == sorted(f"digest:{u.tenant_id}:{u.aad_id}:2026-W49" for u in (dpo_a, dpo_b))
    assert {r.state for r in planned} == {"sent"}
    got_a = texts(channel.to(dpo_a.conversation_id)[before[dpo_a.name]:])
    assert "Your weekly digest" in got_a and "BR-2026-0001" in got_a and "Megan" not in got_a
    assert "BR-2026-0001" not in texts(channel.to(dpo_b.conversation_id)[before[dpo_b.name]:])
    await runtime.sweep_reminders()
    clock.advance(timedelta(hours=3))
    await runtime.sweep_reminders()
    assert len(await digests(runtime)) == 2  # nothing more this week
    clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    await runtime.sweep_reminders()
    assert len(await digests(runtime)) == 4


async def test_plan_digests_counts_once_and_skips_dpos_who_never_talked(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, dpo_b: TeamsUser,
) -> None:
    await teams.say(dpo_a, "hello")  # dpo_b never talks to the bot: no conversation to send to
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    async with runtime.deps.sessions() as session:
        assert await plan_digests(session, now=monday) == 1
        assert await plan_digests(session, now=monday) == 0
        assert await plan_digests(session, now=monday + timedelta(days=8)) == 0  # next Tuesday: catch-up window passed
        assert await plan_digests(session, now=monday, when=DigestTime(weekday=2)) == 0  # Tuesday's time not come yet
    assert [r.recipient_aad_id for r in await digests(runtime)] == [dpo_a.aad_id]
