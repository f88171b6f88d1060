"""The social media account register, end to end through /api/messages, and its form checks."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from bot.runtime import Runtime
from dialogs.accounts.cards import FORM, account_form_card, register_card
from services.accounts.register import ACCOUNT_PICK, OTHER, read_draft
from services.errors import DomainError
from storage.account_models import SocialAccount
from storage.consent_models import Post, RemovalTask
from storage.models import AuditEvent
from tests.conftest import START
from tests.support.breach import csv_rows
from tests.support.card_schema import schema_errors
from tests.support.consent import import_sample, rows
from tests.teams.client import TeamsClient, TeamsUser, texts

FORM_VALUES = {
    "form": FORM, "platform": "Facebook", "handle": "St Mary's Primary", "url": "https://facebook.com/stmarys",
    "audience": "public", "owner": "Dana Jones", "access": "Dana Jones, Megan Smith", "backup_admin": "",
    "privacy_reviewed_on": "01/09/2026", "dpia_on": "", "policy_on": "15/07/2026", "housekeeping_months": "6",
}


async def add(teams: TeamsClient, dpo: TeamsUser, **changes: str) -> list:
    """The DPO adds an account through the form."""
    replies = await teams.say(dpo, "add account")
    assert "Add a social media account" in texts(replies)
    return await teams.press(dpo, FORM_VALUES | changes)


async def test_dpo_adds_edits_and_retires_an_account(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    replies = await add(teams, dpo_a)
    assert "Account 1 added" in texts(replies) and "no DPIA date, no backup admin" in texts(replies)
    [account] = await rows(runtime, SocialAccount)
    assert (account.number, account.housekeeping_months, account.dpia_on, account.created_by) == (1, 6, None, dpo_a.aad_id)

    replies = await teams.say(dpo_a, "status")
    assert "Account 1: no DPIA date, no backup admin" in texts(replies)
    [line] = [item for card in replies[0].cards for item in card["body"]
              if item.get("selectAction") and "Account 1" in str(item)]  # not the school's other lines (training due)
    edit = await teams.press(dpo_a, line["selectAction"]["data"])
    assert "Edit account 1" in texts(edit) and "https://facebook.com/stmarys" in texts(edit)
    saved = await teams.press(dpo_a, FORM_VALUES | {"dpia_on": "01/10/2026", "backup_admin": "Sam Patel"})
    assert "Account saved" in texts(saved) and "Needs attention" not in texts(saved)
    assert "Social media accounts" not in texts(await teams.say(dpo_a, "status"))

    await add(teams, dpo_a, platform="Instagram", handle="@stmarys", dpia_on="01/10/2026", backup_admin="Sam Patel")
    staff_view = texts(await teams.say(staff_a, "social media accounts"))
    assert "Instagram" in staff_view and "Facebook" in staff_view and "Sam Patel" not in staff_view

    assert "Please say why" in texts(await teams.say(dpo_a, "retire account 2"))
    assert "Account 2 is retired" in texts(await teams.say(dpo_a, "retire account 2 - we stopped using Instagram"))
    assert "Instagram" not in texts(await teams.say(staff_a, "social media accounts"))
    dpo_view = texts(await teams.say(dpo_a, "social media accounts"))
    assert "we stopped using Instagram" in dpo_view
    assert len(await rows(runtime, SocialAccount)) == 2
    actions = [event.action for event in await rows(runtime, AuditEvent) if event.subject_type == "social_account"]
    assert actions == ["account.added", "account.edited", "account.added", "account.retired"]


async def test_staff_cannot_change_the_register_and_schools_are_apart(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser, dpo_b: TeamsUser
) -> None:
    await add(teams, dpo_a)
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "add account"))
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "retire account 1 - closed"))
    assert "couldn't find account 1" in texts(await teams.say(dpo_b, "edit account 1"))
    assert "No accounts are registered yet" in texts(await teams.say(dpo_b, "social media accounts"))
    [account] = await rows(runtime, SocialAccount)
    assert account.retired_at is None


async def test_a_bad_form_is_shown_again_with_the_problem(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    replies = await add(teams, dpo_a, dpia_on="31/02/2026")
    assert "isn't a date" in texts(replies) and "St Mary" in texts(replies)
    assert "Account 1 added" in texts(await teams.press(dpo_a, FORM_VALUES))


@pytest.mark.parametrize(("changes", "problem"), [
    ({"platform": ""}, "Please give the platform"),
    ({"url": "javascript:alert(1)"}, "must start with https://"),
    ({"url": "http://facebook.com/stmarys"}, "must start with https://"),
    ({"audience": "everyone"}, "public, private or group"),
    ({"housekeeping_months": "0"}, "1 to 120"),
    ({"housekeeping_months": "\u0663"}, "1 to 120"),
    ({"policy_on": "01/01/2027"}, "can't be in the future"),
    ({"access": "x" * 2001}, "too long"),
])
def test_form_checks(changes: dict[str, str], problem: str) -> None:
    with pytest.raises(DomainError, match=problem):
        read_draft(FORM_VALUES | changes, today=date(2026, 11, 25))


def test_every_problem_is_said_at_once_and_an_address_without_https_gets_it() -> None:
    with pytest.raises(DomainError) as raised:
        read_draft(FORM_VALUES | {"housekeeping_months": "abc", "dpia_on": "yesterday", "policy_on": "31/02/2026"},
                   today=date(2026, 11, 25))
    said = str(raised.value)
    assert "1 to 120" in said and "DPIA done: \u201cyesterday\u201d" in said and "Policy adopted: \u201c31/02/2026\u201d" in said
    for typed in ("facebook.com/stmarys", "www.facebook.com/stmarys"):
        assert read_draft(FORM_VALUES | {"url": typed}, today=date(2026, 11, 25)).url == "https://" + typed


def test_cards_are_valid_and_show_user_text_plainly() -> None:
    draft = read_draft(FORM_VALUES | {"handle": "**Bold** [link](https://x.test)"}, today=date(2026, 11, 25))
    account = SocialAccount(tenant_id="t", number=1, created_by="a", **draft.__dict__)
    for content in (register_card([account], is_dpo=True), register_card([account], is_dpo=False),
                    account_form_card({}, title="Add", error="Oops")):
        assert schema_errors(content) == []
    assert "**Bold**" not in str(register_card([account], is_dpo=True))
    with pytest.raises(DomainError) as raised:
        read_draft(FORM_VALUES | {"dpia_on": "[click](https://x.test)"}, today=date(2026, 11, 25))
    shown = str(account_form_card({}, title="Add", error=str(raised.value)))
    assert "isn't a date" in shown and "[click]" not in shown and "https://x.test" not in shown


async def record_to(teams: TeamsClient, staff: TeamsUser, data: dict[str, str]) -> list:
    """Staff check Olivia Smith for social media, tick the checklist, and see the post form; then submit `data`."""
    await teams.say(staff, "check consent")
    await teams.say(staff, "Olivia Smith")
    await teams.press(staff, {"purpose": "social_media"})
    form = await teams.press(staff, {"dressed": "true", "background": "true", "names": "true", "location": "true"})
    assert "Which account?" in texts(form) and "Another account (not registered)" in texts(form)
    return await teams.press(staff, data)


async def test_a_post_goes_to_a_registered_account_with_its_months(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await add(teams, dpo_a)
    await add(teams, dpo_a, platform="Instagram", handle="@stmarys", url="", housekeeping_months="")
    replies = await record_to(teams, staff_a, {ACCOUNT_PICK: "1", "account": "", "description": "Sports day"})
    assert "Post #1 recorded" in texts(replies) and "facebook.com" in texts(replies)
    [post] = await rows(runtime, Post)
    registered = (await rows(runtime, SocialAccount))[0]
    assert (post.account_id, post.account, post.account_other) == (registered.id, "Facebook \u2014 St Mary's Primary", False)
    assert post.remove_by == START + relativedelta(months=6)
    assert "isn't registered" not in texts(await teams.say(dpo_a, "status"))

    assert "Removal #1" in texts(await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media"))
    [task] = await rows(runtime, RemovalTask)
    shown = texts(await teams.press(staff_a, {"cmd": "consent.show_task", "task": task.id}))
    assert "Account address" in shown and "facebook.com" in shown


async def test_another_account_is_allowed_but_shown_to_the_dpo(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await add(teams, dpo_a, housekeeping_months="")
    replies = await record_to(teams, staff_a, {ACCOUNT_PICK: OTHER, "account": "", "description": "Sports day"})
    assert "Please fill in the account or page" in texts(replies)
    replies = await teams.press(staff_a, {ACCOUNT_PICK: OTHER, "account": "PTA page", "description": "Sports day"})
    assert "Post #1 recorded" in texts(replies)
    [post] = await rows(runtime, Post)
    assert (post.account_id, post.account, post.account_other) == (None, "PTA page", True)
    assert post.remove_by == START + relativedelta(months=12)  # the social media setting
    assert "Post #1 went to an account that isn't registered" in texts(await teams.say(dpo_a, "status"))
    assert "isn't registered" not in texts(await teams.say(staff_a, "status"))


async def test_the_register_exports_as_csv_for_the_dpo_only(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, staff_a: TeamsUser, dpo_b: TeamsUser
) -> None:
    await add(teams, dpo_a, handle="=HYPERLINK(1)")
    await add(teams, dpo_a, platform="Instagram", handle="@stmarys", dpia_on="01/10/2026", backup_admin="Sam Patel")
    await teams.say(dpo_a, "retire account 2 - closed")
    [first, second] = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export social media accounts"))
    assert (first["Platform"], first["Name or handle"], first["Needs attention"]) == (
        "Facebook", "'=HYPERLINK(1)", "no DPIA date; no backup admin")
    assert (second["Retired because"], second["DPIA done"], second["Housekeeping months"]) == ("closed", "01/10/2026", "6")
    assert "Only your school's DPO can export" in texts(await teams.say(staff_a, "export accounts"))
    assert await csv_rows(teams, dpo_b, await teams.say(dpo_b, "export accounts")) == []
    assert "account_register.exported" in [event.action for event in await rows(runtime, AuditEvent)]
