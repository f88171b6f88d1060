"""Reviews of the social media accounts on a cycle (termly by default), through the reminder engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.accounts.register import accounts, live_account
from services.errors import DomainError, NotAllowed
from services.identity import Actor, dpo_ids
from services.reminders import ledger as reminders
from services.school.calendar import calendar_for
from storage.account_models import SocialAccount
from storage.reminder_models import Reminder

KIND_REVIEW = "accounts.review"
SUBJECT = "social_account"
CHECKS = (
    ("privacy", "The privacy settings are checked and still right for the audience"),
    ("access", "Everyone with access still needs it, and the backup admin can still get in"),
    ("suitable", "The account is still suitable for the school's purpose"),
)


def review_due(account: SocialAccount, months: int) -> date:
    """The day the next review is due: `months` after the last one (or after the account was added)."""
    return (account.reviewed_on or account.created_at.date()) + relativedelta(months=months)


async def schedule_review(session: AsyncSession, account: SocialAccount, *, months: int, now: datetime) -> None:
    """Remind the school's DPOs on the morning the review is due. Does not commit."""
    due = review_due(account, months)
    calendar = await calendar_for(session, account.tenant_id)
    when = calendar.school_mornings(datetime.combine(due - timedelta(days=1), time(12), UTC), 1)[0]
    for aad in await dpo_ids(session, account.tenant_id):
        await reminders.schedule(
            session, key=f"accounts:{account.id}:review:{due:%Y%m%d}:{aad}", tenant_id=account.tenant_id,
            kind=KIND_REVIEW, recipient_aad_id=aad, subject_type=SUBJECT, subject_id=int(account.id or 0),
            due_at=when, now=now, payload={"due": due.isoformat()},
        )


async def due_review(session: AsyncSession, reminder: Reminder, months: int) -> SocialAccount | None:
    """The account a review reminder is about, while it is live and that review is still to do."""
    account = await session.get(SocialAccount, int(reminder.subject_id))
    if account is None or account.retired_at is not None or account.tenant_id != reminder.tenant_id:
        return None
    return account if review_due(account, months).isoformat() == reminder.payload.get("due") else None


async def mark_reviewed(
    session: AsyncSession, *, actor: Actor, number: int, ticked: dict[str, object], months: int, now: datetime
) -> SocialAccount:
    """The DPO reviewed the account with every check ticked: record it and schedule the next review. Commits."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can record an account review.")
    account = await live_account(session, actor=actor, number=number)
    if not all(str(ticked.get(key)).lower() == "true" for key, _ in CHECKS):
        raise DomainError(f"Every check must be ticked. If something isn't right, fix it first (**edit account {number}**), "
                          "then record the review.")
    account.reviewed_on = account.privacy_reviewed_on = now.date()
    account.updated_at = now
    await reminders.cancel(session, tenant_id=account.tenant_id, subject_type=SUBJECT, subject_id=int(account.id or 0),
                           kinds=[KIND_REVIEW])
    await schedule_review(session, account, months=months, now=now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="account.reviewed", now=now,
                 subject_type=SUBJECT, subject_id=number)
    await session.commit()
    return account


async def reviews_overdue(session: AsyncSession, *, tenant_id: str, months: int, today: date) -> list[int]:
    """The numbers of a school's live accounts whose review is due or overdue."""
    school = Actor(tenant_id, "", "", frozenset())
    return [account.number for account in await accounts(session, actor=school) if review_due(account, months) <= today]
