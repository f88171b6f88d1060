"""Recognising commands and plain phrasings."""

from __future__ import annotations

import pytest

from dialogs.deps import Intent
from dialogs.intents import recognise

INTENTS = [
    Intent("breach", ("report a breach",), (r"\bwrong (parent|person)\b", r"\bbreach\b")),
    Intent("consent", ("check consent",), (r"\b(post|share)\b.*\b(photo|picture)s?\b",)),
]


@pytest.mark.parametrize(
    ("said", "dialog", "exact"),
    [
        ("report a breach", "breach", True),
        ("Report a breach!", "breach", True),
        ("reprot a braech", "breach", True),
        ("I sent an email to the wrong parent", "breach", False),
        ("can I post this photo of Year 4 sports day?", "consent", False),
        ("chek consent", "consent", True),
    ],
)
def test_recognised(said: str, dialog: str, exact: bool) -> None:
    match = recognise(said, INTENTS)
    assert match is not None
    assert (match.intent.dialog_id, match.exact) == (dialog, exact)


@pytest.mark.parametrize("said", ["", "purple elephants", "the weather is nice"])
def test_not_recognised(said: str) -> None:
    assert recognise(said, INTENTS) is None
