"""Recognising what the user wants from what they typed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dialogs.deps import Intent

_FUZZY_CUTOFF = 85


def normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation."""
    return " ".join(text.lower().split()).strip(" .!?")


@dataclass(frozen=True)
class Match:
    """A recognised intent; `exact` when the user typed (nearly) the command itself."""

    intent: Intent
    exact: bool


def recognise(text: str, intents: Sequence[Intent]) -> Match | None:
    """Best intent for `text`: a command (typos tolerated), else the first matching pattern."""
    said = normalise(text)
    if not said:
        return None
    commands = {command: intent for intent in intents for command in intent.commands}
    best = process.extractOne(said, list(commands), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    if best is not None:
        return Match(commands[best[0]], exact=True)
    for intent in intents:
        if any(re.search(pattern, said) for pattern in intent.patterns):
            return Match(intent, exact=False)
    return None
