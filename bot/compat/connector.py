"""Cheaper Bot Connector clients: one pooled aiohttp session, no costly retry-policy set-up.

botbuilder 4.17.1 builds a new ConnectorClient and UserTokenClient per turn. Each one
(a) runs msrest's `ClientRetryPolicy.__init__`, which scans a 500-item list 999 times
(~3-6 ms CPU), (b) builds a `requests` session, retry policy and config parser (~0.6 ms) and
(c) sends through `requests` in a thread with a fresh TCP connection, and (d) for each
reply, msrest rebuilds the already-built Activity (a deep walk of every card) and validates
it before serialising it. We patch (a) once, keep one client per app id, audience and
service URL (they hold no per-turn state and botbuilder never closes them) instead of (b),
swap (c) for a shared aiohttp session and serialise built models directly (d). Retries are
ours (bot/proactive.py), not msrest's.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import aiohttp
import botbuilder.schema as schema
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from botframework.connector.auth.authentication_constants import AuthenticationConstants
from msrest.pipeline import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.aiohttp import AioHTTPSender
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Deserializer, Model, SerializationError, Serializer, full_restapi_key_transformer
from msrest.universal_http import AsyncHTTPSender, ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse
from msrest.universal_http.requests import ClientRetryPolicy

from bot.compat.sent_card import SentCard

ANONYMOUS_SKILL_APP_ID = AuthenticationConstants.ANONYMOUS_SKILL_APP_ID
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
MAX_CACHED_CLIENTS = 256  # service URLs come from activities: bound what they can make us keep


def patch_retry_policy_cost() -> None:
    """Make ClientRetryPolicy's membership test O(1); behaviour is unchanged."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


class PooledDriver(AsyncHTTPSender):  # type: ignore[misc]
    """msrest HTTP driver on one long-lived aiohttp session (keep-alive connections)."""

    def __init__(self, timeout_seconds: float = 15.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=100, limit_per_host=50, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def __aenter__(self) -> PooledDriver:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        """Clients come and go per turn; the pool outlives them (closed by `close`)."""

    async def send(self, request: ClientRequest, **_: Any) -> AioHttpClientResponse:
        response = await self._client().request(
            request.method, request.url, headers=request.headers, data=request.data
        )
        wrapped = LoadedResponse(request, response)
        await wrapped.load_body()
        return wrapped

    async def close(self) -> None:
        """Close the pool at shutdown."""
        if self._session is not None:
            await self._session.close()


class LoadedResponse(AioHttpClientResponse):  # type: ignore[misc]
    """A connector answer read in full; an empty body is an answer too.

    The Bot Framework REST API answers sends with 200, 201 or 202, with or without a body, and errors with or
    without one (the Agents Playground answers 202 with no body for a file it cannot show). msrest's aiohttp
    response refuses an empty body ("Body is not available"), which failed the turn after the work was done.
    """

    def body(self) -> bytes:
        return self._body or b""


class BuiltModelSerializer(Serializer):  # type: ignore[misc]
    """msrest Serializer that sends a model instance as it is, not rebuilt and re-validated first; skips
    unset attributes (most of an Activity's 50) up front; walks plain JSON (cards) in one call per node."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if isinstance(data, Model) and type(data).__name__ == data_type:
            return self._serialize(data, data_type, is_xml=False, **kwargs)
        return super().body(data, data_type, **kwargs)

    def _serialize(self, target_obj: Any, data_type: str | None = None, **kwargs: Any) -> Any:
        plan = None
        if not data_type and isinstance(target_obj, Model) and not kwargs.get("is_xml") \
                and not kwargs.get("keep_readonly") \
                and kwargs.get("key_transformer", self.key_transformer) is full_restapi_key_transformer:
            plan = _json_plan(type(target_obj))  # type: ignore[arg-type]  # (mypy: Model.__hash__'s signature)
        if plan is None:
            return super()._serialize(target_obj, data_type, **kwargs)
        serialized: dict[str, Any] = {}
        for attr, key, desc in plan:
            value = getattr(target_obj, attr)
            if value is None:  # msrest skips these too, after a key transform and a ValueError each
                continue
            if key == "":  # additional_properties
                serialized.update(value)
                continue
            kwargs["serialization_ctxt"] = desc
            try:
                serialized.setdefault(key, self.serialize_data(value, desc["type"], **kwargs))
            except ValueError as error:
                if isinstance(error, SerializationError):
                    raise
        return serialized

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        kind = type(attr)
        if kind in _JSON_SCALARS or kind is SentCard:  # a sent card is JSON already, and never changed
            return attr
        if isinstance(attr, dict):
            return {key if type(key) is str else self.serialize_unicode(key): self.serialize_object(value, **kwargs)
                    for key, value in attr.items()}
        if kind is list:
            return [self.serialize_object(value, **kwargs) for value in attr]
        return super().serialize_object(attr, **kwargs)


class PlannedDeserializer(Deserializer):  # type: ignore[misc]
    """msrest Deserializer that reads a plain model (no subtypes, no flattened keys) from a dict by a plan made
    once per class, instead of copying each attribute's description and trying two key extractors per field."""

    def _deserialize(self, target_obj: Any, data: Any) -> Any:
        plan = _read_plan(self.dependencies.get(target_obj) if isinstance(target_obj, str) else target_obj)
        if plan is None or type(data) is not dict:
            return super()._deserialize(target_obj, data)
        model, fields, known = plan
        attrs = {attr: None if (raw := data.get(key)) is None else self.deserialize_data(raw, kind)
                 for attr, key, kind in fields}
        extra = None if known is None else {key: value for key, value in data.items() if key not in known}
        return self._instantiate_model(model, attrs, extra)


@cache
def _read_plan(model: Any) -> tuple[Any, tuple[tuple[str, str, str], ...], frozenset[str] | None] | None:
    """(class, (attribute, JSON key, type) per field, keys that are not additional properties or None when the
    model collects none) for msrest's own reading of `model`; None when msrest must do it itself."""
    if not (isinstance(model, type) and issubclass(model, Model)) or model._subtype_map or model.is_xml_model():
        return None
    fields, known = [], set()
    collects_extra = True
    for attr, desc in model._attribute_map.items():
        if attr == "additional_properties":
            collects_extra = desc["key"] == ""
            if collects_extra:
                continue
        if "." in desc["key"] or "\\" in desc["key"]:  # flattened or escaped: msrest walks the path
            return None
        fields.append((attr, desc["key"], desc["type"]))
        known.add(desc["key"])
    return model, tuple(fields), frozenset(known) if collects_extra else None


@cache
def _schema_models() -> dict[str, type]:
    return {name: kind for name, kind in vars(schema).items() if isinstance(kind, type)}


@cache
def _schema_serializer() -> BuiltModelSerializer:
    return BuiltModelSerializer(_schema_models())


@cache
def _schema_deserializer() -> PlannedDeserializer:
    return PlannedDeserializer(_schema_models())


def model_json(model: Model) -> dict[str, Any]:
    """`model.serialize()` for a botbuilder schema model, without msrest building a serializer per call."""
    serialized: dict[str, Any] = _schema_serializer()._serialize(model)
    return serialized


def read_activity(raw: dict[str, Any]) -> Activity:
    """`Activity().deserialize(raw)`, cheaper; raises what msrest raises (DeserializationError) for bad input."""
    activity: Activity = _schema_deserializer()._deserialize("Activity", raw)
    return activity


@cache
def _json_plan(model: Any) -> tuple[tuple[str, str, dict[str, Any]], ...] | None:
    """(attribute, JSON key, description) of what msrest writes for `model`; None when it must do it itself."""
    if model.is_xml_model():
        return None
    plan = []
    for attr, desc in model._attribute_map.items():
        if model._validation.get(attr, {}).get("readonly", False):
            continue
        if attr == "additional_properties" and desc["key"] == "":
            plan.append((attr, "", desc))
            continue
        keys = full_restapi_key_transformer(attr, desc, None)[0]
        if len(keys) != 1:  # a flattened property
            return None
        plan.append((attr, keys[0], desc))
    return tuple(plan)


class _BearerPolicy(AsyncHTTPPolicy):  # type: ignore[misc]
    """Adds the bot's token; MSAL's token fetch is synchronous, so it runs in a thread."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Any, **kwargs: Any) -> Any:
        creds = self._credentials
        if creds is not None and creds.microsoft_app_id and creds.microsoft_app_id != ANONYMOUS_SKILL_APP_ID:
            token = await asyncio.to_thread(creds.get_access_token)
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        # msrest types `next` Optional; AsyncPipeline links it before any send (msrest's own policies ignore this too).
        return await self.next.send(request, **kwargs)  # type: ignore[union-attr]


class _ClientCache:
    """Clients by key, emptied when full (a handful of keys exist in practice)."""

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...]) -> Any:
        return self._clients.get(key)

    def put(self, key: tuple[Any, ...], client: Any) -> Any:
        if len(self._clients) >= MAX_CACHED_CLIENTS:
            self._clients.clear()
        self._clients[key] = client
        return client


class _PooledFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, driver: PooledDriver, cache: _ClientCache) -> None:
        self._inner = inner
        self._driver = driver
        self._cache = cache

    def _key(self, service_url: str, audience: str | None) -> tuple[Any, ...] | None:
        """What botbuilder's factory builds a client from; None for a factory we don't know."""
        inner = self._inner
        if not isinstance(inner, _ConnectorFactoryImpl):
            return None
        return (inner._app_id, inner._to_channel_from_bot_oauth_scope, inner._login_endpoint, service_url, audience)

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = self._key(service_url, audience)
        cached = self._cache.get(key) if key is not None else None
        if cached is not None:
            return cached
        client = await self._inner.create(service_url, audience)
        config = client.config
        policies = [config.user_agent_policy, _BearerPolicy(config.credentials), RawDeserializer(),
                    config.http_logger_policy]
        # msrest annotates `driver` as its own aiohttp driver class; it only calls the AsyncHTTPSender methods PooledDriver has.
        config.pipeline = AsyncPipeline(policies, AioHTTPSender(driver=self._driver))  # type: ignore[arg-type]
        client.conversations._serialize = BuiltModelSerializer(client._serialize.dependencies)
        return self._cache.put(key, client) if key is not None else client


class PooledAuthentication(BotFrameworkAuthentication):
    """Delegates auth to botbuilder; hands out connector clients on the pooled driver."""

    def __init__(self, inner: BotFrameworkAuthentication, driver: PooledDriver) -> None:
        self._inner = inner
        self._driver = driver
        self._connectors = _ClientCache()
        self._user_token_clients = _ClientCache()

    async def authenticate_request(self, activity: Any, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _PooledFactory(result.connector_factory, self._driver, self._connectors)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _PooledFactory(self._inner.create_connector_factory(claims_identity), self._driver, self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        """One client per app id (botbuilder derives it from these claims, as here)."""
        key = (
            claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
            or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM),
        )
        cached = self._user_token_clients.get(key)
        if cached is not None:
            return cached
        return self._user_token_clients.put(key, await self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
