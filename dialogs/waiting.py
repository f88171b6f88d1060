"""What is waiting for a DPO: brought up to date when they become reachable, shown first at that contact
and at the top of their `help` (1:1 chats only: it names breaches)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from botbuilder.core import TurnContext

from dialogs.feature import Deps, StatusProvider
from dialogs.kit.cards import text
from dialogs.kit.replies import card_activity
from dialogs.status import gather, status_card
from services.breach.alerts import catch_up
from services.identity import Actor

log = logging.getLogger(__name__)

SHOWN = "custodian.waiting_shown"  # turn state: the waiting card went out this turn already


class Waiting:
    """Catches a DPO up when Custodian can first write to them, and shows what waits for them."""

    def __init__(self, deps: Deps, providers: Sequence[StatusProvider]) -> None:
        self._deps = deps
        self._providers = providers

    async def arrived(self, context: TurnContext, actor: Actor) -> None:
        """A DPO's first 1:1 contact: late alerts go out, and the turn starts with what waits for them."""
        async with self._deps.sessions() as session:
            late = await catch_up(session, tenant_id=actor.tenant_id, aad_id=actor.aad_id, now=self._deps.clock())
            await session.commit()
        if late:
            log.info("%s breach alert(s) waited for a DPO in tenant %s", late, actor.tenant_id)
            self._deps.wake_reminders()
        note = (f"{late} breach alert{'s' if late != 1 else ''} waited for you to open Custodian: "
                "they follow now, marked late." if late else "")
        await self.show(context, actor, note=note)

    async def show(self, context: TurnContext, actor: Actor, *, note: str = "") -> None:
        """The DPO's status card titled "Waiting for you", once a turn and only when something waits."""
        if not actor.is_dpo or context.turn_state.get(SHOWN):
            return
        context.turn_state[SHOWN] = True
        async with self._deps.sessions() as session:
            gathered = await gather(session, actor, self._providers, self._deps.clock())
        schools = [replace(school, lines=[line for line in school.lines if not line.standing]) for school in gathered]
        if not any(school.lines for school in schools):
            return
        card = status_card(schools, is_dpo=True, title="Waiting for you")
        if note:
            card["body"].insert(1, text(note, attention=True))
        await context.send_activity(card_activity(card, summary="Waiting for you"))
