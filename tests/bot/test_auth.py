"""Authentication both ways, with botbuilder's real JWT checks and MSAL against a local login service.

The end-to-end tests run twice: on the public-cloud configuration production uses (botbuilder's own endpoint
constants pointed at 127.0.0.1) and on endpoints set through our settings (botbuilder's
"parameterized" configuration). requests can reach nothing but loopback, so nothing leaks to Microsoft.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from botbuilder.core import MessageFactory
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from sqlalchemy import func, select
from sqlmodel import col

from bot.compat.auth import botbuilder_configuration, patch_openid_metadata
from bot.runtime import Runtime
from config import Settings
from storage.models import BotStateRow, Person
from tests.support.auth import ROGUE_KEY, TEAMS_KEY, WEBCHAT_KEY, IdentityProvider, SigningKey
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import FakeTeamsChannel

APP_ID = "5e5e5e5e-0000-4000-8000-00000000a990"
PASSWORD = "test-only-secret"
SCHOOL_TENANT = "aaaaaaaa-0000-4000-8000-00000000000a"
LATE = timedelta(minutes=6)  # beyond botbuilder's 5-minute clock skew allowance

REJECTED: dict[str, dict[str, Any]] = {
    "wrong audience": {"aud": "0badc0de-0000-4000-8000-000000000bad"},
    "wrong issuer": {"iss": "https://api.botframework.com.attacker.example"},
    "expired": {"lifetime": (timedelta(hours=-2), -LATE)},
    "not yet valid": {"lifetime": (LATE, timedelta(hours=2))},
    "unknown key": {"key": ROGUE_KEY},
    "real key id, forged signature": {"key": SigningKey(TEAMS_KEY.kid)},
    "alg none": {"algorithm": "none"},
    "HS256 keyed with the public key": {"algorithm": "HS256"},
    "key not endorsed for msteams": {"key": WEBCHAT_KEY},
    "serviceurl not the activity's": {"serviceurl": "https://attacker.example/"},
}


@pytest.fixture
def idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityProvider]:
    """The local login service; requests (botbuilder's key fetch, MSAL) trust it and can reach nothing else."""
    provider = IdentityProvider(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(provider.ca_file))
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a dead end for anything not on loopback
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    provider.start()
    yield provider
    provider.close()


@pytest.fixture(params=["public cloud", "configured endpoints"])
def endpoints(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app_type(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "MultiTenant"))


@pytest.fixture
def settings(db_url: str, idp: IdentityProvider, endpoints: str, app_type: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Auth on, every Microsoft endpoint on the local identity provider."""
    tenant = SCHOOL_TENANT if app_type == "SingleTenant" else ""
    extra: dict[str, Any] = {}
    if endpoints == "public cloud":
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", idp.metadata_url)
        monkeypatch.setattr(AuthenticationConstants, "TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX", idp.login_prefix)
    else:
        extra = {"TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": idp.metadata_url,
                 "TO_CHANNEL_FROM_BOT_LOGIN_URL": idp.authority(tenant or "botframework.com")}
    return Settings(
        _env_file=None,
        DATABASE_URL=db_url, SCHEDULER_ENABLED=False, MicrosoftAppId=APP_ID, MicrosoftAppPassword=PASSWORD,
        MicrosoftAppType=app_type, MicrosoftAppTenantId=tenant, VALIDATE_AUTHORITY=False, **extra,
    )


async def stored(runtime: Runtime) -> tuple[int, int]:
    """(people, conversation states) in the database."""
    async with runtime.deps.sessions() as session:
        people = await session.scalar(select(func.count()).select_from(Person))
        states = await session.scalar(select(func.count()).select_from(BotStateRow))
    return int(people or 0), int(states or 0)


async def say_help(teams: TeamsClient, user: TeamsUser, authorization: str) -> int:
    status, _ = await teams.post(teams.message(user, "help"), headers={"Authorization": authorization})
    return status


@pytest.mark.parametrize("lifetime", [(timedelta(minutes=-5), timedelta(hours=1)),
                                      (timedelta(hours=-1), timedelta(minutes=-2))], ids=["fresh", "expired 2 min ago"])
async def test_channel_token_for_our_app_is_accepted_and_replies_carry_a_bot_token(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, runtime: Runtime, staff_a: TeamsUser,
    lifetime: tuple[timedelta, timedelta],
) -> None:
    assert await say_help(teams, staff_a, idp.channel_token(APP_ID, channel.url, lifetime=lifetime)) == 201
    replies = channel.to(staff_a.conversation_id)
    assert replies and {reply.authorization for reply in replies} == {"Bearer bot-token-1"}
    form = idp.token_forms[0]
    assert (form["client_id"], form["client_secret"], form["grant_type"], form["scope"]) == (
        APP_ID, PASSWORD, "client_credentials", "https://api.botframework.com/.default")
    assert await stored(runtime) == (1, 1)


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
async def test_bad_channel_tokens_get_401_and_nothing_is_stored(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, runtime: Runtime, staff_a: TeamsUser,
    case: dict[str, Any],
) -> None:
    activity = teams.message(staff_a, "help")
    status, body = await teams.post(activity, headers={"Authorization": idp.channel_token(APP_ID, channel.url, **case)})
    assert (status, body) == (401, '{"error": "unauthorized"}')
    assert channel.received == []
    assert await stored(runtime) == (0, 0)
    # The same message with a good token goes through: the refusal was about the token alone.
    status, _ = await teams.post(activity, headers={"Authorization": idp.channel_token(APP_ID, channel.url)})
    assert status == 201 and channel.to(staff_a.conversation_id)


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
async def test_missing_or_malformed_authorization_is_401(
    teams: TeamsClient, channel: FakeTeamsChannel, runtime: Runtime, staff_a: TeamsUser, header: str,
) -> None:
    headers = {"Authorization": header} if header else {}
    status, _ = await teams.post(teams.message(staff_a, "help"), headers=headers)
    assert status == 401
    assert channel.received == [] and await stored(runtime) == (0, 0)


async def test_one_bot_token_serves_many_turns(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, staff_a: TeamsUser, dpo_a: TeamsUser,
) -> None:
    for user in (staff_a, dpo_a, staff_a):
        assert await say_help(teams, user, idp.channel_token(APP_ID, channel.url)) == 201
    assert idp.hits("/oauth2/v2.0/token") == 1
    assert idp.hits("/v2.0/.well-known/openid-configuration") == 1
    assert {reply.authorization for reply in channel.received} == {"Bearer bot-token-1"}


async def test_proactive_messages_carry_the_bot_token_too(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, runtime: Runtime, staff_a: TeamsUser,
) -> None:
    assert await say_help(teams, staff_a, idp.channel_token(APP_ID, channel.url)) == 201
    async with runtime.deps.sessions() as session:
        person = (await session.execute(select(Person).where(col(Person.aad_id) == staff_a.aad_id))).scalar_one()
    before = len(channel.received)
    result = await runtime.sender.send(str(person.conversation_reference), MessageFactory.text("A reminder"))
    assert result.ok
    assert [(r.text, r.authorization) for r in channel.received[before:]] == [("A reminder", "Bearer bot-token-1")]


@pytest.mark.parametrize("app_type", ["SingleTenant"], indirect=True)
async def test_single_tenant_bot_gets_its_token_from_its_own_tenant(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, staff_a: TeamsUser,
) -> None:
    assert await say_help(teams, staff_a, idp.channel_token(APP_ID, channel.url)) == 201
    assert idp.hits(f"/{SCHOOL_TENANT}/oauth2/v2.0/token") == 1
    assert channel.to(staff_a.conversation_id)[0].authorization == "Bearer bot-token-1"


@pytest.mark.parametrize("kind", ["token", "keys"])
async def test_token_and_key_fetches_do_not_block_the_event_loop(
    teams: TeamsClient, server: TestServer, channel: FakeTeamsChannel, idp: IdentityProvider, staff_a: TeamsUser, kind: str,
) -> None:
    asked = idp.hold(kind)
    turn = asyncio.create_task(say_help(teams, staff_a, idp.channel_token(APP_ID, channel.url)))
    assert await asyncio.to_thread(asked.wait, 5)
    async with teams.http.get(server.make_url("/healthz")) as response:
        assert response.status == 200
    assert idp.answered(kind) == 0, "/healthz waited for the login service"
    idp.release(kind)
    assert await asyncio.wait_for(turn, 10) == 201
    assert channel.to(staff_a.conversation_id)[0].authorization == "Bearer bot-token-1"


async def test_a_newly_published_signing_key_is_picked_up_within_the_hour(
    teams: TeamsClient, channel: FakeTeamsChannel, idp: IdentityProvider, staff_a: TeamsUser,
) -> None:
    assert await say_help(teams, staff_a, idp.channel_token(APP_ID, channel.url)) == 201
    rotated = SigningKey("teams-2027")
    idp.keys.append(rotated)  # Microsoft publishes a new key
    token = idp.channel_token(APP_ID, channel.url, key=rotated)
    assert await say_help(teams, staff_a, token) == 401  # botbuilder re-reads keys at most hourly
    JwtTokenExtractor.metadataCache[idp.metadata_url].last_updated -= timedelta(hours=1, minutes=1)
    assert await say_help(teams, staff_a, token) == 201
    assert idp.hits("/v1/.well-known/keys") == 2


async def test_requests_arriving_during_a_key_fetch_share_it(idp: IdentityProvider) -> None:
    patch_openid_metadata()
    metadata = _OpenIdMetadata(idp.metadata_url)
    asked = idp.hold("keys")
    first = asyncio.create_task(metadata.get(TEAMS_KEY.kid))
    assert await asyncio.to_thread(asked.wait, 5)
    others = [asyncio.create_task(metadata.get(TEAMS_KEY.kid)) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)  # let them reach the refresh (no I/O on the way)
    idp.release("keys")
    found = await asyncio.wait_for(asyncio.gather(first, *others), 10)
    assert all(key is not None for key in found)
    assert idp.hits("/v1/.well-known/keys") == 1


def test_no_endpoint_settings_means_the_public_cloud() -> None:
    config = vars(botbuilder_configuration(Settings(_env_file=None, MicrosoftAppId=APP_ID)))
    assert not [name for name in config if name.startswith("TO_")]


def test_one_endpoint_setting_fills_the_rest_with_public_cloud_values() -> None:
    settings = Settings(_env_file=None, MicrosoftAppId=APP_ID, MicrosoftAppType="SingleTenant",
                        MicrosoftAppTenantId=SCHOOL_TENANT, TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL="https://keys.example/m")
    config = vars(botbuilder_configuration(settings))
    assert config["TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"] == "https://keys.example/m"
    assert config["TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"] == "https://api.botframework.com"
    assert config["TO_CHANNEL_FROM_BOT_LOGIN_URL"] == f"https://login.microsoftonline.com/{SCHOOL_TENANT}"
    assert config["TO_CHANNEL_FROM_BOT_OAUTH_SCOPE"] == "https://api.botframework.com"
