"""Runs the real bot (`app.py`) as a subprocess, so tests can kill -9 it and start it again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_serving(url: str, exited: Callable[[], bool], timeout: float, log_path: Path) -> None:
    """Poll GET `url` until 200 (a guard, not a sleep for time); fail fast, with the log's tail, if the process exited."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if exited():
                raise RuntimeError(f"process exited: {log_path.read_text()[-2000:]}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer 200")
            await asyncio.sleep(0.05)


async def wait_healthy(url: str, exited: Callable[[], bool], timeout: float, log_path: Path) -> None:
    """Poll the bot's GET /healthz until 200."""
    await wait_serving(f"{url}/healthz", exited, timeout, log_path)


class BotProcess:
    """`python app.py` on 127.0.0.1 with the given settings; logs go to `log_path`."""

    def __init__(self, *, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        self.log_path = workdir / "bot.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30.0) -> None:
        """Start and wait until /healthz answers 200 (a guard, not a sleep for time)."""
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=self.workdir, env=self.env, stdout=log, stderr=log
        )
        proc = self._proc
        await wait_healthy(self.url, lambda: proc.poll() is not None, timeout, self.log_path)

    def kill9(self) -> None:
        """SIGKILL: no clean-up runs, exactly like a crash."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()

    async def stop(self) -> None:
        """SIGTERM and wait."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            await asyncio.to_thread(self._proc.wait, 15)

    def logs(self) -> str:
        """Everything the process logged."""
        return self.log_path.read_text() if self.log_path.exists() else ""
