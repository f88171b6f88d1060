"""Microsoft 365 Agents Playground (Microsoft's Teams emulator) in a real browser, driven as a person would.

Each Playground instance serves the Teams chat UI for one person of the school (its `.m365agentsplayground.yml`),
sends `msteams` activities to the bot and is the bot's Bot Connector (its `/_connector` becomes the serviceUrl).
`Chat` types in the compose box, presses card buttons, fills card inputs and waits for what the bot answers.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

from playwright.async_api import Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.teams.process import ROOT, free_port, wait_serving

CLI = ROOT / "node_modules" / ".bin" / "agentsplayground"
CONFIGS = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 20_000
MESSAGE = ".fai-OutputCard"  # one message from the bot, as the Playground shows it
CARD = ".ac-adaptiveCard"
# A Log Panel line starts with its time, e.g. "[5:01:01 PM] " (the panel has no other hook to find it by).
LOG_LINES = """() => [...document.querySelectorAll('div')]
    .filter(d => d.children.length >= 2 && /^\\[\\d{1,2}:\\d{2}:\\d{2} [AP]M\\] $/.test(d.firstElementChild.textContent))
    .map(d => d.innerText.replace(/\\s+/g, ' ').trim())"""


class Playground:
    """One Playground instance (`npx agentsplayground`) for the person in `config`, talking to `bot_url`."""

    def __init__(self, config: str, bot_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.config = CONFIGS / config
        self.bot_url = bot_url
        self.log_path = workdir / f"{config}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def service_url(self) -> str:
        """Its Bot Connector (the serviceUrl of the activities it sends)."""
        return f"http://localhost:{self.port}/_connector"

    async def start(self, timeout: float = 60.0) -> None:
        """Start it and wait until its page is served (a guard, not a sleep for time)."""
        env = {**os.environ, "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(self.config)}
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [str(CLI), "-e", f"{self.bot_url}/api/messages", "-c", "msteams", "--dt", "-p", str(self.port)],
            cwd=self.log_path.parent, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        proc = self._proc
        await wait_serving(self.url, lambda: proc.poll() is not None, timeout, self.log_path)

    async def stop(self) -> None:
        """SIGTERM and wait."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            await asyncio.to_thread(self._proc.wait, 15)


class Chat:
    """The personal chat with the bot in one Playground page."""

    def __init__(self, page: Page, service_url: str = "") -> None:
        self.page = page
        self.service_url = service_url  # the Playground's Bot Connector, as in the activities it sends

    @property
    def messages(self) -> Locator:
        return self.page.locator(MESSAGE)

    async def open(self, url: str) -> None:
        """Open the Playground (its personal chat with the bot is shown first)."""
        self.page.set_default_timeout(WAIT_MS)
        await self.page.goto(url)
        await self.page.locator("[contenteditable=true][role=textbox]").wait_for(timeout=WAIT_MS)

    async def count(self) -> int:
        return await self.messages.count()

    async def wait_for(self, text: str, after: int) -> Locator:
        """The first bot message after the first `after` ones that shows `text` (waits for it to arrive)."""
        try:
            await self.page.wait_for_function(
                """([selector, after, text]) => [...document.querySelectorAll(selector)].slice(after)
                       .some(e => e.innerText.includes(text))""",
                arg=[MESSAGE, after, text], timeout=WAIT_MS,
            )
        except PlaywrightTimeout:
            shown = (await self.messages.all_inner_texts())[max(after - 1, 0):]
            raise AssertionError(f"no message showing {text!r}; the newest ones: {shown}") from None
        return self.messages.filter(has_text=text).last

    async def say(self, text: str, expect: str) -> Locator:
        """Type `text`, send it, and wait for a reply showing `expect`."""
        before = await self.count()
        box = self.page.locator("[contenteditable=true][role=textbox]")
        await box.click()
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Enter")
        return await self.wait_for(expect, before)

    def card_with(self, button: str) -> Locator:
        """The newest card that has a button titled `button`."""
        return self.page.locator(CARD).filter(has=self.page.get_by_role("button", name=button, exact=True)).last

    async def press(self, button: str, expect: str, card: Locator | None = None) -> Locator:
        """Press `button` on `card` (default: the newest card that has it) and wait for a reply showing `expect`."""
        before = await self.count()
        await (card or self.card_with(button)).get_by_role("button", name=button, exact=True).first.click()
        return await self.wait_for(expect, before)

    async def fill(self, card: Locator, label: str, value: str) -> None:
        """Type into the card's text input whose label starts with `label`."""
        await card.get_by_label(label).fill(value)

    async def choose(self, card: Locator, *titles: str) -> None:
        """Tick the card's radio buttons / check boxes titled `titles`."""
        for title in titles:  # by the choice's own label (the input's accessible name starts with the field's label)
            await card.locator("label").filter(has_text=re.compile(f"^{re.escape(title)}$")).click()

    async def select(self, card: Locator, label: str, title: str) -> None:
        """Pick `title` in the card's drop-down (a Fluent UI combobox, as in Teams) whose label starts with `label`."""
        await card.get_by_role("combobox", name=label).click()
        await self.page.get_by_role("option", name=title, exact=True).click()

    async def log_panel(self) -> list[str]:
        """Every line of the Playground's Log Panel."""
        lines: list[str] = await self.page.evaluate(LOG_LINES)
        return lines

    async def screenshot(self, message: Locator, name: str) -> None:
        """Save one message as a picture for the README when PLAYGROUND_DIR is set (`make cards`: docs/playground/)."""
        folder = os.environ.get("PLAYGROUND_DIR")
        if not folder:
            return
        target = ROOT / folder / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        await message.screenshot(path=str(target))
