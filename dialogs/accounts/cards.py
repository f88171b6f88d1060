"""Cards for the social media account register. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from dialogs.kit.cards import Card, card, facts, heading, plain, say, submit, text, text_input
from dialogs.reminders.cards import reminder_card
from services.accounts.register import gaps
from services.accounts.reviews import CHECKS
from storage.account_models import Audience, SocialAccount

FORM = "account.form"
LEAVER_DONE = "accounts.access_removed"  # the access task's Done button (status line and reminder)
EDIT_ACCOUNT, REVIEW = "accounts.edit", "accounts.review"  # the DPO's status lines
REVIEWED = "accounts.reviewed"  # the review card's and reminder's button
_AUDIENCES: dict[str, str] = {
    Audience.PUBLIC: "Public", Audience.PRIVATE: "Private (approved followers)", Audience.GROUP: "Closed group"}


def _day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else "not recorded"


def _title(account: SocialAccount) -> str:
    return f"{account.number}. {plain(account.platform)} \u2014 {plain(account.handle)}"


def account_facts(account: SocialAccount, *, is_dpo: bool) -> list[dict[str, Any]]:
    """One account: what staff need to post, and for the DPO who runs it and its paperwork."""
    pairs = [("Address", plain(account.url) or "not recorded"), ("Audience", _AUDIENCES.get(account.audience, ""))]
    if is_dpo:
        months = f"{account.housekeeping_months} months" if account.housekeeping_months else "the usual setting"
        pairs += [
            ("Owner", plain(account.owner) or "not recorded"), ("Access", plain(account.access) or "not recorded"),
            ("Backup admin", plain(account.backup_admin) or "none"),
            ("Privacy settings reviewed", _day(account.privacy_reviewed_on)), ("DPIA done", _day(account.dpia_on)),
            ("Policy adopted", _day(account.policy_on)), ("Housekeeping", months),
        ]
        if account.retired_at:
            pairs.append(("Retired", f"{account.retired_at:%d/%m/%Y}: {plain(account.retired_reason)}"))
    blocks: list[dict[str, Any]] = [text(f"**{_title(account)}**"), facts(pairs)]
    if is_dpo and not account.retired_at and (missing := gaps(account)):
        blocks.append(text("Needs attention: " + ", ".join(missing) + ".", attention=True))
    return blocks


def register_card(accounts: Sequence[SocialAccount], *, is_dpo: bool, title: str = "Social media accounts") -> Card:
    """The register (the DPO's view has the details and the commands; staff see where they may post)."""
    body: list[dict[str, Any]] = [heading(title)]
    if not accounts:
        body.append(text("No accounts are registered yet." + (" Type **add account** to add one." if is_dpo else "")))
    if not is_dpo and accounts:
        body.append(text("These are the school's accounts you may post photos to (after **check consent**).", subtle=True))
    for account in accounts:
        body += account_facts(account, is_dpo=is_dpo)
    if is_dpo:
        n = accounts[-1].number if accounts else 1  # the examples name an account the DPO has
        body.append(text(f"To change one: **edit account {n}**. To close one: **retire account {n} - page closed**.",
                         subtle=True))
        return card(body, [say("Add account", "add account")])
    return card(body)


def _input(field_id: str, label: str, values: Mapping[str, str], hint: str = "") -> dict[str, Any]:
    return text_input(field_id, label, multiline=False, value=values.get(field_id, ""), placeholder=hint)


def account_form_card(values: Mapping[str, str], *, title: str, error: str | None = None) -> Card:
    """The add/edit form (UK dates); shown again with the problem and what was typed when it doesn't check out."""
    body: list[dict[str, Any]] = [heading(title)]
    if error:
        body.append(text(plain(error), attention=True))  # it quotes what was typed
    body += [
        _input("platform", "Platform", values, "e.g. Facebook"),
        _input("handle", "Name or handle", values, "e.g. @StMarysPrimary"),
        _input("url", "Address", values, "https://..."),
        {"type": "Input.ChoiceSet", "id": "audience", "label": "Audience", "value": values.get("audience", Audience.PUBLIC),
         "choices": [{"title": label, "value": value} for value, label in _AUDIENCES.items()]},
        _input("owner", "Owner", values, "who is responsible for it"),
        _input("access", "People with access", values, "names, separated by commas"),
        _input("backup_admin", "Backup admin", values, "who takes over if the owner is away or leaves"),
        _input("privacy_reviewed_on", "Privacy settings last reviewed", values, "dd/mm/yyyy"),
        _input("dpia_on", "DPIA done on", values, "dd/mm/yyyy"),
        _input("policy_on", "Social media policy adopted on", values, "dd/mm/yyyy"),
        _input("housekeeping_months", "Months a post stays up", values, "empty = the usual setting for social media"),
    ]
    return card(body, [submit("Save", {"form": FORM})])


def review_checklist(account: SocialAccount) -> list[dict[str, Any]]:
    """The review's short checklist, with what the register says now."""
    body = account_facts(account, is_dpo=True)
    body += [{"type": "Input.Toggle", "id": key, "title": label, "wrap": True, "valueOn": "true", "valueOff": "false",
              "value": "false"}
             for key, label in CHECKS]
    body.append(text(f"If something isn't right, fix it first (**edit account {account.number}**).", subtle=True))
    return body


def reviewed_button(account: SocialAccount) -> dict[str, Any]:
    """Records the review (the school is named for a DPO serving several schools)."""
    return submit("Reviewed", {"cmd": REVIEWED, "number": account.number, "school": account.tenant_id})


def review_card(account: SocialAccount) -> Card:
    """The review checklist opened from `status`."""
    return card([heading(f"Review account {account.number}"), *review_checklist(account)], [reviewed_button(account)])


def review_reminder(account: SocialAccount, *, reminder_id: int, due: str) -> Card:
    """The DPO's reminder that an account's review is due."""
    return reminder_card(
        why="You're a DPO for this school, and each social media account is reviewed every term.",
        about=f"Review social media account {account.number}", time_left=f"Due {due}",
        body=review_checklist(account), actions=[reviewed_button(account)], reminder_id=reminder_id, snoozable=True)


def leaver_reminder(account: SocialAccount, *, name: str, task_id: int, reminder_id: int) -> Card:
    """The DPO's reminder that someone who left can still get into an account, with Done (the school named)."""
    about = f"Remove {plain(name)}'s access to social media account {account.number}"
    return reminder_card(
        why="You're a DPO for this school, and someone named on this account has left.", about=about,
        time_left="Until it's done",
        body=[text(f"Change the password or remove {plain(name)} as an admin on the platform, then press **Done**: "
                   "the register drops them from the account."), *account_facts(account, is_dpo=True)],
        actions=[submit("Done", {"cmd": LEAVER_DONE, "task": task_id, "school": account.tenant_id})],
        reminder_id=reminder_id, snoozable=True, done=False)
