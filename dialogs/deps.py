"""What dialogs are given: database sessions, the clock, settings, and the actor of the turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext

from config import Settings
from services.clock import Clock
from services.identity import Actor
from storage.db import SessionFactory

ACTOR_KEY = "custodian.actor"


def _nothing() -> None:
    return None


@dataclass
class Deps:
    """Shared by every dialog and card action."""

    sessions: SessionFactory
    clock: Clock
    settings: Settings
    # Ask the reminder engine to sweep now (used after scheduling an "at once" alert).
    wake_reminders: Callable[[], None] = field(default=_nothing)


def actor_of(context: TurnContext) -> Actor:
    """The person behind this turn (set by the bot before any dialog runs)."""
    actor: Actor = context.turn_state[ACTOR_KEY]
    return actor


# A card button handler: runs whether or not a dialog is active.
ActionHandler = Callable[[DialogContext, Actor, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Intent:
    """A way into a dialog: exact commands (typos tolerated) and plain-language patterns."""

    dialog_id: str
    commands: tuple[str, ...]
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feature:
    """What one flow adds to the bot."""

    dialogs: tuple[Dialog, ...] = ()
    intents: tuple[Intent, ...] = ()
    actions: dict[str, ActionHandler] = field(default_factory=dict)
