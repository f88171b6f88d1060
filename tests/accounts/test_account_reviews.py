"""Termly reviews of the social media accounts: the reminder with its checklist, recorded, the next one scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime import Runtime
from dialogs.dpo.cards import digest_card
from services.accounts.reviews import KIND_REVIEW
from services.clock import SettableClock
from services.dpo.digest import summarise
from storage.account_models import SocialAccount
from storage.reminder_models import Reminder
from tests.accounts.test_accounts import add
from tests.conftest import SCHOOL_A
from tests.support.consent import button, rows
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel

TICKED = {"privacy": "true", "access": "true", "suitable": "true"}


async def test_a_termly_review_reminder_with_its_checklist(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, dpo_a: TeamsUser,
    staff_a: TeamsUser,
) -> None:
    await add(teams, dpo_a)  # added on Wed 25/11/2026: the review is due four months on, Thu 25/03/2027 ...
    [reminder] = [r for r in await rows(runtime, Reminder) if r.kind == KIND_REVIEW]
    # ... in the Easter holiday (England's typical dates: 22/03 to 04/04/2027), so 09:00 BST on Mon 05/04/2027
    assert (reminder.recipient_aad_id, reminder.due_at) == (dpo_a.aad_id, datetime(2027, 4, 5, 8, 0, tzinfo=UTC))
    assert "review due" not in texts(await teams.say(dpo_a, "status"))

    clock.set(datetime(2027, 3, 25, 9, 1, tzinfo=UTC))
    await runtime.sweep_reminders()  # held: a school holiday
    clock.set(datetime(2027, 4, 5, 8, 1, tzinfo=UTC))
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    sent = channel.to(dpo_a.conversation_id)[before:]
    assert "Review social media account 1" in texts(sent) and "privacy settings are checked" in texts(sent)
    assert "Account 1: review due since 25/03/2027" in texts(await teams.say(dpo_a, "status"))
    async with runtime.deps.sessions() as session:
        week = await summarise(session, tenant_id=SCHOOL_A, since=clock() - timedelta(days=7), now=clock(), review_months=4)
    assert week.reviews_overdue == [1]
    assert "Overdue: social media account reviews" in str(digest_card("", week, clock()))

    reviewed = button(sent, "Reviewed")
    assert "Only your school's DPO" in texts(await teams.press(staff_a, reviewed | TICKED))
    replies = await teams.press(dpo_a, reviewed | TICKED | {"access": "false"})
    assert "Every check must be ticked" in texts(replies)
    replies = await teams.press(dpo_a, reviewed | TICKED)
    assert "Review of account 1 recorded. The next is due 05/08/2027." in texts(replies)
    [account] = await rows(runtime, SocialAccount)
    assert account.reviewed_on == account.privacy_reviewed_on == clock().date()
    assert "review due" not in texts(await teams.say(dpo_a, "status"))
    pending = [r for r in await rows(runtime, Reminder) if r.kind == KIND_REVIEW and r.state == "pending"]
    # Wed 01/09/2027 09:00 BST: the first school day after the summer holiday (and the bank holiday on 30/08)
    assert [r.due_at for r in pending] == [datetime(2027, 9, 1, 8, 0, tzinfo=UTC)]


async def test_overdue_review_opens_from_status_and_a_retired_account_is_not_reminded(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, dpo_a: TeamsUser,
) -> None:
    await add(teams, dpo_a)
    clock.advance(timedelta(days=130))
    replies = await teams.say(dpo_a, "status")
    [line] = [item for card in replies[0].cards for item in card["body"]
              if "review due" in str(item) and item.get("selectAction")]
    opened = await teams.press(dpo_a, line["selectAction"]["data"])
    assert "Review account 1" in texts(opened) and button(opened, "Reviewed")
    await teams.say(dpo_a, "retire account 1 - page closed")
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    assert "Review social media account" not in texts(channel.to(dpo_a.conversation_id)[before:])
