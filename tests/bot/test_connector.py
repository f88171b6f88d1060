"""Connector clients: one per app id, audience and service URL, on the shared pool; what they send."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import jsonpickle
import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    InputHints,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity, MicrosoftAppCredentials
from msrest.exceptions import DeserializationError

from bot.compat.auth import create_authentication
from bot.compat.connector import BuiltModelSerializer, PooledAuthentication, PooledDriver, model_json, read_activity
from bot.compat.inbound import parse_activity
from config import Settings
from dialogs.kit.cards import help_card, notice_card
from dialogs.kit.files import consent_activity
from dialogs.kit.replies import card_activity
from tests.teams.client import all_activity_files

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


def _client() -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials("", ""), base_url=TEAMS_UK)


def _activities() -> list[Activity]:
    """What Custodian sends: cards, files, text, typing; replies and proactive messages."""
    reference = ConversationReference(
        activity_id="1", channel_id="msteams", service_url=TEAMS_UK,
        user=ChannelAccount(id="29:user", name="Jo Bloggs", aad_object_id="aad-1"),
        bot=ChannelAccount(id="28:bot", name="Custodian"),
        conversation=ConversationAccount(id="a:conv", conversation_type="personal", tenant_id="tenant-1"),
    )
    sent = [
        card_activity(help_card(is_dpo=True), summary="Help"),
        card_activity(notice_card("Saved", "Breach B-12 is logged — 72 hours from 10:00.")),
        consent_activity("opaque-id", "log.csv", 21, "The breach log"),
        MessageFactory.text("hello", input_hint=InputHints.accepting_input),
        Activity(type=ActivityTypes.typing),
        Activity(type=ActivityTypes.message, text="<at>Jo</at> see this", timestamp=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
                 entities=[Entity(type="mention").deserialize({"type": "mention", "text": "<at>Jo</at>",
                                                               "mentioned": {"id": "29:user", "name": "Jo"}})],
                 channel_data={"notification": {"alert": True}}),
    ]
    return [TurnContext.apply_conversation_reference(activity, reference) for activity in sent]


def _with_plain_cards(activity: Activity) -> Activity:
    """A copy whose cards are plain dicts, as msrest knows them."""
    plain = copy.deepcopy(activity)
    for attachment in plain.attachments or []:
        if isinstance(attachment.content, dict):
            attachment.content = json.loads(json.dumps(attachment.content))
    return plain


def test_sent_activities_serialise_exactly_as_msrest_would() -> None:
    theirs = _client()._serialize
    ours = BuiltModelSerializer(theirs.dependencies)
    for activity in _activities():
        expected = theirs.body(_with_plain_cards(activity), "Activity")
        assert ours.body(activity, "Activity") == expected
        assert expected["conversation"]["tenantID"] == "tenant-1"  # nested models are serialised too


def test_model_json_is_msrest_serialize_for_every_real_teams_reference() -> None:
    references = [TurnContext.get_conversation_reference(parse_activity(json.loads(path.read_text())))
                  for path in all_activity_files()]
    assert len(references) >= 10
    for reference in references:
        assert model_json(reference) == reference.serialize()


def _as_stored(model: Any) -> str:
    """Every attribute and class of a model, in a fixed order (msrest orders additional properties as a set)."""
    return json.dumps(json.loads(jsonpickle.encode(model)), sort_keys=True)


def test_read_activity_reads_every_real_teams_payload_exactly_as_msrest() -> None:
    for path in all_activity_files():
        raw = json.loads(path.read_text())
        raw["unknownTopLevel"] = {"kept": True}  # an additional property, as msrest keeps them
        assert _as_stored(read_activity(raw)) == _as_stored(Activity().deserialize(raw)), path.name


def test_read_activity_refuses_what_msrest_refuses() -> None:
    for bad in ({"type": "message", "timestamp": "not a date"}, {"type": "message", "membersAdded": "x"},
                {"type": "message", "from": ["not", "an", "account"]}):
        with pytest.raises(DeserializationError):
            Activity().deserialize(bad)
        with pytest.raises(DeserializationError):
            read_activity(bad)


def test_a_sent_card_is_shared_not_copied_with_its_activity() -> None:
    activity = card_activity(notice_card("Saved", "Done."))
    assert copy.deepcopy(activity).attachments[0].content is activity.attachments[0].content


def test_anything_but_a_built_model_still_goes_through_msrest() -> None:
    ours = BuiltModelSerializer(_client()._serialize.dependencies)
    assert ours.body({"type": "message", "text": "hi"}, "Activity") == {"type": "message", "text": "hi"}
