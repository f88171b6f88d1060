"""Server processes under test and what /proc says about them (CPU time, resident memory)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tests.teams.process import ROOT, BotProcess, free_port, wait_healthy

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    """Any HTTP server process with GET /healthz, started from `argv` (which gets `--port N` appended)."""

    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    _proc: subprocess.Popen[bytes] | None = None
    _log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def start(self, timeout: float = 60.0) -> None:
        """Start and wait for /healthz (a guard, not a sleep for time)."""
        self._log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONPATH": str(ROOT), **self.env}
        self._proc = subprocess.Popen([*self.argv, "--port", str(self.port)], cwd=self.log_path.parent, env=env,
                                      stdout=self._log, stderr=self._log)
        await wait_healthy(self.url, lambda: self._proc is None or self._proc.poll() is not None, timeout, self.log_path)

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it hangs)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                await asyncio.to_thread(self._proc.wait, 15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                await asyncio.to_thread(self._proc.wait)
        if self._log is not None:
            self._log.close()


def bot_pid(bot: BotProcess) -> int:
    """The pid of the real bot started by the test harness."""
    proc = bot._proc
    assert proc is not None
    return proc.pid
