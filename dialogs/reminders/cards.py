"""Proactive reminder cards: why you're getting it, what it's about, time left, and what to do next.

Feature renderers wrap their own content with `reminder_card`, which adds the engine's
snooze and done buttons. Pure functions -> dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.kit.cards import Card, card, facts, heading, notifying, plain, submit, text

SNOOZE = "reminder.snooze"
DONE = "reminder.done"


def reminder_card(
    *,
    why: str,
    about: str,
    time_left: str | None,
    body: Sequence[dict[str, Any]],
    actions: Sequence[dict[str, Any]],
    reminder_id: int,
    snoozable: bool,
    done: bool = True,
) -> Card:
    """A reminder: `about` as the title (and notification text), `why` beneath, then the kind's content.

    `actions` are the kind's own buttons (e.g. open the breach); snooze (1 hour / tomorrow morning)
    is added when `snoozable`, and "Mark done" when `done` (not where it would invite the wrong action, e.g.
    an image that must come down: only "Mark removed" or "Keep" with a reason settles it).
    """
    blocks: list[dict[str, Any]] = [heading(about), text(why, subtle=True)]
    if time_left:
        blocks.append(text(f"\u23f0 {time_left}", attention="overdue" in time_left))
    blocks += body
    buttons = list(actions)
    if snoozable:
        buttons += [
            submit("Snooze 1 hour", {"cmd": SNOOZE, "id": reminder_id, "for": "hour"}),
            submit("Tomorrow morning", {"cmd": SNOOZE, "id": reminder_id, "for": "tomorrow"}),
        ]
    if done:
        buttons.append(submit("Mark done", {"cmd": DONE, "id": reminder_id}))
    result = card(blocks, buttons)
    notifying(result, about)
    return result


def time_left_text(deadline: datetime, now: datetime) -> str:
    """'2 days 3 hours left', '45 minutes left', or 'overdue by 5 hours'."""
    seconds = int((deadline - now).total_seconds())
    span = _span(abs(seconds))
    return f"{span} left" if seconds >= 0 else f"overdue by {span}"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(words) or "less than a minute"


def notice_reminder_card(*, reminder_id: int, title: str, message: str, why: str) -> Card:
    """The generic `notice` kind: a short message that needs no live data."""
    return reminder_card(why=why, about=title, time_left=None, body=[text(message)], actions=[],
                         reminder_id=reminder_id, snoozable=True)


def delivery_failed_card(*, reminder_id: int, who: str, kind: str, about: str, due: str, problem: str) -> Card:
    """Tells a DPO that a reminder did not reach someone, so they can follow it up another way."""
    return reminder_card(
        why="You're a DPO for this school, and a reminder I should have delivered didn't get through.",
        about="A reminder could not be delivered",
        time_left=None,
        body=[facts([("For", plain(who)), ("Reminder", kind), ("About", about), ("Was due", due)]), text(problem)],
        actions=[],
        reminder_id=reminder_id,
        snoozable=False,
    )
