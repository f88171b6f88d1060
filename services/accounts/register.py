"""The social media account register: DPOs add, edit and retire accounts; staff see the live ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.consent.pupil_csv import parse_date
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from storage.account_models import Audience, SocialAccount
from storage.consent_models import Post

NOT_DPO = "Only your school's DPO can change the social media account register. Type **social media accounts** to see it."
_TEXTS = {"platform": 40, "handle": 100, "url": 500, "owner": 100, "access": 2000, "backup_admin": 100}
_DATES = ("privacy_reviewed_on", "dpia_on", "policy_on")
MAX_NUMBER = 2**31 - 1  # the number column is a 32-bit INTEGER on PostgreSQL
ACCOUNT_PICK, OTHER = "account_pick", "other"  # the post form's account choice: an account number, or another account


def picked_account(value: dict[str, Any]) -> tuple[int | None, bool] | None:
    """From the post form: (registered account number, None) or (None, other=True); (None, False) when the form had
    no choice (no accounts registered); None when the choice isn't one of those."""
    pick = str(value.get(ACCOUNT_PICK) or "").strip()
    if ACCOUNT_PICK not in value:
        return None, False
    if pick == OTHER:
        return None, True
    return (int(pick), False) if pick.isascii() and pick.isdigit() and 0 < int(pick) < 10**6 else None


@dataclass(frozen=True)
class AccountDraft:
    """The account form as checked: every field of an account but its history."""

    platform: str
    handle: str
    url: str
    audience: str
    owner: str
    access: str
    backup_admin: str
    privacy_reviewed_on: date | None
    dpia_on: date | None
    policy_on: date | None
    housekeeping_months: int | None


def _date(value: str, label: str, today: date, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        found = parse_date(value)
    except ValueError:
        problems.append(f"{label}: \u201c{value}\u201d isn't a date. Please use dd/mm/yyyy.")
        return None
    if found > today:
        problems.append(f"{label} can't be in the future ({found:%d/%m/%Y}).")
    return found


def _address(url: str, problems: list[str]) -> str:
    """The account's https:// address; "facebook.com/stmarys" as typed gets its https:// added."""
    if url and "://" not in url and "." in url.split("/")[0] and " " not in url:
        url = "https://" + url
    if url and not url.lower().startswith("https://"):
        problems.append("The account's address must start with https:// (e.g. https://facebook.com/stmarys).")
    return url


def read_draft(values: dict[str, Any], *, today: date) -> AccountDraft:
    """Check the submitted form; DomainError says everything to fix at once."""
    problems: list[str] = []
    texts = {key: " ".join(str(values.get(key) or "").split()) for key in _TEXTS}
    problems += [f"{key.replace('_', ' ').capitalize()} is too long (at most {limit} characters)."
                 for key, limit in _TEXTS.items() if len(texts[key]) > limit]
    if not texts["platform"] or not texts["handle"]:
        problems.append("Please give the platform (e.g. Facebook) and the account's name or handle.")
    url = _address(texts["url"], problems)
    audience = str(values.get("audience") or Audience.PUBLIC)
    if audience not in set(Audience):
        problems.append("Audience must be public, private or group.")
    months_text = str(values.get("housekeeping_months") or "").strip()
    if months_text and not (months_text.isascii() and months_text.isdigit() and 1 <= int(months_text) <= 120):
        problems.append("Housekeeping months must be a whole number from 1 to 120 (or empty for the usual setting).")
    labels = {"privacy_reviewed_on": "Privacy settings reviewed", "dpia_on": "DPIA done", "policy_on": "Policy adopted"}
    dates = {key: _date(str(values.get(key) or "").strip(), labels[key], today, problems) for key in _DATES}
    if problems:
        raise DomainError("\n\n".join(problems))
    return AccountDraft(
        platform=texts["platform"], handle=texts["handle"], url=url, audience=audience, owner=texts["owner"],
        access=texts["access"], backup_admin=texts["backup_admin"], privacy_reviewed_on=dates["privacy_reviewed_on"],
        dpia_on=dates["dpia_on"], policy_on=dates["policy_on"],
        housekeeping_months=int(months_text) if months_text else None)


def form_values(account: SocialAccount) -> dict[str, str]:
    """An account as the form shows it."""
    values = {key: str(getattr(account, key)) for key in (*_TEXTS, "audience")}
    values |= {key: f"{getattr(account, key):%d/%m/%Y}" if getattr(account, key) else "" for key in _DATES}
    values["housekeeping_months"] = str(account.housekeeping_months or "")
    return values


def _require_dpo(actor: Actor) -> None:
    if not actor.is_dpo:
        raise NotAllowed(NOT_DPO)


async def accounts(session: AsyncSession, *, actor: Actor, retired: bool = False) -> list[SocialAccount]:
    """The school's live accounts by number (with `retired`, the DPO sees retired ones too)."""
    query = select(SocialAccount).where(col(SocialAccount.tenant_id) == actor.tenant_id)
    if not (retired and actor.is_dpo):
        query = query.where(col(SocialAccount.retired_at).is_(None))
    return list((await session.execute(query.order_by(col(SocialAccount.number)))).scalars())


async def get_account(session: AsyncSession, *, actor: Actor, number: int) -> SocialAccount:
    """One account of the actor's school, by its number."""
    found = None if number > MAX_NUMBER else (await session.execute(select(SocialAccount).where(
        col(SocialAccount.tenant_id) == actor.tenant_id, col(SocialAccount.number) == number))).scalar_one_or_none()
    if found is None:
        raise DomainError(f"I couldn't find account {number} at your school. Type **social media accounts** to see them.")
    return found


async def live_account(session: AsyncSession, *, actor: Actor, number: int) -> SocialAccount:
    """A live (not retired) account of the actor's school, for a post."""
    account = await get_account(session, actor=actor, number=number)
    if account.retired_at is not None:
        raise DomainError(f"Account {number} is retired. Please pick another account.")
    return account


async def add_account(session: AsyncSession, *, actor: Actor, draft: AccountDraft, now: datetime) -> SocialAccount:
    """Register a new account (DPO only). Commits."""
    _require_dpo(actor)
    last = (await session.execute(select(func.max(SocialAccount.number)).where(
        col(SocialAccount.tenant_id) == actor.tenant_id))).scalar()
    account = SocialAccount(tenant_id=actor.tenant_id, number=(last or 0) + 1, created_at=now, created_by=actor.aad_id,
                            updated_at=now, **draft.__dict__)
    session.add(account)
    await session.flush()
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="account.added", now=now,
                 subject_type="social_account", subject_id=account.number)
    await session.commit()
    return account


async def edit_account(
    session: AsyncSession, *, actor: Actor, number: int, draft: AccountDraft, now: datetime
) -> SocialAccount:
    """Save the form over a live account (DPO only). Commits."""
    _require_dpo(actor)
    account = await get_account(session, actor=actor, number=number)
    if account.retired_at is not None:
        raise DomainError(f"Account {number} is retired, so it can't be changed.")
    for key, value in draft.__dict__.items():
        setattr(account, key, value)
    account.updated_at = now
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="account.edited", now=now,
                 subject_type="social_account", subject_id=number)
    await session.commit()
    return account


async def retire_account(session: AsyncSession, *, actor: Actor, number: int, reason: str, now: datetime) -> SocialAccount:
    """Retire an account with the reason; it stays in the register (DPO only). Commits."""
    _require_dpo(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(f"Please say why, e.g. **retire account {number} - page closed**.")
    if len(reason) > 300:
        raise DomainError("The reason is too long (at most 300 characters).")
    account = await get_account(session, actor=actor, number=number)
    if account.retired_at is not None:
        raise DomainError(f"Account {number} was already retired on {account.retired_at:%d/%m/%Y}.")
    account.retired_at, account.retired_reason, account.updated_at = now, reason, now
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="account.retired", now=now,
                 subject_type="social_account", subject_id=number)
    await session.commit()
    return account


def people_of(account: SocialAccount) -> list[str]:
    """Everyone named on the account: owner, backup admin and people with access."""
    names = [account.owner, account.backup_admin, *account.access.split(",")]
    return [name.strip() for name in names if name.strip()]


def gaps(account: SocialAccount) -> list[str]:
    """What the account is missing for the DPO to follow up."""
    missing = [] if account.dpia_on else ["no DPIA date"]
    missing += [] if account.backup_admin else ["no backup admin"]
    return missing + ([] if people_of(account) else ["no one left with access (no contingency)"])


async def unregistered_posts(session: AsyncSession, *, actor: Actor) -> list[Post]:
    """For the DPO: live posts made to an account that isn't in the register."""
    _require_dpo(actor)
    return list((await session.execute(select(Post).where(
        col(Post.tenant_id) == actor.tenant_id, col(Post.account_other).is_(True), col(Post.removed_at).is_(None),
    ).order_by(col(Post.id)))).scalars())
