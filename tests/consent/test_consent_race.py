"""A post recorded at the same moment as a withdrawal, never-publish or leaver ends refused or with a removal task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from services.clock import SettableClock
from services.consent import register
from services.consent.posts import record_post
from services.consent.rules import check_pupils
from services.errors import DomainError
from services.identity import Actor
from storage.consent_models import ConsentState, Post, Pupil, Purpose, RemovalTask
from storage.models import Role
from tests.support.consent import import_sample, rows
from tests.teams.client import TeamsClient, TeamsUser

Change = Callable[[Runtime, Actor, int], Awaitable[object]]


async def withdraw(runtime: Runtime, dpo: Actor, pupil_id: int) -> object:
    async with runtime.deps.sessions() as session:
        return await register.change_consent(session, actor=dpo, pupil_id=pupil_id, purpose=Purpose.WEBSITE,
                                             state=ConsentState.REFUSED, given_by="", review_on=None, now=runtime.deps.clock())


async def never_publish(runtime: Runtime, dpo: Actor, pupil_id: int) -> object:
    async with runtime.deps.sessions() as session:
        return await register.set_never_publish(session, actor=dpo, pupil_id=pupil_id, reason="court order",
                                                now=runtime.deps.clock())


async def leaves(runtime: Runtime, dpo: Actor, pupil_id: int) -> object:
    async with runtime.deps.sessions() as session:
        return await register.mark_left(session, actor=dpo, pupil_id=pupil_id, now=runtime.deps.clock())


@pytest.mark.parametrize("change", [withdraw, never_publish, leaves], ids=lambda fn: fn.__name__)
async def test_a_post_recorded_during_a_consent_change_is_refused_or_gets_a_removal_task(
    teams: TeamsClient, runtime: Runtime, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser, change: Change
) -> None:
    await teams.say(staff_a, "help")
    await import_sample(teams, dpo_a)
    staff = Actor(staff_a.tenant_id, staff_a.aad_id, staff_a.name)
    dpo = Actor(dpo_a.tenant_id, dpo_a.aad_id, dpo_a.name, frozenset({Role.DPO}))
    months = runtime.settings.housekeeping_months
    outcomes = {"refused": 0, "task": 0}
    for trial, olivia in enumerate(await rows(runtime, Pupil)):  # a new pupil each trial: the changes can't be undone
        clock.advance(timedelta(minutes=1))
        async with runtime.deps.sessions() as session:
            check = await check_pupils(session, actor=staff, pupil_ids=[int(olivia.id or 0)], purpose=Purpose.WEBSITE,
                                       now=clock())
        if not check.allowed:
            continue  # no website consent in the sample: nothing to race

        async def post(check_id: int) -> Post | None:
            async with runtime.deps.sessions() as session:
                try:
                    return await record_post(session, actor=staff, check_id=check_id, account="Website",
                                             description="Sports day", link="", months=months, now=clock())
                except DomainError:
                    return None

        if trial % 2:  # started in both orders
            posting = asyncio.ensure_future(post(check.check_id))
            changing = asyncio.ensure_future(change(runtime, dpo, int(olivia.id or 0)))
        else:
            changing = asyncio.ensure_future(change(runtime, dpo, int(olivia.id or 0)))
            posting = asyncio.ensure_future(post(check.check_id))
        await asyncio.gather(posting, changing)
        recorded = posting.result()
        if recorded is None:
            outcomes["refused"] += 1
            continue
        async with runtime.deps.sessions() as session:
            tasks = (await session.execute(select(RemovalTask).where(col(RemovalTask.post_id) == recorded.id))).scalars().all()
        assert tasks, f"trial {trial}: post #{recorded.id} is live with no removal task"
        outcomes["task"] += 1
    print(f"\n{change.__name__}: {outcomes}")
    assert sum(outcomes.values()) >= 25
