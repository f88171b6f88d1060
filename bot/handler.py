"""The Teams activity handler: identifies the sender, serialises turns, routes to dialogs."""

from __future__ import annotations

import logging
from http import HTTPStatus

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.schema.teams import FileConsentCardResponse
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.compat.invoke import card_action_answer
from bot.compat.state_storage import StateTooLarge
from bot.locks import KeyedLocks
from bot.ratelimit import SLOW_DOWN, RateLimiter, admit
from bot.state import CustodianConversationState
from dialogs.accounts.leavers import member_removed
from dialogs.feature import ACTOR_KEY, Deps, actor_of
from dialogs.kit import files
from dialogs.kit.activity import visit_of
from dialogs.kit.cards import welcome_card
from dialogs.kit.replies import card_activity
from dialogs.router import Router
from services.identity import Actor, Visit, known_visitor, record_visit, set_reachable
from storage.turns import guard_turn

log = logging.getLogger(__name__)


class CustodianBot(TeamsActivityHandler):
    """One instance per app; all state lives in the database."""

    def __init__(self, deps: Deps, conversation_state: CustodianConversationState, router: Router, engine: AsyncEngine) -> None:
        self._deps = deps
        self._engine = engine
        self._conversation_state = conversation_state
        self._welcomed = conversation_state.create_property("Welcomed")
        self._router = router
        self._locks = KeyedLocks()
        self._limiter = RateLimiter(deps.settings.share(deps.settings.rate_limit_per_minute), deps.clock)
        self._dpo_seed = deps.settings.role_seeds(deps.settings.dpo_aad_ids)
        self._organiser_seed = deps.settings.role_seeds(deps.settings.organiser_aad_ids)

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        visit = visit_of(activity)
        if visit is None:
            log.info("ignored %s activity without tenant or sender", activity.type)
            if activity.type == ActivityTypes.invoke:  # an invoke must be answered, or botbuilder says 501
                await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=400)))
            return
        if activity.type in (ActivityTypes.message, ActivityTypes.invoke) and not await admit(self._limiter, turn_context, visit):
            if activity.type == ActivityTypes.invoke:  # answered, but nothing done
                await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                          value=card_action_answer(SLOW_DOWN)))
            return
        key = f"{visit.tenant_id}/{activity.conversation.id if activity.conversation else ''}"
        activity_key = f"{key}/{activity.id}" if activity.id else None
        async with self._locks.hold(key), guard_turn(self._engine, key, activity_key, self._deps.clock()) as guard:
            if guard.already_handled:  # a redelivery: the person already has this turn's answer
                log.info("activity %s already handled; redelivery skipped", activity.id)
                if activity.type == ActivityTypes.invoke:
                    await turn_context.send_activity(
                        Activity(type=ActivityTypes.invoke_response, value=card_action_answer("Done")))
                return
            actor = await self._actor(guard.conn, visit)
            await self._conversation_state.load(turn_context, conn=guard.conn)  # where the dialog is
            turn_context.turn_state[ACTOR_KEY] = actor
            if actor.is_dpo and actor.newly_reachable:  # Custodian can write to this DPO now: catch them up first
                await self._router.waiting.arrived(turn_context, actor)
            await super().on_turn(turn_context)
            try:
                await self._conversation_state.save_changes(turn_context, conn=guard.conn)
            except StateTooLarge:
                await self._end_oversized_conversation(turn_context)
            await guard.done(self._deps.clock())

    async def _actor(self, conn: AsyncConnection, visit: Visit) -> Actor:
        """Who is talking, read on the turn's connection; a person to write (new, renamed, moved, newly seeded) is
        written on another and committed at once, so the rest of the turn and the other processes see them."""
        now = self._deps.clock()
        actor = await known_visitor(conn, visit=visit, dpo_seed=self._dpo_seed, now=now, organiser_seed=self._organiser_seed)
        if actor is not None:
            return actor
        async with self._engine.connect() as own:
            return await record_visit(own, visit=visit, dpo_seed=self._dpo_seed, now=now, organiser_seed=self._organiser_seed)

    async def _end_oversized_conversation(self, turn_context: TurnContext) -> None:
        """The conversation's state outgrew the storage limit: end its dialog instead of keeping it."""
        log.warning("conversation state too large, dialog ended (activity %s)", turn_context.activity.id)
        await self._conversation_state.delete(turn_context)
        await turn_context.send_activity(
            "That conversation got too long for me to keep track of, so I've stopped it. Anything I already "
            "confirmed is saved. Type **help** to start again."
        )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._router.on_message(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        # Not the Teams dispatch: it fetches every added member from the channel first, which we don't need.
        activity = turn_context.activity
        if activity.members_added:
            await self._welcome_once(turn_context)
        bot_id = activity.recipient.id if activity.recipient else None
        for member in activity.members_removed or []:
            if member.id != bot_id and member.aad_object_id:
                await member_removed(self._deps, actor_of(turn_context).tenant_id, member.aad_object_id)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome_once(turn_context)  # (record_visit made them reachable again: Teams installed the app)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """The person uninstalled the app from their 1:1 chat: nothing reaches them until it is back."""
        actor = actor_of(turn_context)
        conversation = turn_context.activity.conversation
        if conversation is None or conversation.conversation_type not in (None, "personal") or conversation.is_group:
            return
        async with self._deps.sessions() as session:
            await set_reachable(session, tenant_id=actor.tenant_id, aad_id=actor.aad_id, reachable=False,
                                now=self._deps.clock())
            await session.commit()
        log.info("app removed from a 1:1 chat in tenant %s: %s is unreachable", actor.tenant_id, actor.aad_id)

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        """Install sends both conversationUpdate and installationUpdate: greet once per conversation."""
        if await self._welcomed.get(turn_context, False):
            return
        await self._welcomed.set(turn_context, True)
        await turn_context.send_activity(card_activity(welcome_card(), summary="Welcome to Custodian"))

    async def on_teams_file_consent_accept(self, turn_context: TurnContext,
                                           file_consent_card_response: FileConsentCardResponse) -> None:
        await files.accept(turn_context, self._deps, file_consent_card_response)

    async def on_teams_file_consent_decline(self, turn_context: TurnContext,
                                            file_consent_card_response: FileConsentCardResponse) -> None:
        await files.decline(turn_context, self._deps, file_consent_card_response)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        # Answered here, not in on_adaptive_card_invoke: see bot/compat/invoke.py.
        if turn_context.activity.name == "adaptiveCard/action":
            value = found if isinstance(found := turn_context.activity.value, dict) else {}
            action = found if isinstance(found := value.get("action"), dict) else {}
            data = found if isinstance(found := action.get("data"), dict) else {}
            if isinstance(data.get("cmd"), str):
                await self._router.on_invoke_action(turn_context, data)
            return card_action_answer("Done")
        response = await super().on_invoke_activity(turn_context)
        # Invokes we don't offer (message extensions, task modules...) are the caller's mistake: 400, not 501.
        return InvokeResponse(status=400) if response.status == HTTPStatus.NOT_IMPLEMENTED else response
