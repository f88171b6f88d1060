"""The bench-only venv for the Microsoft 365 Agents SDK echo agent (never a runtime dependency).

`python -m bench.agents_venv` creates `bench/.venv-agents` and installs the SDK into it; the turn
benchmark calls `ensure()` itself and skips the Agents SDK row, saying why, if that fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.teams.process import ROOT

VENV = ROOT / "bench" / ".venv-agents"
REQUIREMENT = "microsoft-agents-hosting-aiohttp==1.9.0"
MARKER = VENV / ".installed"


def _run(argv: list[str], timeout: float) -> str | None:
    """Run a set-up command; None when it worked, else the reason."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{argv[0]}: {type(error).__name__}"
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if not line.startswith("WARNING")]
        return " ".join(lines[-3:])[-400:] or f"exit code {done.returncode}"
    return None


def ensure(timeout: float = 300.0) -> tuple[Path | None, str]:
    """(python of the venv, "") once the SDK is installed, else (None, why not)."""
    python = VENV / "bin" / "python"
    if MARKER.exists() and MARKER.read_text().strip() == REQUIREMENT and python.exists():
        return python, ""
    if not python.exists():
        why = _run([sys.executable, "-m", "venv", str(VENV)], timeout)
        if why:
            return None, f"could not create {VENV.name}: {why}"
    why = _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--retries", "2", "--timeout", "20",
                REQUIREMENT], timeout)
    if why:
        return None, f"pip install {REQUIREMENT} failed: {why}"
    MARKER.write_text(REQUIREMENT + "\n")
    return python, ""


if __name__ == "__main__":
    found, reason = ensure()
    print(found if found else f"Agents SDK venv not available: {reason}")
    sys.exit(0 if found else 1)
