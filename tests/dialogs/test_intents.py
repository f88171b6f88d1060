"""Recognising commands and plain phrasings."""

from __future__ import annotations

import pytest

from dialogs.consent.words import read_change
from dialogs.feature import Intent
from dialogs.intents import Match, Recogniser, Unsure, features, recognise
from dialogs.training.book import month_in

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


BOOK = Intent("book", ("book training",))
CANCEL = Intent("cancel", ("cancel booking",))
EXAMPLES = {"book": ("book me on the course", "sign me up for the training"),
            "cancel": ("take me off the course", "I can't come to the training"), "none": ("thanks", "ok")}


@pytest.mark.parametrize(("said", "expected"), [
    ("please sign me up for the AI training", "book"),
    ("I can't come to the course on Friday", "cancel"),
    ("thanks!", None),
    ("purple elephants", None),
])
def test_phrasings_are_read_like_the_examples(said: str, expected: str | None) -> None:
    decision = Recogniser([BOOK, CANCEL], EXAMPLES).decide(said)
    assert (decision.intent.dialog_id if isinstance(decision, Match) else decision) == expected
    assert not (isinstance(decision, Match) and decision.exact)


def test_close_readings_ask_with_the_best_first() -> None:
    breach, check = Intent("breach", ()), Intent("check", ())
    examples = {"breach": ("the wrong photo went on facebook",), "check": ("can this photo go on facebook",)}
    recogniser = Recogniser([breach, check], examples)
    assert recogniser.decide("photo on facebook") in (Unsure((breach, check)), Unsure((check, breach)))
    assert recogniser.decide("the wrong photo on facebook") == Match(breach, exact=False)


def test_commands_and_patterns_come_before_examples() -> None:
    recogniser = Recogniser([*INTENTS, BOOK, CANCEL], EXAMPLES)
    assert recogniser.decide("cancle booking") == Match(CANCEL, exact=True)
    assert recogniser.decide("I can't come: I sent an email to the wrong parent") == Match(INTENTS[0], exact=False)


def test_numbers_are_one_word_and_words_are_stemmed() -> None:
    assert features("BR-2026-0002") == features("br 2026 2") == ["br", "0", "0", "br 0", "0 0"]
    assert features("Bookings emailed")[:2] == features("booking sent")[:2] == ["book", "email"]


@pytest.mark.parametrize(("said", "month"), [
    ("book me on the AI training in May", 5), ("may I book training", None), ("any training in june?", 6),
    ("book training for sept", 9), ("the junior marking course", None), ("training in December please", 12),
])
def test_the_month_asked_for(said: str, month: int | None) -> None:
    assert month_in(said) == month


@pytest.mark.parametrize(("said", "read"), [
    ("Olivia Smith's mum rang: no more Facebook", ("withdrawn", "Olivia Smith", "social_media", "", "")),
    ("withdraw consent for olivia smith facebook", ("withdrawn", "olivia smith", "social_media", "", "")),
    ("Mia Patel's dad emailed to say she can now go on the website", ("granted", "Mia Patel", "website", "dad", "")),
    ("Amelia Scott is now a looked after child, never publish her", ("never", "Amelia Scott", "", "", "looked-after child")),
    ("Charlie Hall has left the school", ("left", "Charlie Hall", "", "", "")),
    ("a photo of Sophie Hill went on facebook without consent", ("published", "Sophie Hill", "social_media", "", "")),
])
def test_consent_changes_in_everyday_words(said: str, read: tuple[str, ...]) -> None:
    found = read_change(said)
    assert found is not None
    assert (found["action"], found["pupil"], found["purpose"], found["given_by"], found["reason"]) == read


@pytest.mark.parametrize("said", ["Olivia Smith's mum rang about photos", "consent for Olivia"])
def test_a_consent_change_that_cannot_be_read_is_none(said: str) -> None:
    assert read_change(said) is None


def test_no_flow_is_started_on_words_like_what_and_about_alone() -> None:
    status = Intent("status", ())
    recogniser = Recogniser([status], {"status": ("what's due", "what about my deadlines"), "none": ("thanks",)})
    assert recogniser.decide("what about my deadlines this week") == Match(status, exact=False)
    assert not isinstance(recogniser.decide("what about the fire drill"), Match)
