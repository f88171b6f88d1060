"""The repository stands alone: nothing in it reads files from beside the checkout."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_FOLDERS = {"node_modules", "__pycache__", "build"}
SKIP_SUFFIXES = (".png", ".db", ".db-wal", ".db-shm", ".pyc", ".zip")
# `../shared`, `/work/shared`, or a path built as `parents[n] / "shared"`.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|parents\[\d\]\s*/\s*[\"']shared[\"']")


def _project_files() -> list[Path]:
    """The project's text files: no dependencies, caches, databases or pictures (works without git, as in CI)."""
    found = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIP_FOLDERS and (d == ".ci" or not d.startswith("."))]
        found += [Path(folder, name) for name in names if not name.endswith(SKIP_SUFFIXES)]
    return found


def test_no_file_reads_from_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _project_files() if path != Path(__file__)
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, f"these read files from outside the repository: {offenders}"


def test_the_pattern_catches_the_old_paths() -> None:
    assert OUTSIDE.search('Path(__file__).resolve().parents[2] / "shared" / "teams-schema"')
    assert OUTSIDE.search("payloads from ../shared/teams-activities")
    assert not OUTSIDE.search("the training catalogue is shared by every school")
