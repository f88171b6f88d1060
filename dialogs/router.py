"""The main router: cancel and help everywhere, card actions, then the active dialog or a new one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnResult, DialogTurnStatus

from dialogs.feature import ACTOR_KEY, Deps, Feature, Intent, actor_of
from dialogs.intents import Match, Recogniser, Unsure, normalise
from dialogs.kit.activity import in_group
from dialogs.kit.card_updates import replace_pressed
from dialogs.kit.cards import MAX_INPUT, did_you_mean_card, help_cards, notice_card, settled_card, submit
from dialogs.kit.membership import require_staff
from dialogs.kit.refusals import refusal
from dialogs.kit.replies import card_activity
from dialogs.phrasings import EXAMPLES, LAST_RESORT, TITLES
from dialogs.waiting import Waiting
from services.errors import DomainError, Outdated
from services.identity import Actor
from services.roles import actor_in

log = logging.getLogger(__name__)

CANCEL_WORDS = frozenset({"cancel", "stop", "quit", "exit", "never mind", "nevermind", "abort"})
HELP_WORDS = frozenset({"help", "menu", "what can you do", "hi", "hello", "start"})
PICK = "intent.pick"  # a "Did you mean…?" button: {"cmd": PICK, "dialog": id, "utterance": what was typed}
FINISHED = ("That card is from a conversation that has already finished, so nothing was changed. "
            "Type **help** to see what I can do.")
GROUP_REFUSAL = ("That involves personal data, so let's not do it here. Open a 1:1 chat with me "
                 "(click my name, then **Chat**) and type it there.")


def without_bot_mention(context: TurnContext) -> str:
    """The message text minus any @mention of the bot (group chats and channels)."""
    activity = context.activity
    text = activity.text if isinstance(activity.text, str) else ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties if isinstance(entity.additional_properties, dict) else {}
        mentioned = props.get("mentioned")
        if entity.type == "mention" and isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
            tag = props.get("text")
            if isinstance(tag, str) and tag:
                text = text.replace(tag, " ")
    return " ".join(text.split())


class Router:
    """Decides what each message means and hands it to the right dialog or action."""

    def __init__(self, deps: Deps, conversation_state: ConversationState, features: Sequence[Feature]) -> None:
        self._deps = deps
        self.dialogs = DialogSet(conversation_state.create_property("DialogState"))
        for feature in features:
            for dialog in feature.dialogs:
                self.dialogs.add(dialog)
        self.intents = [intent for feature in features for intent in feature.intents]
        self.actions = {name: fn for feature in features for name, fn in feature.actions.items()}
        self.actions[PICK] = self._picked
        self.recogniser = Recogniser(self.intents, EXAMPLES, LAST_RESORT)
        # PICK checks the flow it starts itself (private in a group, staff only), like a typed message.
        self.public_actions = frozenset({PICK, *(name for feature in features for name in feature.public_actions)})
        self.staff_only = frozenset(
            name for feature in features if feature.staff_only
            for name in (*feature.actions, *(intent.dialog_id for intent in feature.intents))
        )
        # The school a dialog started from another school's card runs in (absent = the chat's own school).
        self._school = conversation_state.create_property("DialogSchool")
        self.waiting = Waiting(deps, [feature.status for feature in features if feature.status is not None])

    async def on_message(self, context: TurnContext) -> None:
        """Handle one message (typed text or a card submit)."""
        dc = await self.dialogs.create_context(context)
        value = context.activity.value
        try:
            if isinstance(value, dict) and isinstance(value.get("cmd"), str):
                await self.on_action(dc, value)
                return
            text = without_bot_mention(context)
            if isinstance(value, dict) and not text and dc.active_dialog is None:
                await context.send_activity(FINISHED)  # an answer to a question card whose conversation has ended
                return
            if len(text) > MAX_INPUT:
                await context.send_activity(
                    f"That message is too long ({len(text):,} characters). Please keep it under {MAX_INPUT:,}."
                )
                return
            await self._on_text(dc, text)
        except DomainError as error:
            # A rule said no mid-step: the step can't be resumed, so leave a clean state.
            await dc.cancel_all_dialogs()
            await context.send_activity(refusal(error))

    async def on_invoke_action(self, context: TurnContext, data: dict[str, Any]) -> None:
        """A card button sent as an invoke (Action.Execute): the action, with a rule's "no" told politely."""
        dc = await self.dialogs.create_context(context)
        try:
            await self.on_action(dc, data)
        except DomainError as error:
            await context.send_activity(refusal(error))

    async def on_action(self, dc: DialogContext, data: dict[str, Any]) -> None:
        """A card button: run its handler whether or not a dialog is active."""
        handler = self.actions.get(data["cmd"])
        if handler is None:
            await dc.context.send_activity("Sorry, that button is no longer available. Type **help** to start again.")
            return
        if data["cmd"] not in self.public_actions and in_group(dc.context.activity):
            await dc.context.send_activity(GROUP_REFUSAL)
            return
        chat_actor = actor_of(dc.context)
        school = data.get("school")
        actor = chat_actor
        if isinstance(school, str) and school != chat_actor.tenant_id:
            # A DPO serving several schools acts on another school's item from this chat.
            async with self._deps.sessions() as session:
                actor = await actor_in(session, actor=chat_actor, tenant_id=school)
        if data["cmd"] in self.staff_only:
            await require_staff(dc.context, actor, self._deps.sessions, self._deps.clock())
        before = dc.active_dialog
        dc.context.turn_state[ACTOR_KEY] = actor  # a dialog the button starts runs in the button's school
        try:
            await handler(dc, actor, data)
        except Outdated as error:  # a button on a card the item moved on from: the card says what happened instead
            await replace_pressed(dc.context, settled_card("Nothing was changed", str(error)))
            raise
        finally:
            dc.context.turn_state[ACTOR_KEY] = chat_actor
        if dc.active_dialog is not None and dc.active_dialog is not before:
            await self._school.set(dc.context, actor.tenant_id)

    async def _continue_in_its_school(self, dc: DialogContext) -> DialogTurnResult:
        """Continue the active dialog as the person in the school it started in, checked against their roles there."""
        chat_actor = actor_of(dc.context)
        school = await self._school.get(dc.context)
        if isinstance(school, str) and school != chat_actor.tenant_id:
            async with self._deps.sessions() as session:
                dc.context.turn_state[ACTOR_KEY] = await actor_in(session, actor=chat_actor, tenant_id=school)
        try:
            return await dc.continue_dialog()
        finally:
            dc.context.turn_state[ACTOR_KEY] = chat_actor

    async def _on_text(self, dc: DialogContext, text: str) -> None:
        said = normalise(text)
        context = dc.context
        if said in CANCEL_WORDS:
            had_dialog = dc.active_dialog is not None
            await dc.cancel_all_dialogs()
            await context.send_activity("OK, I've stopped that. Nothing more was saved." if had_dialog
                                        else "There was nothing to cancel. Type **help** to see what I can do.")
            return
        if said in HELP_WORDS:
            if not in_group(context.activity):  # a DPO's help starts with what waits for them (never in a group)
                await self.waiting.show(context, actor_of(context))
            await self._help(context)
            if dc.active_dialog is not None:
                await dc.reprompt_dialog()
            return
        decision = self.recogniser.decide(text)
        if dc.active_dialog is not None and not (isinstance(decision, Match) and decision.exact):
            result = await self._continue_in_its_school(dc)
            if result.status != DialogTurnStatus.Empty:
                return
        if isinstance(decision, Unsure):
            # Two readings are close: ask, keeping what was typed for whichever flow is picked.
            log.info("asking between %s and %s", *(intent.dialog_id for intent in decision.options))
            buttons = [submit(_title(intent), {"cmd": PICK, "dialog": intent.dialog_id, "utterance": text})
                       for intent in decision.options]
            await context.send_activity(card_activity(did_you_mean_card(buttons), "Did you mean…?"))
            return
        if decision is None:
            await context.send_activity(
                card_activity(notice_card("I'm not sure what you mean", "Here is what I can do:"))
            )
            await self._help(context)
            return
        await self._start(dc, decision.intent, text)

    @staticmethod
    async def _help(context: TurnContext) -> None:
        """The menu, and for a DPO every DPO command."""
        await context.send_activities([card_activity(c) for c in help_cards(is_dpo=actor_of(context).is_dpo)])

    async def _picked(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """A "Did you mean…?" button: start that flow with what was typed."""
        intent = next((intent for intent in self.intents if intent.dialog_id == data.get("dialog")), None)
        said = data.get("utterance")
        if intent is None or not isinstance(said, str) or len(said) > MAX_INPUT:
            await dc.context.send_activity("Sorry, that button is no longer available. Type **help** to start again.")
            return
        await self._start(dc, intent, said)

    async def _start(self, dc: DialogContext, intent: Intent, text: str) -> None:
        """Begin `intent`'s flow (ending any other) with what was typed, unless it is private and this is a group."""
        if dc.active_dialog is not None:
            await dc.cancel_all_dialogs()
        if intent.private and in_group(dc.context.activity):
            await dc.context.send_activity(GROUP_REFUSAL)
            return
        if intent.dialog_id in self.staff_only:
            await require_staff(dc.context, actor_of(dc.context), self._deps.sessions, self._deps.clock())
        log.info("starting dialog %s", intent.dialog_id)
        if await self._school.get(dc.context) is not None:  # a typed command runs in the chat's own school
            await self._school.delete(dc.context)
        await dc.begin_dialog(intent.dialog_id, {"utterance": text})


def _title(intent: Intent) -> str:
    """A button label for a flow."""
    return TITLES.get(intent.dialog_id) or (intent.commands[0].capitalize() if intent.commands else intent.dialog_id)
