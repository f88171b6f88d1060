"""What dialogs are given: database sessions, the clock, settings, and the actor of the turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import Dialog, DialogContext
from sqlmodel.ext.asyncio.session import AsyncSession

from config import Settings
from services.clock import Clock
from services.consent.pupil_files import FilePolicy
from services.identity import Actor
from services.reminders.ledger import QuietHours
from storage.db import SessionFactory
from storage.reminder_models import Reminder

ACTOR_KEY = "custodian.actor"


def _nothing() -> None:
    return None


async def _no_cards(tenant_id: str, subject_type: str, subject_id: str | int) -> int:
    return 0


@dataclass
class Deps:
    """Shared by every dialog and card action."""

    sessions: SessionFactory
    clock: Clock
    settings: Settings
    # Where attached files may be downloaded from (tests widen it to their own file server).
    files: FilePolicy = field(default_factory=FilePolicy)
    # Ask the reminder engine to sweep now (used after scheduling an "at once" alert).
    wake_reminders: Callable[[], None] = field(default=_nothing)
    # Bring every card already sent about one subject up to date (dialogs/kit/card_updates.py), after a change is committed;
    # returns how many were updated.
    refresh_cards: Callable[[str, str, str | int], Awaitable[int]] = field(default=_no_cards)


def quiet_hours(deps: Deps) -> QuietHours:
    """Quiet hours from the settings."""
    s = deps.settings
    return QuietHours(s.timezone, s.quiet_hours_start, s.quiet_hours_end, s.bank_holiday_region)


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
    private: bool = False  # personal data: only in a 1:1 chat, never in a group chat or channel


# Renders a due reminder to an Adaptive Card, or None when it no longer applies (it is then cancelled).
# Runs inside the sweep's session; must not commit.
ReminderRenderer = Callable[[AsyncSession, Reminder, datetime], Awaitable[dict[str, Any] | None]]
# Renders several due reminders of one kind for one person as one card (None: each goes on its own). Must not commit.
ReminderSummariser = Callable[[AsyncSession, Sequence[Reminder], datetime], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class ReminderKind:
    """How the reminder engine treats one kind of reminder."""

    render: ReminderRenderer
    urgent: bool = False  # urgent kinds ignore quiet hours (e.g. breach deadlines)
    snoozable: bool = True
    # Waits for the school's next school day in bank and school holidays; False for a legal deadline's reminders.
    term_time: bool = True
    # The card as it should look now, for one already sent when its subject changes (None: it never changes).
    current: ReminderRenderer | None = None
    summarise: ReminderSummariser | None = None  # many due at once for one person (an import): one card, not many


@dataclass(frozen=True)
class StatusLine:
    """One line of someone's `status` card: what needs them, with a button to open it."""

    section: str  # e.g. "Breaches", "Removals", "Training"
    text: str  # ids and short labels; for a DPO across schools the router adds the school label
    urgency: int = 0  # higher first (overdue breach = 100)
    button: dict[str, Any] | None = None  # an Action.Submit from bot/cards.submit(...)
    standing: bool = False  # a standing state (e.g. training due), shown in `status` but not as "Waiting for you"


# A feature's contribution to `status`: DPOs get their school's items, staff their own.
StatusProvider = Callable[[AsyncSession, Actor, datetime], Awaitable[list[StatusLine]]]


@dataclass(frozen=True)
class Feature:
    """What one flow adds to the bot."""

    dialogs: tuple[Dialog, ...] = ()
    intents: tuple[Intent, ...] = ()
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    # Buttons that neither show nor change personal data; every other button is refused in group chats and channels.
    public_actions: frozenset[str] = frozenset()
    # Its commands and buttons name pupils: only for the school's staff (dialogs/kit/membership.py), never guests.
    staff_only: bool = False
    reminder_kinds: dict[str, ReminderKind] = field(default_factory=dict)
    status: StatusProvider | None = None
