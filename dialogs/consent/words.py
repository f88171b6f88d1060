"""A DPO's consent change in everyday words: "Olivia Smith's mum rang: no more Facebook".

Read into the same fields as the typed commands (dialogs/consent/admin.py); the dialog confirms what was read
before anything is recorded, and the pupil is looked up (and confirmed) like any other name.
"""

from __future__ import annotations

import re

from services.consent.rules import purpose_in

# Tried in order: the first whose words appear decides what changed.
_ACTIONS = (
    ("never", r"\bnever\b.*\bpublish|\b(do not|don't|must not|mustn't) (be )?publish|\blooked[- ]after\b|\bcourt order\b"
              r"|\badopted\b"),
    ("published", r"\bwithout (photo )?consent\b"),
    ("left", r"\b(has |have )?left\b|\bleaving\b|\bmoved (to (another|a new) school|schools?|away)\b"),
    ("withdrawn", r"\bwithdr[ae]w|\bno (more|longer)\b|\b(doesn't|does not|don't|do not|won't) want\b|\bsaid no\b|\bsays? no\b"
                  r"|\bremove|\btake\b.*\boff\b|\brefuse|\bchanged (her|his|their) minds?\b|\bnot (allowed|happy)\b"),
    ("granted", r"\bgrant|\b(given|gave|give) (photo )?consent\b|\bcan (now )?(go|be|appear)\b|\b(is|are|now) (ok|okay|fine)\b"
                r"|\bsays? yes\b|\bsaid yes\b|\bagreed\b|\bhappy for\b|\bconsent form\b.*\byes\b"),
)
_GIVER = re.compile(r"\b(mum|dad|mother|father|parents?|grandma|grandad|guardian|carer|foster carer)\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)*")
_NOT_NAMES = frozenset({
    "I", "Mum", "Dad", "Mother", "Father", "Parents", "Parent", "Grandma", "Grandad", "Consent", "Withdraw", "Withdrawn",
    "Remove", "Take", "Grant", "Granted", "Update", "Record", "New", "Mark", "Pupil", "Never", "Do", "Don't", "We", "A",
    "The", "His", "Her", "Their", "Please", "Year", "Class", "Photo", "Photos", "No", "Yes", "Today", "Yesterday",
})
_REASONS = (("looked-after child", r"\blooked[- ]after\b"), ("court order", r"\bcourt order\b"), ("adopted", r"\badopted\b"))
_FOR = re.compile(r"\bfor\s+(?P<who>[^,.:;]+)", re.IGNORECASE)


def _name(text: str) -> str:
    """The pupil's name: capitalised words that aren't ordinary words ("Olivia Smith's" -> "Olivia Smith"), else what
    follows "for"; "" when there is none (the dialog then asks)."""
    for found in _NAME.finditer(text):
        words = [w for w in found.group().split() if w not in _NOT_NAMES]
        if words:
            return " ".join(words)
    match = _FOR.search(text)
    return " ".join(match.group("who").split()[:3]) if match else ""


def read_change(text: str) -> dict[str, str] | None:
    """{"action", "pupil", "purpose", "given_by", "reason"} from everyday words, or None when it can't tell what changed."""
    said = " ".join(text.replace("\u2019", "'").split())
    action = next((name for name, words in _ACTIONS if re.search(words, said, re.IGNORECASE)), None)
    if action is None:
        return None
    purpose = purpose_in(said)
    rest = purpose[1] if purpose else said
    rest = re.sub(r"'s\b", "", rest)
    giver = _GIVER.search(said)
    reason = next((why for why, words in _REASONS if re.search(words, said, re.IGNORECASE)), "")
    return {"action": action, "pupil": _name(rest), "purpose": purpose[0].value if purpose and action != "never" else "",
            "given_by": giver.group(1).lower() if giver and action == "granted" else "", "reason": reason}
