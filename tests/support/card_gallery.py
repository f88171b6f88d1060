"""`make cards`: pictures of the cards a person meets, taken from the end-to-end tests, for the README."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.support.card_render import CardRenderer, text_length

# Picture name -> how the card's first line starts. The wordiest matching card of the run is pictured.
PICTURES: dict[str, str] = {
    "welcome": "Hello, I'm Custodian",
    "help": "Custodian can help you with:",
    "breach-question": "**What happened?**",
    "breach-summary": "Please check your report",
    "dpo-alert": "New breach reported:",
    "drill-alert": "DRILL: New breach reported",
    "drill-report": "DRILL: Drill report",
    "dpo-status": "What needs you now",
    "consent-ok": "\u2705 You may use this photo",
    "consent-not-ok": "\u26d4 Don't use this photo",
    "vetting-checklist": "Before you post: check the image itself",
    "post-receipt": "\u2705 Post #",
    "removal-task": "Please take down",
    "training-catalogue": "Training you can book",
    "training-booked": "You're booked",
    "weekly-digest": "Your weekly digest",
    "school-calendar": "School calendar",
    "term-dates-saved": "Term dates saved",
    "account-register": "Social media accounts",
    "account-leaver": "Remove ",
    "school-profile": "School profile",
    "ico-pack": "ICO report pack:",
    "ico-pack-section": "5 \u00b7 When did the breach happen?",
    "training-attendance": "Who came:",
    "training-record": "Your training record",
    "training-due": "Data-protection training due",
    "training-invitation": "Your data-protection training is due",
}


def first_line(content: dict[str, Any]) -> str:
    """The text of the card's first TextBlock."""
    return next((str(e.get("text", "")) for e in content.get("body", []) if e.get("type") == "TextBlock"), "")


class Gallery:
    """Keeps the wordiest card for each picture, then saves them as PNG (light theme)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.best: dict[str, dict[str, Any]] = {}

    def offer(self, cards: Iterable[dict[str, Any]]) -> None:
        for content in cards:
            for name, start in PICTURES.items():
                if first_line(content).startswith(start) and text_length(content) > text_length(self.best.get(name)):
                    self.best[name] = content

    def save(self, renderer: CardRenderer) -> list[str]:
        """Write docs/cards/<name>.png for each picture found; the names not found."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, content in self.best.items():
            renderer.render(content, "light", self.folder / f"{name}.png")
        return [name for name in PICTURES if name not in self.best]
