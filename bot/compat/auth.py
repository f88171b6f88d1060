"""Bot Framework authentication: botbuilder's configuration, cached app credentials, and library fixes.

Inbound JWTs are checked by botbuilder itself (`ConfigurationBotFrameworkAuthentication`). This module
decides what it is told, and works around three defects of botbuilder 4.17.1:

- `_OpenIdMetadata._refresh` fetches the channel's signing keys with blocking `requests.get` on the
  event loop (once a day, and no timeout): we run it in a thread, one refresh at a time, with timeouts.
- `_OpenIdMetadata._find` raises IndexError for an unknown key id, so the "refresh when a new key
  appears (at most hourly)" branch never runs: we return None as that code expects.
- A new `MicrosoftAppCredentials` (and MSAL client, with an empty token cache) is built for every
  turn, so every turn fetched a fresh token; and `VALIDATE_AUTHORITY` never reaches MSAL. We keep one
  credentials object per app id, scope and authority, whose MSAL client honours it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import requests
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    jwt_token_extractor,
)
from jwt.algorithms import RSAAlgorithm
from msal import ConfidentialClientApplication
from msrest.authentication import Authentication

from config import Settings

FETCH_TIMEOUT_SECONDS = 10.0


def botbuilder_configuration(settings: Settings) -> SimpleNamespace:
    """The attribute names botbuilder's configuration classes read.

    With no endpoint overridden botbuilder uses its built-in public cloud. Overriding any one switches it
    to a fully "parameterized" configuration, so the rest are filled in with the public cloud's values.
    """
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
        VALIDATE_AUTHORITY=settings.validate_authority,
    )
    overrides = (settings.openid_metadata_url, settings.channel_token_issuer, settings.login_url, settings.oauth_scope)
    if any(overrides):
        tenant = settings.app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            settings.openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
            settings.channel_token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
            settings.login_url or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX + tenant)
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
            settings.oauth_scope or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE)
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        config.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        config.CALLER_ID = CallerIdConstants.public_azure_channel
    return config


def create_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """botbuilder's authentication for these settings, with the library fixes applied."""
    patch_openid_metadata()
    config = botbuilder_configuration(settings)
    factory = CachedCredentialFactory(ConfigurationServiceClientCredentialFactory(config), settings.validate_authority)
    return ConfigurationBotFrameworkAuthentication(config, credentials_factory=factory)


class SharedAppCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """App id + secret; one MSAL client (and token cache) for the life of the process.

    `get_access_token` blocks on the network when the cached token is missing or old: call it in a thread.
    """

    def __init__(self, app_id: str, password: str, authority: str, oauth_scope: str, validate_authority: bool) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.app: ConfidentialClientApplication | None = None
        self.oauth_endpoint = authority
        self._validate_authority = validate_authority
        self._lock = threading.Lock()

    def get_access_token(self, force_refresh: bool = False) -> str:
        with self._lock:  # MSAL's constructor fetches the authority's metadata: build it once, off the loop
            if self.app is None:
                self.app = ConfidentialClientApplication(
                    client_id=self.microsoft_app_id,
                    client_credential=self.microsoft_app_password,
                    authority=self.oauth_endpoint,
                    validate_authority=self._validate_authority,
                )
        token: str = super().get_access_token(force_refresh)
        return token


class CachedCredentialFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """botbuilder's credential rules (app type, tenant, cloud), but credentials built once and reused."""

    def __init__(self, inner: ServiceClientCredentialsFactory, validate_authority: bool) -> None:
        self._inner = inner
        self._validate_authority = validate_authority
        self._made: dict[tuple[str, str, str], Authentication] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        valid: bool = await self._inner.is_valid_app_id(app_id)
        return valid

    async def is_authentication_disabled(self) -> bool:
        disabled: bool = await self._inner.is_authentication_disabled()
        return disabled

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id or "", oauth_scope or "", login_endpoint or "")
        made = self._made.get(key)
        if made is None:
            made = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            if isinstance(made, MicrosoftAppCredentials) and made.microsoft_app_id:
                made = SharedAppCredentials(made.microsoft_app_id, made.microsoft_app_password, made.oauth_endpoint,
                                            made.oauth_scope, self._validate_authority)
            self._made[key] = made
        return made


def _fetch_signing_keys(metadata_url: str) -> list[dict[str, Any]]:
    """The JWKS named by an OpenID metadata document (blocking)."""
    metadata = requests.get(metadata_url, timeout=FETCH_TIMEOUT_SECONDS)
    metadata.raise_for_status()
    keys = requests.get(metadata.json()["jwks_uri"], timeout=FETCH_TIMEOUT_SECONDS)
    keys.raise_for_status()
    found: list[dict[str, Any]] = keys.json()["keys"]
    return found


async def _refresh_off_loop(self: Any) -> None:
    """Replacement for `_OpenIdMetadata._refresh`: in a thread, one at a time, shared by those who waited."""
    state = self.__dict__
    lock: asyncio.Lock = state.setdefault("_custodian_lock", asyncio.Lock())
    attempt = state.get("_custodian_attempts", 0)
    async with lock:
        if state.get("_custodian_attempts", 0) != attempt:  # one ran while we waited: take its outcome
            return  # (after a failed one, the keys we had are used)
        try:
            self.keys = await asyncio.to_thread(_fetch_signing_keys, self.url)
            self.last_updated = datetime.now()  # naive local time, as the library compares it
        finally:
            state["_custodian_attempts"] = attempt + 1


def _find_or_none(self: Any, key_id: str) -> Any:
    """Replacement for `_OpenIdMetadata._find`: None for an unknown key id (the caller then refreshes)."""
    for key in self.keys or []:
        if key.get("kid") == key_id:
            return jwt_token_extractor._OpenIdConfig(RSAAlgorithm.from_jwk(json.dumps(key)), key.get("endorsements", []))
    return None


def patch_openid_metadata() -> None:
    """Apply the `_OpenIdMetadata` fixes (idempotent; library defect workaround, see module docstring)."""
    metadata = jwt_token_extractor._OpenIdMetadata
    metadata._refresh = _refresh_off_loop
    metadata._find = _find_or_none
