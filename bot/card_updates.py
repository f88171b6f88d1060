"""Every card already sent about one subject brought up to date (PUT under the id Teams gave it).

Teams' way (msteams-docs bots/how-to/update-and-delete-bot-messages): proactive cards keep the id Teams gave them
on their reminder row (`Reminder.activity_id`); `SentCards.refresh` renders each again with its kind's `current`
renderer and PUTs it. A failed update is logged, never raised. The card a person pressed is replaced by
dialogs/kit/card_updates.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from contextlib import nullcontext

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from sqlalchemy import select
from sqlmodel import col

from bot.proactive import ProactiveSender
from dialogs.feature import ReminderKind
from dialogs.kit.replies import SEND_FAILURES, card_activity
from services.clock import Clock
from services.reminders import ledger as reminders
from storage.db import SessionFactory
from storage.reminder_models import Reminder, ReminderState

log = logging.getLogger(__name__)


async def update_sent(sender: ProactiveSender, reference_json: str, activity_id: str, activity: Activity) -> bool:
    """PUT `activity` over the message `activity_id` in the conversation `reference_json` points at."""
    raw = json.loads(reference_json)
    reference = ConversationReference().deserialize(raw)
    conversation = reference.conversation.id if reference.conversation else ""
    claims = sender.adapter.create_claims_identity(sender.app_id)
    client = await sender.adapter.bot_framework_authentication.create_connector_factory(claims).create(
        reference.service_url, None)
    outgoing = TurnContext.apply_conversation_reference(activity, reference)
    outgoing.id, outgoing.reply_to_id = activity_id, None
    try:
        async with sender.limiter.slot(str(raw.get("tenantId") or ""), conversation) if sender.limiter else nullcontext():
            await client.conversations.update_activity(conversation, activity_id, outgoing)
    except SEND_FAILURES as error:
        log.warning("updating message %s in conversation %s failed: %s", activity_id, conversation, type(error).__name__)
        return False
    return True


class SentCards:
    """Brings the cards already sent about one subject up to date, with each kind's `current` renderer."""

    def __init__(self, sessions: SessionFactory, sender: ProactiveSender, kinds: Mapping[str, ReminderKind],
                 clock: Clock) -> None:
        self._sessions = sessions
        self._sender = sender
        self._kinds = {name: kind for name, kind in kinds.items() if kind.current is not None}
        self._clock = clock

    async def refresh(self, tenant_id: str, subject_type: str, subject_id: str | int) -> int:
        """Update every sent card about the subject to how it stands now; returns how many were updated."""
        now = self._clock()
        updates: list[tuple[str, str, Activity]] = []
        async with self._sessions() as session:
            rows = list((await session.execute(select(Reminder).where(
                col(Reminder.tenant_id) == tenant_id, col(Reminder.subject_type) == subject_type,
                col(Reminder.subject_id) == str(subject_id), col(Reminder.state) == ReminderState.SENT,
                col(Reminder.activity_id).is_not(None), col(Reminder.kind).in_(list(self._kinds)),
            ).order_by(col(Reminder.id)))).scalars())
            people = await reminders.recipients_of(session, rows)
            for row in rows:
                person = people.get((row.tenant_id, row.recipient_aad_id))
                render = self._kinds[row.kind].current
                if person is None or not person.conversation_reference or not row.activity_id or render is None:
                    continue
                card = await render(session, row, now)
                if card is not None:
                    updates.append((person.conversation_reference, row.activity_id,
                                    card_activity(card)))
        done = await asyncio.gather(*(update_sent(self._sender, *update) for update in updates))
        log.info("%s of %s sent cards about %s %s updated", sum(done), len(updates), subject_type, subject_id)
        return sum(done)
