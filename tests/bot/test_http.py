"""The HTTP edge as Teams and attackers meet it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.models import Person
from tests.teams.client import TeamsClient, TeamsUser, all_activity_files, texts


async def people(runtime: Runtime) -> int:
    async with runtime.deps.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Person))).scalar_one())


async def test_healthz_checks_the_database(teams: TeamsClient) -> None:
    async with teams.http.get(teams.bot_url.replace("/api/messages", "/healthz")) as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_healthz_503_when_database_gone(teams: TeamsClient, runtime: Runtime) -> None:
    await runtime.engine.dispose()
    runtime.engine.sync_engine.pool._creator = lambda *a, **k: (_ for _ in ()).throw(OSError("down"))
    async with teams.http.get(teams.bot_url.replace("/api/messages", "/healthz")) as response:
        assert response.status == 503


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": 5}', "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
        (b"\xff\xfe\x00", "application/json", 400),
    ],
)
async def test_bad_requests_get_clear_4xx(teams: TeamsClient, body: bytes, content_type: str, status: int) -> None:
    async with teams.http.post(teams.bot_url, data=body, headers={"Content-Type": content_type}) as response:
        assert response.status == status


async def test_a_nul_character_is_400_but_a_typed_backslash_u0000_is_just_text(
    teams: TeamsClient, staff_a: TeamsUser
) -> None:
    with_nul = teams.message(staff_a, "hi")
    with_nul["from"]["id"] = "29:\x00"  # PostgreSQL cannot store a NUL; no real activity has one
    assert (await teams.post(with_nul))[0] == 400
    assert (await teams.post(teams.message(staff_a, "what does \\u0000 mean?")))[0] == 201


async def test_a_lone_surrogate_is_400_but_a_typed_backslash_ud800_is_just_text(
    teams: TeamsClient, staff_a: TeamsUser
) -> None:
    for escape in ("\\ud800", "\\uDFFF"):
        payload = json.dumps(teams.message(staff_a, "PLACE")).replace("PLACE", escape)  # valid JSON, not text
        async with teams.http.post(teams.bot_url, data=payload, headers={"Content-Type": "application/json"}) as response:
            assert (response.status, (await response.json())["error"]) == (400, "malformed JSON")
    assert (await teams.post(teams.message(staff_a, "what does \\ud800 mean?")))[0] == 201


async def test_oversized_body_is_413(teams: TeamsClient, staff_a: TeamsUser) -> None:
    activity = teams.message(staff_a, "x" * 300_000)
    status, _ = await teams.post(activity)
    assert status == 413


async def test_forged_authorization_is_401_and_stores_nothing(
    teams: TeamsClient, staff_a: TeamsUser, runtime: Runtime
) -> None:
    status, _ = await teams.post(teams.message(staff_a, "help"), headers={"Authorization": "Bearer not.a.jwt"})
    assert status == 401
    assert await people(runtime) == 0
    assert teams.channel.received == []


@pytest.mark.parametrize("path", all_activity_files(), ids=lambda p: p.name)
async def test_every_real_teams_payload_gets_2xx(teams: TeamsClient, path, caplog: pytest.LogCaptureFixture) -> None:
    status, _ = await teams.post(teams.from_file(path.name))
    assert 200 <= status < 300
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_tenant_not_allowed_is_403(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    runtime.settings.allowed_tenants = ["11111111-1111-4111-8111-111111111111"]
    status, _ = await teams.post(teams.message(staff_a, "help"))
    assert status == 403
    assert await people(runtime) == 0


async def test_help_and_cancel(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "help")
    assert "Report a breach" in texts(replies)
    replies = await teams.say(staff_a, "cancel")
    assert "nothing to cancel" in texts(replies)


async def test_unknown_text_gets_the_menu(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "purple elephants")
    assert "not sure what you mean" in texts(replies)
    assert "Check photo consent" in texts(replies)


async def test_invoke_action_execute_answers_200(teams: TeamsClient) -> None:
    status, body = await teams.post(teams.from_file("invoke_adaptiveCard_action_personal_teamsnet_capture.json"))
    assert status == 200
    assert json.loads(body)["statusCode"] == 200
