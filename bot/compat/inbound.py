"""An inbound activity read from JSON without msrest's blind spots.

Upstream defects (msrest 0.7.1, botbuilder-schema 4.17.1):
- msrest keeps any JSON value in a "str" field, so an id that is a dict would reach the reply URL: text fields
  are checked first.
- A null or a number in a list of objects (entities, attachments, membersAdded...) reaches handlers as None.
- Newer Teams payloads may carry the tenant only on `conversation.tenantId`, which botbuilder drops: it is copied
  to `channelData.tenant`, where botbuilder, Teams' own code and `tenant_of` look for it.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.compat.connector import read_activity


def _text_fields(model: type[Model]) -> tuple[str, ...]:
    return tuple(spec["key"] for spec in model._attribute_map.values() if spec["type"] == "str")


# msrest keeps any JSON value in a "str" field (an id that is a dict would reach the reply URL): check them first.
_TEXT_FIELDS = {None: _text_fields(Activity), "from": _text_fields(ChannelAccount),
                "recipient": _text_fields(ChannelAccount), "conversation": _text_fields(ConversationAccount)}


# Lists of objects (entities, attachments, membersAdded...): a null or a number in one reaches handlers as None.
_OBJECT_LISTS = tuple(spec["key"] for spec in Activity._attribute_map.values() if spec["type"].startswith("[")
                      and spec["type"] != "[str]")


def _well_typed(raw: dict[str, Any]) -> bool:
    for key in _OBJECT_LISTS:
        items = raw.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(item, dict) for item in items)):
            return False
    for part, keys in _TEXT_FIELDS.items():
        node = raw if part is None else raw.get(part)
        if node is None:
            continue
        if not isinstance(node, dict) or any(node.get(key) is not None and not isinstance(node[key], str) for key in keys):
            return False
    return True


def tenant_of(activity: Activity) -> str | None:
    """The school's tenant id: channelData.tenant.id (botbuilder drops conversation.tenantId)."""
    data = activity.channel_data
    if isinstance(data, dict):
        tenant = data.get("tenant")
        if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
            return str(tenant["id"]).lower()
    return None


def parse_activity(raw: Any) -> Activity | None:
    """A Bot Framework activity from JSON, or None when it is not one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str) or not raw["type"] or not _well_typed(raw):
        return None
    try:
        activity = read_activity(raw)
    except (DeserializationError, ValueError, TypeError, AttributeError):
        return None
    conversation = raw.get("conversation")
    if tenant_of(activity) is None and isinstance(conversation, dict) and isinstance(conversation.get("tenantId"), str):
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        activity.channel_data = {**data, "tenant": {"id": conversation["tenantId"]}}
    return activity
