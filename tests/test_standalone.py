"""The repository stands alone: nothing in it reads files from beside the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `../shared`, `/work/shared`, or a path built as `parents[n] / "shared"`.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|parents\[\d\]\s*/\s*[\"']shared[\"']")


def _project_files() -> list[Path]:
    """Tracked and new files (not ignored ones such as .venv or node_modules)."""
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listing.splitlines() if (ROOT / name).is_file()]


def test_no_file_reads_from_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _project_files() if path != Path(__file__) and path.suffix != ".png"
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, f"these read files from outside the repository: {offenders}"


def test_the_pattern_catches_the_old_paths() -> None:
    assert OUTSIDE.search('Path(__file__).resolve().parents[2] / "shared" / "teams-schema"')
    assert OUTSIDE.search("payloads from ../shared/teams-activities")
    assert not OUTSIDE.search("the training catalogue is shared by every school")
