"""Nobody sees another school's breaches, and staff see only their own: by command and by replayed buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.breach_models import BreachEvent
from storage.models import AuditEvent
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.breach import ANSWERS, breaches, csv_rows, file_report
from tests.teams.client import TeamsClient, TeamsUser, texts

NOT_FOUND = "couldn't find that breach, or you don't have access"
SECRET = ANSWERS["what_happened"][1]


@pytest.fixture
def other_staff_a() -> TeamsUser:
    return TeamsUser("Alex Wilber", "9a9a9a9a-0000-4000-8000-0000000000a3", SCHOOL_A)


def replays(breach_id: int) -> list[dict[str, object]]:
    """Every breach button, as a stranger would replay it with school A's breach id."""
    return [
        {"cmd": "breach.show", "id": breach_id},
        {"cmd": "breach.decide_form", "id": breach_id},
        {"cmd": "breach.decide", "id": breach_id, "decision": "not_notifiable", "reason": "x", "individuals": "not_required"},
        {"cmd": "breach.reported_form", "id": breach_id},
        {"cmd": "breach.reported", "id": breach_id, "ico_reference": "IC-1", "reported_at": "", "late_reason": ""},
        {"cmd": "breach.ask_form", "id": breach_id},
        {"cmd": "breach.ask", "id": breach_id, "question": "What?"},
        {"cmd": "breach.close_form", "id": breach_id},
        {"cmd": "breach.close", "id": breach_id, "lessons": "x"},
        {"cmd": "breach.update", "id": breach_id},
        {"cmd": "breach.show", "id": str(breach_id)},
        {"cmd": "breach.show", "id": "1; drop table breach"},
    ]


async def events(runtime: Runtime) -> int:
    async with runtime.deps.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(BreachEvent))).scalar_one())


@pytest.mark.parametrize("stranger", ["dpo_b", "staff_b", "other_staff_a"])
async def test_strangers_get_a_polite_refusal_and_no_data(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime, stranger: str, request: pytest.FixtureRequest,
    clock: SettableClock,
) -> None:
    user: TeamsUser = request.getfixturevalue(stranger)
    await file_report(teams, staff_a)
    [breach] = await breaches(runtime)
    assert breach.id is not None
    seen: list[str] = []
    for command in ("breach BR-2026-0001", "update BR-2026-0001"):
        said = texts(await teams.say(user, command))
        assert NOT_FOUND in said, command
        seen.append(said)
    for data in replays(breach.id):
        clock.advance(timedelta(seconds=5))  # a person's pace (the bot limits messages per minute)
        said = texts(await teams.press(user, data))
        assert NOT_FOUND in said, data
        seen.append(said)
        said = texts(await teams.press(user, {**data, "school": SCHOOL_A}))  # as if the card came from school A
        assert NOT_FOUND in said or "you don't have access" in said, data
        seen.append(said)
    for listing in ("open breaches", "status"):
        seen.append(texts(await teams.say(user, listing)))
    everything = "\n".join(seen)
    assert "BR-2026-0001" not in everything.replace("update BR-2026-0001", "").replace("breach BR-2026-0001", "")
    assert SECRET not in everything and "SEN report" not in everything
    after = (await breaches(runtime))[0]
    assert after.decision is None and after.closed_at is None and after.ico_reported_at is None
    assert await events(runtime) == 1  # only "submitted"


async def test_export_is_for_the_dpo_and_only_their_school(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, dpo_b: TeamsUser, runtime: Runtime,
) -> None:
    await file_report(teams, staff_a)
    assert "Only your school's DPO" in texts(await teams.say(staff_a, "export breaches"))
    assert await csv_rows(teams, dpo_b, await teams.say(dpo_b, "export breaches")) == []
    rows = await csv_rows(teams, dpo_a, await teams.say(dpo_a, "export breaches"))
    assert [row["Reference"] for row in rows] == ["BR-2026-0001"]
    async with runtime.deps.sessions() as session:
        trail = (await session.execute(select(col(AuditEvent.tenant_id), col(AuditEvent.action)))).all()
    assert (SCHOOL_A, "breach.submitted") in trail and (SCHOOL_A, "breach.log_exported") in trail
    assert (SCHOOL_B, "breach.log_exported") in trail


async def test_staff_see_only_their_own_and_the_dpo_sees_the_school(
    teams: TeamsClient, staff_a: TeamsUser, other_staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    await file_report(teams, staff_a)
    await file_report(teams, other_staff_a)
    mine = texts(await teams.say(staff_a, "open breaches"))
    assert "BR-2026-0001" in mine and "BR-2026-0002" not in mine
    theirs = texts(await teams.say(other_staff_a, "open breaches"))
    assert "BR-2026-0002" in theirs and "BR-2026-0001" not in theirs
    school = texts(await teams.say(dpo_a, "open breaches"))
    assert "BR-2026-0001" in school and "BR-2026-0002" in school
    assert SECRET in texts(await teams.say(dpo_a, "breach BR-2026-0002"))
