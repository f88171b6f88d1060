"""People leave: a task for the DPO to take their access away from each account they could post to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.accounts.register import NOT_DPO, accounts, people_of
from services.consent.posts import schedule_chain
from services.errors import DomainError, NotAllowed
from services.identity import Actor, dpo_ids
from services.ids import parse_id
from services.reminders import ledger as reminders
from storage.account_models import AccountAccessTask, SocialAccount
from storage.models import Person
from storage.reminder_models import Reminder

TEAMS = "teams"  # opened_by when Teams said someone was removed
KIND_LEAVER = "accounts.leaver"  # to the school's DPOs: at once, then each school morning while the task is open
LEAVER_REPEATS = 5  # school mornings of reminders; then the task stays in `status` until done
TASK = "account_access_task"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def staff_left(session: AsyncSession, *, tenant_id: str, name: str, by: str, now: datetime) -> list[SocialAccount]:
    """Open a task per live account that names `name` (none twice), with the name as the register has it;
    the accounts. Commits."""
    school = Actor(tenant_id, by, "", frozenset())
    found = [account for account in await accounts(session, actor=school)
             if any(_same(name, person) for person in people_of(account))]
    open_for = set((await session.execute(select(col(AccountAccessTask.account_id), col(AccountAccessTask.name)).where(
        col(AccountAccessTask.tenant_id) == tenant_id, col(AccountAccessTask.done_at).is_(None)))).all())
    for account in found:
        if not any(account_id == account.id and _same(task_name, name) for account_id, task_name in open_for):
            as_named = next(person for person in people_of(account) if _same(name, person))
            task = AccountAccessTask(tenant_id=tenant_id, account_id=int(account.id or 0), name=as_named,
                                     opened_at=now, opened_by=by)
            session.add(task)
            await session.flush()
            audit.record(session, tenant_id=tenant_id, actor_aad_id=by, action="account.leaver_task", now=now,
                         subject_type=TASK, subject_id=int(task.id or 0))
            await _remind(session, task, now)
    await session.commit()
    return found


async def _remind(session: AsyncSession, task: AccountAccessTask, now: datetime) -> None:
    """Tell the school's DPOs at once (not the one who said `left staff`: the reply told them), then each school
    morning. Does not commit."""
    task_id = int(task.id or 0)
    for aad in await dpo_ids(session, task.tenant_id):
        await schedule_chain(session, base=f"accounts:access:{task_id}", tenant_id=task.tenant_id, recipient=aad,
                             subject_type=TASK, subject_id=task_id,
                             first=(KIND_LEAVER, now) if aad != task.opened_by else None,
                             daily=(KIND_LEAVER, LEAVER_REPEATS), after=now, now=now)


async def open_task_of(session: AsyncSession, reminder: Reminder) -> tuple[AccountAccessTask, SocialAccount] | None:
    """The task a leaver reminder is about and its account, while the task is open (None once it is done)."""
    task = await session.get(AccountAccessTask, int(reminder.subject_id))
    if task is None or task.done_at is not None or task.tenant_id != reminder.tenant_id:
        return None
    account = await session.get(SocialAccount, task.account_id)
    return (task, account) if account is not None else None


async def member_removed(session: AsyncSession, *, tenant_id: str, aad_id: str, now: datetime) -> list[SocialAccount]:
    """Teams says someone was removed from the team: their name as the bot knows it, then as `staff_left`."""
    name = (await session.execute(select(col(Person.name)).where(
        col(Person.tenant_id) == tenant_id, col(Person.aad_id) == aad_id))).scalar_one_or_none()
    return await staff_left(session, tenant_id=tenant_id, name=name, by=TEAMS, now=now) if name else []


async def open_tasks(session: AsyncSession, *, actor: Actor) -> list[tuple[AccountAccessTask, SocialAccount]]:
    """For the DPO: the school's open access tasks with their accounts."""
    if not actor.is_dpo:
        return []
    rows = await session.execute(select(AccountAccessTask, SocialAccount).join(
        SocialAccount, col(SocialAccount.id) == col(AccountAccessTask.account_id)).where(
        col(AccountAccessTask.tenant_id) == actor.tenant_id, col(AccountAccessTask.done_at).is_(None),
    ).order_by(col(AccountAccessTask.id)))
    return [(task, account) for task, account in rows.tuples()]


async def access_removed(session: AsyncSession, *, actor: Actor, task_id: object, now: datetime) -> SocialAccount:
    """The DPO took the leaver's access away: the task is done and the name leaves the account. Commits."""
    if not actor.is_dpo:
        raise NotAllowed(NOT_DPO)
    task = await session.get(AccountAccessTask, parse_id(task_id) or 0)
    if task is None or task.tenant_id != actor.tenant_id:
        raise NotAllowed()
    account = await session.get(SocialAccount, task.account_id)
    if task.done_at is not None or account is None:
        raise DomainError("That task is already done.")
    task.done_at, task.done_by = now, actor.aad_id
    kept = [person.strip() for person in account.access.split(",") if person.strip() and not _same(person, task.name)]
    account.access = ", ".join(kept)
    account.owner = "" if _same(account.owner, task.name) else account.owner
    account.backup_admin = "" if _same(account.backup_admin, task.name) else account.backup_admin
    account.updated_at = now
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="account.access_removed", now=now,
                 subject_type=TASK, subject_id=int(task.id or 0))
    await reminders.cancel(session, tenant_id=task.tenant_id, subject_type=TASK, subject_id=int(task.id or 0))
    await session.commit()
    return account
