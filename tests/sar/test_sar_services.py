"""The SAR service on a real database: stopping the clock for clarification, the digest's SAR lines, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.runtime import Runtime
from services.clock import SettableClock
from services.dpo import digest
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.sar import requests as service
from services.sar import work
from storage.models import Role
from tests.conftest import SCHOOL_A, SCHOOL_B, START

DPO = Actor(SCHOOL_A, "a-dpo", "Dana Price", frozenset({Role.DPO}))
STAFF = Actor(SCHOOL_A, "a-megan", "Megan Bowen")
RULES = service.Rules()
DETAILS = service.SarDetails(requester_type="staff", requester_name="Lee Gray", subject_kind="person",
                             subject_name="Lee Gray", received_on=date(2026, 11, 2), channel="verbal", id_verified=True,
                             educational_record=False)


async def logged(runtime: Runtime, details: service.SarDetails = DETAILS) -> service.SubjectAccessRequest:
    async with runtime.deps.sessions() as session:
        sar, _ = await service.log_request(session, actor=STAFF, details=details, now=runtime.deps.clock(), rules=RULES)
        return sar


async def test_clarification_adds_the_days_waited(runtime: Runtime, clock: SettableClock) -> None:
    sar = await logged(runtime)
    assert sar.due_on == date(2026, 12, 2)  # Wednesday
    async with runtime.deps.sessions() as session:
        await work.pause(session, actor=DPO, sar_id=sar.id or 0, kind="clarification", now=START, rules=RULES)
    clock.advance(timedelta(days=6))
    async with runtime.deps.sessions() as session:
        with pytest.raises(DomainError, match="already stopped"):
            await work.pause(session, actor=DPO, sar_id=sar.id or 0, kind="id", now=clock(), rules=RULES)
    async with runtime.deps.sessions() as session:  # stopped Wed 25 Nov, answered Mon 30 Nov: 5 days
        resumed = await work.resume(session, actor=DPO, sar_id=sar.id or 0, on=date(2026, 11, 30), now=clock(),
                                       rules=RULES)
    assert resumed.due_on == date(2026, 12, 7) and resumed.paused_days == 5 and resumed.clock_start == date(2026, 11, 2)


async def test_only_a_dpo_of_the_school_changes_a_request(runtime: Runtime) -> None:
    sar = await logged(runtime)
    other_dpo = Actor(SCHOOL_B, "a-dpo", "Dana Price", frozenset({Role.DPO}))
    for actor in (STAFF, other_dpo):
        async with runtime.deps.sessions() as session:
            with pytest.raises(NotAllowed):
                await work.tick(session, actor=actor, sar_id=sar.id or 0, step="mis", now=START)


async def test_close_needs_the_disclosure_record_and_the_date_sent(runtime: Runtime) -> None:
    sar = await logged(runtime)
    cases = [("full", "", "", date(2026, 11, 25), "what was disclosed"), ("refused", "", "", date(2026, 11, 25), "reason"),
             ("full", "", "All records", None, "date the answer was sent"),
             ("full", "", "All records", date(2026, 11, 1), "between the date received and today")]
    for outcome, note, disclosed, sent_on, said in cases:
        async with runtime.deps.sessions() as session:
            with pytest.raises(DomainError, match=said):
                await work.close(session, actor=DPO, sar_id=sar.id or 0, outcome=outcome, note=note,
                                    disclosed=disclosed, sent_on=sent_on, now=START, rules=RULES)
    async with runtime.deps.sessions() as session:
        closed = await work.close(session, actor=DPO, sar_id=sar.id or 0, outcome="withdrawn", note="", disclosed="",
                                     sent_on=None, now=START, rules=RULES)
    assert closed.closed_at == START and closed.outcome == "withdrawn"


async def test_the_digest_lists_new_and_overdue_requests(runtime: Runtime, clock: SettableClock) -> None:
    await logged(runtime, DETAILS)
    await logged(runtime, service.SarDetails(**{**vars(DETAILS), "received_on": date(2026, 11, 24)}))
    clock.set(START + timedelta(days=8))  # Thu 3 Dec: SAR-2026-0001 was due Wed 2 Dec
    async with runtime.deps.sessions() as session:
        since = START - timedelta(days=1)
        week = await digest.summarise(session, tenant_id=SCHOOL_A, since=since, now=clock(), review_months=4)
        elsewhere = await digest.summarise(session, tenant_id=SCHOOL_B, since=since, now=clock(), review_months=4)
    assert week.new_sars == ["SAR-2026-0001", "SAR-2026-0002"] and week.overdue_sars == ["SAR-2026-0001"]
    assert elsewhere.new_sars == [] and elsewhere.overdue_sars == []
