"""Connector clients: one per app id, audience and service URL, on the shared connection pool."""

from __future__ import annotations

from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity

from bot.auth import create_authentication
from bot.connector import PooledAuthentication, PooledDriver
from config import Settings

TEAMS_UK = "https://smba.trafficmanager.net/uk/"
TEAMS_EMEA = "https://smba.trafficmanager.net/emea/"


def _claims(app_id: str) -> ClaimsIdentity:
    return ClaimsIdentity({AuthenticationConstants.AUDIENCE_CLAIM: app_id}, True)


async def test_turns_share_a_client_per_service_url_and_audience(settings: Settings) -> None:
    driver = PooledDriver()
    auth = PooledAuthentication(create_authentication(settings), driver)
    first = await auth.create_connector_factory(_claims("app-1")).create(TEAMS_UK)
    again = await auth.create_connector_factory(_claims("app-1")).create(TEAMS_UK)
    other_url = await auth.create_connector_factory(_claims("app-1")).create(TEAMS_EMEA)
    other_audience = await auth.create_connector_factory(_claims("app-1")).create(TEAMS_UK, "api://skill")
    assert first is again
    assert len({id(first), id(other_url), id(other_audience)}) == 3
    assert (first.config.base_url, other_url.config.base_url) == (TEAMS_UK, TEAMS_EMEA)
    await driver.close()


async def test_user_token_client_per_app_id(settings: Settings) -> None:
    auth = PooledAuthentication(create_authentication(settings), PooledDriver())
    first = await auth.create_user_token_client(_claims("app-1"))
    assert await auth.create_user_token_client(_claims("app-1")) is first
    assert await auth.create_user_token_client(_claims("app-2")) is not first
