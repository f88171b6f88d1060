"""Photo purposes as the rules use them. The table itself is `storage.consent_models.Purpose`: one line per purpose
(value, label, words, default housekeeping months), so adding a purpose is adding one line there."""

from __future__ import annotations

from storage.consent_models import Purpose

MIN_MONTHS, MAX_MONTHS = 1, 120  # the range a housekeeping setting may take


PURPOSE_LABELS: dict[Purpose, str] = {purpose: purpose.label for purpose in Purpose}
DEFAULT_MONTHS: dict[Purpose, int] = {purpose: purpose.months for purpose in Purpose}


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
