"""Reading who and where from a Teams activity."""

from __future__ import annotations

import json

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.compat.connector import model_json
from bot.compat.inbound import tenant_of
from services.identity import Visit

MAX_ID = 64  # tenant and Entra object ids are 36-character GUIDs
MAX_CONVERSATION_ID = 400  # keeps the conversation's state key within its 512 characters


def in_group(activity: Activity) -> bool:
    """True in a group chat or a channel (anyone there sees what the bot answers)."""
    conversation = activity.conversation
    return conversation is not None and (
        bool(conversation.is_group) or conversation.conversation_type in ("groupChat", "channel")
    )


def visit_of(activity: Activity) -> Visit | None:
    """Who sent this activity, or None when it names no tenant, sender, conversation or channel."""
    tenant = tenant_of(activity)
    sender = activity.from_property
    conversation = activity.conversation
    if tenant is None or sender is None or not sender.id or conversation is None or not conversation.id \
            or not activity.channel_id:
        return None
    aad_id = (sender.aad_object_id or sender.id).lower()
    if max(len(tenant), len(aad_id), len(activity.channel_id)) > MAX_ID or len(conversation.id) > MAX_CONVERSATION_ID:
        return None  # not Teams (its ids are GUIDs and short strings); they would not fit the database either
    reference = None
    if conversation.conversation_type in (None, "personal") and not conversation.is_group:
        ref = model_json(TurnContext.get_conversation_reference(activity))
        ref.pop("activityId", None)  # changes every message; not needed to write first
        ref["tenantId"] = tenant
        reference = json.dumps(ref, sort_keys=True)
    return Visit(
        tenant_id=tenant, aad_id=aad_id, name=(sender.name or "")[:200],
        teams_user_id=sender.id[:400], reference_json=reference,
    )
