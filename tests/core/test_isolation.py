"""Tenant and role isolation, from one table: every command and card button that takes an id, replayed by
a user of another school and by a colleague who is neither the owner nor a DPO, gets a polite refusal, no data,
and changes nothing. A card command registered in the bot but missing from the table fails the suite."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel, col

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from storage.drill_models import BreachDrill
from storage.models import Person
from storage.reminder_models import Reminder
from storage.sar_models import SubjectAccessRequest
from tests.conftest import SCHOOL_A
from tests.support.breach import ANSWERS, breaches, file_report
from tests.support.consent import (
    SAMPLE,
    button,
    check_and_post,
    checks,
    csv_message,
    data_uri,
    import_sample,
    posts,
    tasks,
)
from tests.support.training import ORGANISER, book_via_chat, bookings_of, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, texts

STAFF_A = TeamsUser("Megan Bowen", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", SCHOOL_A)  # the owner of each item
DPO_A = TeamsUser("Dana Price", "d0d0d0d0-0000-4000-8000-0000000000a1", SCHOOL_A)
OTHER_STAFF_A = TeamsUser("Alex Wilber", "9a9a9a9a-0000-4000-8000-0000000000a3", SCHOOL_A)
# Chat plumbing that a stranger's own turn may touch; everything else must stay exactly as it was.
PLUMBING = {"bot_state", "handled_activity", "person", "organisation", "auditevent", "membership"}
REFUSAL = re.compile(
    r"couldn't find|don't have access|only (a |the |your school's )?(dpo|organiser|the )|isn't (yours|for you)|not yours|"
    r"no longer available|can't|cannot|not allowed|sorry|no pupil|not found|don't know|didn't find|no one",
    re.IGNORECASE)


@dataclass
class Item:
    """Something of school A's, with the ids a replay needs and the words that must not leak."""

    ids: dict[str, Any] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()


Maker = Callable[[TeamsClient, Runtime], Awaitable[Item]]


async def a_breach(teams: TeamsClient, runtime: Runtime) -> Item:
    await file_report(teams, STAFF_A)
    [breach] = await breaches(runtime)
    return Item({"id": breach.id, "ref": breach.reference}, (breach.reference, ANSWERS["what_happened"][1], "SEN report"))


async def a_post(teams: TeamsClient, runtime: Runtime) -> Item:
    await import_sample(teams, DPO_A)
    await check_and_post(teams, STAFF_A, "Olivia Smith", description="Sports day relay")
    [post] = await posts(runtime)
    async with runtime.deps.sessions() as session:
        mine = select(Reminder).where(col(Reminder.recipient_aad_id) == STAFF_A.aad_id)
        reminder = (await session.execute(mine)).scalars().first()
    assert reminder is not None
    return Item({"post": post.id, "reminder": reminder.id}, ("Olivia", "Smith", "Sports day relay", "School Facebook page"))


async def a_removal_task(teams: TeamsClient, runtime: Runtime) -> Item:
    item = await a_post(teams, runtime)
    await teams.say(DPO_A, "consent withdrawn for Olivia Smith social media")
    await teams.press(DPO_A, {"confirm": "yes"})
    [task] = await tasks(runtime)
    return Item({**item.ids, "task": task.id}, item.secrets)


async def a_check_with_a_name_not_on_the_register(teams: TeamsClient, runtime: Runtime) -> Item:
    await import_sample(teams, DPO_A)
    await teams.say(STAFF_A, "check consent")
    replies = await teams.say(STAFF_A, "Zebedee Quartermain")
    await teams.press(STAFF_A, button(replies, "Not on the register"))
    await teams.press(STAFF_A, {"purpose": "social_media"})
    [check] = await checks(runtime)
    return Item({"check": check.id}, ("Quartermain",))


async def an_import_preview(teams: TeamsClient, runtime: Runtime) -> Item:
    preview = await teams.send(csv_message(teams, DPO_A, data_uri(SAMPLE.read_text())))
    return Item({"import": button(preview, "Apply")["import"]}, ("Olivia", "Amir", "Z8011"))


async def an_account(teams: TeamsClient, runtime: Runtime) -> Item:
    await teams.say(DPO_A, "add account")
    added = await teams.press(DPO_A, {"form": "account.form", "platform": "Facebook", "handle": "@stmarys_hidden",
                              "url": "https://facebook.com/stmarys_hidden", "owner": "Dana Price", "access": "Megan Bowen"})
    assert "Account 1 added" in texts(added)
    return Item({"number": 1}, ("stmarys_hidden", "Megan Bowen"))


async def an_access_task(teams: TeamsClient, runtime: Runtime) -> Item:
    item = await an_account(teams, runtime)
    assert "named on account(s) 1" in texts(await teams.say(DPO_A, "left staff Megan Bowen"))
    return Item({**item.ids, "task": 1}, item.secrets)


async def a_booking(teams: TeamsClient, runtime: Runtime) -> Item:
    await teams.say(STAFF_A, "book training")  # loads the seed catalogue
    session = await session_by_key(runtime, "online")
    await book_via_chat(teams, STAFF_A, session.id or 0)
    [booking] = await bookings_of(runtime, session.id or 0)
    return Item({"booking": booking.id, "session": session.id}, ("Megan Bowen", "head teacher"))


async def a_sar(teams: TeamsClient, runtime: Runtime) -> Item:
    await teams.say(STAFF_A, "log a SAR")
    await teams.press(STAFF_A, {"q": "form", "requester_type": "parent", "requester_name": "Kerry Quill",
                                "subject_kind": "person", "subject_name": "Robin Quill", "received": "today",
                                "channel": "email", "id_verified": "no", "educational": "no"})
    await teams.press(STAFF_A, {"q": "summary", "nav": "confirm"})
    async with runtime.deps.sessions() as session:
        [sar] = (await session.execute(select(SubjectAccessRequest))).scalars().all()
    return Item({"id": sar.id, "ref": sar.reference}, (sar.reference, "Kerry Quill", "Robin Quill"))


async def a_drill(teams: TeamsClient, runtime: Runtime) -> Item:
    await teams.say(DPO_A, "start a breach drill")
    async with runtime.deps.sessions() as session:
        [drill] = (await session.execute(select(BreachDrill))).scalars().all()
    return Item({"id": drill.id}, ("SEN support plans", "Sam Patel"))


async def a_colleague(teams: TeamsClient, runtime: Runtime) -> Item:
    await teams.say(STAFF_A, "hello")
    async with runtime.deps.sessions() as session:
        person = (await session.execute(select(Person).where(col(Person.aad_id) == STAFF_A.aad_id))).scalar_one()
    return Item({"person": person.id}, ())


@dataclass(frozen=True)
class Row:
    """One way in that takes an id: a card button (`press`) or a typed command (`say`), with {placeholders}."""

    make: Maker
    press: dict[str, Any] | None = None
    say: str | None = None

    @property
    def name(self) -> str:
        return str(self.press["cmd"]) if self.press else str(self.say)

    def replay(self, item: Item) -> dict[str, Any] | str:
        """The button data or words, filled with school A's ids."""
        if self.say is not None:
            return self.say.format(**item.ids)
        assert self.press is not None
        return {key: item.ids[value[1:]] if isinstance(value, str) and value.startswith("$") else value
                for key, value in self.press.items()}


TABLE: tuple[Row, ...] = (
    Row(a_breach, {"cmd": "breach.show", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.update", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.decide_form", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.decide", "id": "$id", "decision": "not_notifiable", "reason": "x",
                   "individuals": "not_required"}),
    Row(a_breach, {"cmd": "breach.reported_form", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.reported", "id": "$id", "ico_reference": "IC-1", "reported_at": "", "late_reason": ""}),
    Row(a_breach, {"cmd": "breach.ask_form", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.ask", "id": "$id", "question": "What?"}),
    Row(a_breach, {"cmd": "breach.close_form", "id": "$id"}),
    Row(a_breach, {"cmd": "breach.close", "id": "$id", "lessons": "x"}),
    Row(a_breach, say="breach {ref}"),
    Row(a_breach, say="update {ref}"),
    Row(a_breach, say="ico pack {ref}"),
    Row(a_post, {"cmd": "consent.show_post", "post": "$post"}),
    Row(a_post, {"cmd": "consent.post_removed", "post": "$post"}),
    Row(a_post, {"cmd": "consent.add_link", "post": "$post"}),
    Row(a_post, {"cmd": "consent.extend_post", "post": "$post", "months": 12}),
    Row(a_post, {"cmd": "reminder.snooze", "id": "$reminder", "for": "hour"}),
    Row(a_post, {"cmd": "reminder.done", "id": "$reminder"}),
    Row(a_removal_task, {"cmd": "consent.show_task", "task": "$task"}),
    Row(a_removal_task, {"cmd": "consent.task_removed", "task": "$task"}),
    Row(a_removal_task, {"cmd": "consent.report_breach", "task": "$task"}),
    Row(a_removal_task, {"cmd": "consent.keep_task", "task": "$task"}),
    Row(a_removal_task, {"cmd": "consent.task_kept", "task": "$task", "reason": "The parent agreed"}),
    Row(a_check_with_a_name_not_on_the_register, {"cmd": "consent.ask_add", "check": "$check"}),
    Row(an_import_preview, {"cmd": "consent.import_apply", "import": "$import"}),
    Row(an_import_preview, {"cmd": "consent.import_cancel", "import": "$import"}),
    Row(a_post, say="consent withdrawn for Olivia Smith social media"),
    Row(a_post, say="consent granted for Olivia Smith website by mother until 31/08/2027"),
    Row(a_post, say="never publish Olivia Smith - court order"),
    Row(a_post, say="pupil left Olivia Smith"),
    Row(a_post, say="make Megan Bowen a DPO"),
    Row(a_colleague, {"cmd": "roles.confirm_grant", "person": "$person", "role": "dpo"}),
    Row(a_post, say="remove dpo from Dana Price"),
    Row(an_account, {"cmd": "accounts.edit", "number": "$number"}),
    Row(an_account, {"cmd": "accounts.review", "number": "$number"}),
    Row(an_account, {"cmd": "accounts.reviewed", "number": "$number", "privacy": "true", "access": "true",
                     "suitable": "true"}),
    Row(an_access_task, {"cmd": "accounts.access_removed", "task": "$task"}),
    Row(an_account, say="edit account {number}"),
    Row(an_account, say="retire account {number} - closed"),
    Row(a_booking, {"cmd": "training.cancel", "booking_id": "$booking"}),
    Row(a_booking, {"cmd": "training.ics", "booking_id": "$booking"}),
    Row(a_booking, {"cmd": "training.attendees", "session_id": "$session"}),
    Row(a_booking, {"cmd": "training.edit", "session_id": "$session"}),
    Row(a_booking, {"cmd": "training.cancel_session", "session_id": "$session"}),
    Row(a_sar, {"cmd": "sar.show", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.pause", "id": "$id", "kind": "id"}),
    Row(a_sar, {"cmd": "sar.resume_form", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.resume", "id": "$id", "on": "today"}),
    Row(a_sar, {"cmd": "sar.extend_form", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.extend", "id": "$id", "months": "1", "reason": "x", "told": "today"}),
    Row(a_sar, {"cmd": "sar.assign_form", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.assign", "id": "$id", "handler": OTHER_STAFF_A.aad_id}),
    Row(a_sar, {"cmd": "sar.tick_form", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.tick", "id": "$id", "step": "mis"}),
    Row(a_sar, {"cmd": "sar.close_form", "id": "$id"}),
    Row(a_sar, {"cmd": "sar.close", "id": "$id", "outcome": "withdrawn", "note": "", "disclosed": "", "sent": ""}),
    Row(a_sar, say="sar {ref}"),
    Row(a_drill, {"cmd": "drill.show", "id": "$id"}),
    Row(a_drill, {"cmd": "drill.decide_form", "id": "$id"}),
    Row(a_drill, {"cmd": "drill.decide", "id": "$id", "decision": "notify", "individuals": "tell"}),
    Row(a_drill, {"cmd": "drill.contain_form", "id": "$id"}),
    Row(a_drill, {"cmd": "drill.contain", "id": "$id", "containment": "x"}),
    Row(a_drill, {"cmd": "drill.ico_pack", "id": "$id"}),
    Row(a_drill, {"cmd": "drill.stop", "id": "$id"}),
    Row(a_booking, say="attendees {session}"),
    Row(a_booking, say="edit session {session}"),
    Row(a_booking, say="cancel session {session}"),
    Row(a_booking, {"cmd": "training.attendance_save", "session_id": "$session"}),
    Row(a_booking, say="attendance {session}"),
    Row(a_booking, {"cmd": "training.register", "session_id": "$session"}),
)
# Card commands that take no id of anyone else's, with the reason (the coverage test accepts these too).
NO_PRIVATE_ID = {
    "training.book": "the training catalogue is shared by every school; a booking is always the presser's own",
    "training.mine": "lists only the presser's own bookings",
    "intent.pick": "starts a flow with the presser's own words, as if they had typed them",
    "school.profile_save": "saves the presser's own school's profile (DPOs only)",
    "training.show_due": "lists the presser's own school's people (DPOs only)",
    "training.invite_due": "invites the presser's own school's people to a session of the shared catalogue (DPOs only)",
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """An organiser and the small training catalogue, as the training tests use."""
    return training_settings(settings, tmp_path)


async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except the chat plumbing."""
    async with runtime.deps.sessions() as session:
        return {name: sorted(map(tuple, (await session.execute(select(table))).all()), key=repr)
                for name, table in SQLModel.metadata.tables.items() if name not in PLUMBING}


def test_every_registered_card_command_is_in_the_table(runtime: Runtime) -> None:
    registered = set(runtime.bot._router.actions)
    covered = {row.press["cmd"] for row in TABLE if row.press} | set(NO_PRIVATE_ID)
    assert registered - covered == set(), "add these card commands to tests/core/test_isolation.py TABLE"
    assert covered - registered == set(), "the table lists commands the bot no longer has"


@pytest.mark.parametrize("stranger", ["dpo_b", "other_staff_a"])
@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
async def test_strangers_get_a_polite_refusal_no_data_and_no_change(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, row: Row, stranger: str,
    dpo_b: TeamsUser,
) -> None:
    await teams.say(ORGANISER, "help")
    item = await row.make(teams, runtime)
    user = dpo_b if stranger == "dpo_b" else OTHER_STAFF_A
    await teams.say(user, "help")
    before = await snapshot(runtime)
    clock.advance(timedelta(minutes=2))
    replay = row.replay(item)
    variants = [replay] if isinstance(replay, str) else [replay, {**replay, "school": SCHOOL_A}]
    seen: list[str] = []
    for variant in variants:
        replies = await (teams.say(user, variant) if isinstance(variant, str) else teams.press(user, variant))
        said = texts(replies)
        assert REFUSAL.search(said), (variant, said)
        seen.append(said)
        seen.append(texts(await teams.say(user, "yes")))  # confirm anything it might have asked
    everything = "\n".join(seen)
    typed = replay.lower() if isinstance(replay, str) else ""  # echoing the stranger's own words leaks nothing
    leaked = [secret for secret in item.secrets if secret.lower() in everything.lower() and secret.lower() not in typed]
    assert leaked == [], everything
    assert await snapshot(runtime) == before
