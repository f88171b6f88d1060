"""Conversation scripts for the turn benchmark: what each simulated user says, turn by turn.

A turn is typed text (str) or a card submit (dict, sent as the activity's `value`). Each
conversation runs its script from the top, again and again, until the measurement ends.
Edit the turns here when a dialog's questions change; the bench prints which script ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Turn = str | dict[str, Any]


@dataclass(frozen=True)
class Script:
    """A named list of user turns."""

    name: str
    description: str
    turns: tuple[Turn, ...]
    # Text in the reply to the first turn that means the flow is not built yet (the bench then falls back).
    unavailable_marker: str | None = None
    # Text the reply to the last turn must contain (e.g. the breach reference), else the turn counts as failed.
    done_marker: str | None = None


BREACH = Script(
    name="breach-report",
    description="`report a breach`, one answer per question (typed or pressed), then Send to the DPO: "
                "the breach is saved and the school's DPO alerted",
    turns=(
        "report a breach",
        "I emailed the Year 5 trip medical list to the wrong parent",
        {"q": "kind", "answer": "wrong_person"},
        "The parent replied to tell the school office",
        "yesterday 3pm",
        {"q": "aware_at", "answer": "now"},
        {"q": "subjects", "answer": "pupils"},
        "28",
        "about 30",
        {"q": "data_categories", "answer": "basic,special"},
        {"q": "contained", "answer": "yes"},
        "The parent confirmed they deleted the email",
        "Check recipients before sending lists; use the MIS messaging instead",
        {"q": "others_informed", "answer": "head,it"},
        {"q": "summary", "nav": "confirm"},
    ),
    unavailable_marker="coming soon",
    done_marker="BR-",
)

HELP = Script(
    name="help-and-status",
    description="`hi`, `status`, `what can you do`, `cancel` (router, help card, status card; no dialog state yet)",
    turns=("hi", "status", "what can you do", "cancel"),
)

SCRIPTS = {script.name: script for script in (BREACH, HELP)}
