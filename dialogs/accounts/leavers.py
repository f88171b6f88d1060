"""People leave: `left staff Name` (DPO), Teams' members-removed event, and the DPO's access tasks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.accounts.cards import LEAVER_DONE, leaver_reminder
from dialogs.feature import ActionHandler, Deps, Intent, StatusLine, actor_of
from dialogs.kit.cards import plain, submit
from services.accounts import leavers
from services.accounts.register import NOT_DPO
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from storage.reminder_models import Reminder

LEFT = Intent("accounts.left_staff", ("left staff", "staff left"), (r"^(left staff|staff (member )?(has )?left)\b",),
              private=True)
_NAME = re.compile(r"^(?:left staff|staff (?:member )?(?:has )?left)\s*:?\s*(?P<name>.*)$", re.IGNORECASE)


async def left_staff(context: TurnContext, deps: Deps, said: str) -> None:
    """`left staff Megan Smith`: a task per account naming them."""
    actor = actor_of(context)
    if not actor.is_dpo:
        raise NotAllowed(NOT_DPO)
    match = _NAME.match(" ".join(said.split()))
    name = match["name"] if match else ""
    if not name or len(name) > 100:
        raise DomainError("Who left? Say it like this: **left staff Megan Smith** (the name as the account register has it).")
    async with deps.sessions() as session:
        found = await leavers.staff_left(session, tenant_id=actor.tenant_id, name=name, by=actor.aad_id, now=deps.clock())
    if not found:
        await context.send_activity(f"No live account names {plain(name)}, so there is no access to remove.")
        return
    numbers = ", ".join(str(account.number) for account in found)
    await context.send_activity(f"{plain(name)} is named on account(s) {numbers}. Their access removal is now a task "
                                "in your **status** until you mark it done (and a reminder each school morning for a week).")


async def member_removed(deps: Deps, tenant_id: str, aad_id: str) -> None:
    """Teams removed someone from a team the bot is in: the same tasks, by the name the bot knows them by."""
    async with deps.sessions() as session:
        await leavers.member_removed(session, tenant_id=tenant_id, aad_id=aad_id, now=deps.clock())


def access_done(deps: Deps) -> ActionHandler:
    """The status line's Done button."""

    async def run(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        async with deps.sessions() as session:
            account = await leavers.access_removed(session, actor=actor, task_id=data.get("task"), now=deps.clock())
        await dc.context.send_activity(f"Done: the register for account {account.number} is updated.")

    return run


async def access_status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
    """For the DPO: open access-removal tasks."""
    return [
        StatusLine("Social media accounts", f"Remove {plain(task.name)}'s access to account {account.number} "
                   f"({plain(account.label)})", urgency=40, button=submit("Done", {"cmd": LEAVER_DONE, "task": task.id}))
        for task, account in await leavers.open_tasks(session, actor=actor)
    ]


async def render_leaver(session: AsyncSession, reminder: Reminder, _now: datetime) -> dict[str, Any] | None:
    """A leaver's access still to remove (None once the task is done)."""
    found = await leavers.open_task_of(session, reminder)
    if found is None:
        return None
    task, account = found
    return leaver_reminder(account, name=task.name, task_id=int(task.id or 0), reminder_id=int(reminder.id or 0))
