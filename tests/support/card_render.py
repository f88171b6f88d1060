"""The official Adaptive Cards renderer (npm `adaptivecards`, tests/render/render.mjs) in one headless Chromium.

Cards are rendered as Teams shows them: Microsoft's Teams host configs, light and dark, at chat width.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.card_gallery import Gallery

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "render" / "render.mjs"
THEMES = ("light", "dark")
WIDTH = 432  # a card in a Teams desktop chat; narrow on purpose (mobile is narrower still)
FULL_WIDTH = 640  # a card with "msteams": {"width": "Full"} in a chat on a laptop
MAX_HEIGHT = 1400  # taller than this and a person scrolls past the start of the card
TEXT_KEYS = frozenset({"text", "title", "value", "placeholder", "label", "errorMessage", "altText", "url", "id"})


def unavailable() -> str | None:
    """Why the renderer cannot run on this machine, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed: sudo apt-get install nodejs npm, then make test"
    if not (ROOT / "node_modules" / "adaptivecards").is_dir():
        return "the Node packages are not installed: npm ci (make test does it)"
    if chromium() is None:
        return "chromium is not installed: sudo apt-get install chromium"
    return None


def chromium() -> str | None:
    """Debian's chromium on PATH."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def width(card: dict[str, Any]) -> int:
    """The width Teams gives the card."""
    return FULL_WIDTH if (card.get("msteams") or {}).get("width") == "Full" else WIDTH


def shape(node: Any) -> Any:
    """The card without its words and submit data: cards that differ only there have one shape."""
    if isinstance(node, dict):
        return {key: None if key == "data" else ("" if key in TEXT_KEYS else shape(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [shape(item) for item in node]
    return node


def text_length(node: Any) -> int:
    """How many characters of text a card shows, to render the wordiest card of each shape."""
    if isinstance(node, dict):
        return sum(len(str(v)) if k in TEXT_KEYS else text_length(v) for k, v in node.items() if k != "data")
    if isinstance(node, list):
        return sum(text_length(item) for item in node)
    return 0


class CardRenderer:
    """One Node process driving one headless Chromium; `close()` ends both."""

    def __init__(self) -> None:
        browser = chromium()
        assert browser is not None, unavailable()
        self._process = subprocess.Popen(["node", str(SCRIPT), browser], cwd=ROOT, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._answer()  # {"ready": true} once the page has the renderer

    def _answer(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the card renderer stopped (exit code {self._process.wait()}); see its output above")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def render(self, card: dict[str, Any], theme: str, png: Path | None = None) -> list[str]:
        """What is wrong with the card as Teams shows it in `theme` (empty when nothing is); `png` saves a picture."""
        request = {"card": card, "theme": theme, "width": width(card), "png": str(png) if png else None}
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._answer()
        problems: list[str] = answer["problems"]
        if answer["height"] > MAX_HEIGHT:
            problems.append(f"card is {answer['height']} px tall (limit {MAX_HEIGHT})")
        return problems

    def problems(self, card: dict[str, Any]) -> list[str]:
        """Problems in light and dark, each once."""
        return list(dict.fromkeys(p for theme in THEMES for p in self.render(card, theme)))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


class CardCheck:
    """Renders every card shape the end-to-end tests produce, the wordiest instance of each."""

    def __init__(self, renderer: CardRenderer, gallery: Gallery | None = None) -> None:
        self.renderer = renderer
        self.gallery = gallery
        self.longest: dict[str, int] = {}  # shape -> text length of the wordiest card rendered
        self.renders = 0
        self.seconds = 0.0

    def problems(self, cards: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
        """Problems by card (first 200 characters of its JSON), for cards whose shape or length is new."""
        found: dict[str, list[str]] = {}
        started = time.monotonic()
        cards = list(cards)
        if self.gallery is not None:
            self.gallery.offer(cards)
        for card in cards:
            key, length = json.dumps(shape(card), sort_keys=True), text_length(card)
            if self.longest.get(key, -1) >= length:
                continue
            self.longest[key] = length
            self.renders += 1
            if problems := self.renderer.problems(card):
                found[json.dumps(card)[:200]] = problems
        self.seconds += time.monotonic() - started
        return found
