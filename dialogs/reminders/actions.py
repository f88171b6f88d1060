"""Reminder cards' own buttons (snooze, done) and the engine's generic kinds (`notice`, `reminder.failed`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from botbuilder.dialogs import DialogContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, Feature, ReminderKind, quiet_hours
from dialogs.kit.card_answers import settled
from dialogs.kit.card_data import card_id
from dialogs.kit.card_updates import replace_pressed
from dialogs.kit.cards import settled_card
from dialogs.reminders.cards import DONE, SNOOZE, delivery_failed_card, notice_reminder_card
from services.dates import format_uk
from services.errors import DomainError
from services.identity import Actor
from services.reminders import ledger as reminders
from services.reminders.ledger import NOTICE_KIND
from storage.reminder_models import Reminder

PROBLEMS = {
    "unreachable": "Teams says they have blocked or removed Custodian, so please tell them another way.",
    "failed": "Teams kept refusing it, so I have stopped trying. Please tell them another way.",
}


def all_reminder_kinds(features: Sequence[Feature]) -> dict[str, ReminderKind]:
    """Every feature's reminder kinds in one map (a kind registered twice is a bug)."""
    kinds: dict[str, ReminderKind] = {}
    for feature in features:
        for name, kind in feature.reminder_kinds.items():
            if name in kinds:
                raise ValueError(f"reminder kind {name!r} is registered twice")
            kinds[name] = kind
    return kinds

GONE = "Sorry, that button is no longer available."


async def render_notice(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """The generic notice: title and text from the payload."""
    payload = reminder.payload
    return notice_reminder_card(
        reminder_id=reminder.id or 0, title=str(payload.get("title") or "A note from Custodian"),
        message=str(payload.get("text") or ""), why=str(payload.get("why") or "Custodian is letting you know."),
    )


async def render_failed(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """Tell a DPO which reminder did not get through, to whom, and why."""
    original = await session.get(Reminder, int(str(reminder.payload.get("reminder_id", 0))))
    if original is None or original.tenant_id != reminder.tenant_id:
        return None
    person = await reminders.recipient_of(session, original)
    return delivery_failed_card(
        reminder_id=reminder.id or 0, who=person.name if person and person.name else "a member of staff",
        kind=original.kind, about=f"{original.subject_type} {original.subject_id}", due=format_uk(original.due_at),
        problem=PROBLEMS.get(str(reminder.payload.get("reason")), PROBLEMS["failed"]),
    )


class ReminderActions:
    """The snooze and done buttons on every reminder card; they work with or without an active dialog."""

    def __init__(self, deps: Deps, kinds: Mapping[str, ReminderKind]) -> None:
        self._deps = deps
        self._kinds = kinds
        self._snoozable = frozenset(name for name, kind in kinds.items() if kind.snoozable)
        self._quiet = quiet_hours(deps)

    async def _settle(self, dc: DialogContext, row: Reminder, line: str) -> None:
        """The pressed reminder card shows what was done instead of its buttons."""
        kind = self._kinds.get(row.kind)
        async with self._deps.sessions() as session:
            shown = await kind.render(session, row, self._deps.clock()) if kind else None
        await replace_pressed(dc.context, settled(shown, line) if shown else settled_card("Reminder", line))

    async def snooze(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Send it again in an hour, or tomorrow morning."""
        now = self._deps.clock()
        until = self._quiet.tomorrow_morning(now) if data.get("for") == "tomorrow" else now + timedelta(hours=1)
        async with self._deps.sessions() as session:
            row = await reminders.snooze(session, actor=actor, reminder_id=card_id(data, GONE, error=DomainError), until=until,
                                         snoozable_kinds=self._snoozable, now=now)
        again = f"I'll remind you again {format_uk(until, self._deps.settings.timezone)}"
        await dc.context.send_activity(f"OK, {again}.")
        await self._settle(dc, row, f"Snoozed: {again}.")

    async def done(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """No more reminders like this one about this item."""
        reminder_id = card_id(data, GONE, error=DomainError)
        async with self._deps.sessions() as session:
            row = await reminders.done(session, actor=actor, reminder_id=reminder_id, now=self._deps.clock())
        await dc.context.send_activity("Done \u2014 I won't remind you about this again.")
        await self._settle(dc, row, f"Marked done on {format_uk(self._deps.clock())}: no more reminders about this.")


def reminders_feature(deps: Deps, features: Sequence[Feature]) -> Feature:
    """Snooze/done for every kind, plus the generic `notice` and `reminder.failed` kinds."""
    own = {
        NOTICE_KIND: ReminderKind(render=render_notice),
        reminders.FAILED_KIND: ReminderKind(render=render_failed, urgent=True, snoozable=False),
    }
    everything = all_reminder_kinds([*features, Feature(reminder_kinds=own)])
    actions = ReminderActions(deps, everything)
    return Feature(actions={SNOOZE: actions.snooze, DONE: actions.done}, reminder_kinds=own)
