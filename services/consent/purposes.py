"""Photo purposes in one table: where an image may be used, its label, the words that name it, and its default
housekeeping months. Adding a purpose is one row here plus its value in storage.consent_models.Purpose (the storage
layer imports nothing above it; tests/consent/test_purposes.py checks the two agree)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.consent_models import Purpose

MIN_MONTHS, MAX_MONTHS = 1, 120  # the range a housekeeping setting may take


@dataclass(frozen=True)
class PurposeRow:
    """One purpose: `words` is a regular expression of what people call it; `months` the default time a post stays up."""

    purpose: Purpose
    label: str
    words: str
    months: int


# In the order cards, exports and columns show them; words are tried in this order too, so "social media" wins over
# the press's "media".
PURPOSES: tuple[PurposeRow, ...] = (
    PurposeRow(Purpose.WEBSITE, "School website", r"(?:school )?web ?site|web", 24),
    PurposeRow(Purpose.SOCIAL_MEDIA, "School social media",
               r"social(?: media)?|facebook|twitter|instagram|tiktok|youtube|linkedin", 12),
    PurposeRow(Purpose.NEWSLETTER, "Newsletter / prospectus", r"newsletters?|prospectus(?:es)?", 24),
    PurposeRow(Purpose.PRESS, "Local press / media", r"(?:local )?press|(?:local )?(?:news)?papers?|(?:local )?media|tv", 12),
    PurposeRow(Purpose.DISPLAYS, "Internal displays", r"(?:internal )?displays?|notice ?boards?", 12),
)

PURPOSE_LABELS: dict[Purpose, str] = {row.purpose: row.label for row in PURPOSES}
DEFAULT_MONTHS: dict[Purpose, int] = {row.purpose: row.months for row in PURPOSES}


def parse_months(text: str) -> dict[Purpose, int]:
    """`website:24,social_media:12` -> the months for the purposes named; ValueError saying what is wrong otherwise."""
    months: dict[Purpose, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, colon, number = (piece.strip() for piece in item.partition(":"))
        if name.lower() not in DEFAULT_MONTHS:
            raise ValueError(f"{name!r} is not a purpose (use {', '.join(DEFAULT_MONTHS)})")
        if not colon or not (number.isascii() and number.isdigit()):
            raise ValueError(f"{name}: {number!r} is not a whole number of months")
        if not MIN_MONTHS <= int(number) <= MAX_MONTHS:
            raise ValueError(f"{name}: {number} months is outside {MIN_MONTHS} to {MAX_MONTHS}")
        if Purpose(name.lower()) in months:
            raise ValueError(f"{name} is given twice")
        months[Purpose(name.lower())] = int(number)
    return months
