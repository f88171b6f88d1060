"""Pupil CSV import: flexible headers, errors by row, preview before Apply, all or nothing, 5,000 rows, hostile files, CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.runtime import Runtime
from services.consent.pupil_csv import parse_csv
from storage.consent_models import Pupil, PupilConsent, PupilImport
from tests.support.consent import (
    LOCAL_HTTP,
    ROOT,
    SAMPLE,
    button,
    check_and_post,
    choices,
    csv_message,
    data_uri,
    import_sample,
    rows,
    tasks,
)
from tests.teams.client import TeamsClient, TeamsUser, texts

HEADER = "Admission No,Surname,First name,Known as,NC Year,Class,Photo consent - website,Social media consent,Review date"


class FileServer:
    """Serves files on 127.0.0.1, as SharePoint serves a Teams attachment's downloadUrl."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        app = web.Application()
        app.router.add_get("/{name}", self._get)
        self.server = TestServer(app, host="127.0.0.1")

    async def _get(self, request: web.Request) -> web.Response:
        body = self.files.get(request.match_info["name"])
        return web.Response(status=404) if body is None else web.Response(body=body, content_type="application/octet-stream")

    def url(self, name: str, body: bytes) -> str:
        self.files[name] = body
        return str(self.server.make_url(f"/{name}"))


@pytest.fixture
async def files(runtime: Runtime) -> AsyncIterator[FileServer]:
    runtime.deps.files = LOCAL_HTTP  # stands for SharePoint, so trusted like it
    served = FileServer()
    await served.server.start_server()
    yield served
    await served.server.close()


def big_csv(count: int, *, bad_every: int = 0) -> str:
    """`count` made-up pupils; every `bad_every`-th row has a bad date, and one id is duplicated when bad_every is set."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    for n in range(1, count + 1):
        review = "31/02/2027" if bad_every and n % bad_every == 0 else "31/08/2027"
        writer.writerow([f"A{n:05d}", f"Surname{n}", f"Pupil{n}", "", f"Year {n % 6 + 1}", f"{n % 6 + 1}{'ABC'[n % 3]}",
                         "Yes", "No" if n % 7 == 0 else "Yes", review])
    if bad_every:
        writer.writerow(["A00001", "Dup", "Licate", "", "Year 1", "1A", "Yes", "Yes", "31/08/2027"])
    return out.getvalue()


async def count(runtime: Runtime, model: type) -> int:
    return len(await rows(runtime, model))


def test_headers_are_matched_flexibly_and_cells_checked() -> None:
    text = ("MIS ID;Legal Surname;Forename;Preferred name;Year;Reg group;Website;Facebook;Newsletter/Prospectus;Local press;"
            "Internal displays;Consent given by;Consent date;Review date;Never publish;Never publish reason\n"
            "M1;=HYPERLINK(\"x\");Amy;;Y4;4B;yes;no;;Y;N;+44 7700 900123;1/9/2025;2027-08-31;;\n"
            "M2;Lee;Bo;;Reception;RB;maybe;yes;yes;yes;yes;Mum;31/02/2025;tomorrow;Yes;\n"
            "m1;Dup;Dee;;Year 4;4B;yes;yes;yes;yes;yes;;;;;\n"
            ";;;;;;;;;;;;;;;\n"
            "M4;;Cy;;Year 4;;yes;yes;yes;yes;yes;;;;no;\n")
    parsed = parse_csv(text)
    assert parsed.columns["social_media"] == "Facebook" and parsed.columns["mis_id"] == "MIS ID"
    [amy] = parsed.rows
    assert (amy.surname, amy.year, amy.given_by, str(amy.given_on), str(amy.review_on)) == (
        '=HYPERLINK("x")', "4", "+44 7700 900123", "2025-09-01", "2027-08-31")  # formulas kept as text, never evaluated
    assert amy.consents["website"] == "granted" and amy.consents["social_media"] == "refused"
    assert amy.consents["newsletter"] == "not_asked"
    messages = {(e.line, e.message) for e in parsed.errors}
    not_a_value = "School website: \u201cmaybe\u201d is not a consent value (use Yes, No or leave it empty for not asked)"
    assert (3, not_a_value) in messages
    assert (3, "Consent date \u201c31/02/2025\u201d is not a date (use dd/mm/yyyy)") in messages
    assert (3, "Review date \u201ctomorrow\u201d is not a date (use dd/mm/yyyy)") in messages
    assert any(line == 3 and "no reason" in m for line, m in messages)
    assert (4, "MIS ID \u201cm1\u201d is also on line 2") in messages
    assert (6, "Legal Surname is empty") in messages and (6, "Reg group / Class is empty") in messages
    assert not any(line == 5 for line, _ in messages)  # blank lines are skipped


def test_missing_columns_are_reported_on_the_header_line() -> None:
    parsed = parse_csv("Name,Class,Website\nAmy Lee,4B,Yes\n")
    assert {e.message for e in parsed.errors} == {
        "Missing column: MIS ID (or UPN / Admission No)", "Missing column: Legal Surname", "Missing column: Forename",
        "Missing column: Year"}
    assert all(e.line == 1 for e in parsed.errors) and parsed.rows == []
    assert parse_csv("").errors[0].message.startswith("The file is empty")


async def test_malformed_csv_gives_a_per_row_report_and_changes_nothing(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser
) -> None:
    bad = SAMPLE.read_text().replace("04/09/2025", "2025/09/04", 1).replace("Z801100000002", "Z801100000001", 1)
    replies = await teams.send(csv_message(teams, dpo_a, data_uri(bad), name="export.csv"))
    shown = texts(replies)
    assert "Pupil import preview: export.csv" in shown and "2 problem(s)" in shown
    assert "Line 2" in shown and "Consent date \u201c2025/09/04\u201d is not a date" in shown
    assert "Line 3" in shown and "is also on line 2" in shown
    assert "Apply" not in choices(replies)
    assert await count(runtime, Pupil) == 0
    [imported] = await rows(runtime, PupilImport)
    assert (imported.state, imported.content, imported.error_count) == ("rejected", "", 2)
    replies = await teams.press(dpo_a, {"cmd": "consent.import_apply", "import": imported.id})
    assert "nothing can be applied" in texts(replies) and await count(runtime, Pupil) == 0


async def test_preview_then_cancel_changes_nothing_and_forgets_the_file(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser
) -> None:
    replies = await teams.send(csv_message(teams, dpo_a, data_uri(SAMPLE.read_text())))
    assert "New pupils" in texts(replies) and '"value": "40"' in texts(replies)
    assert await count(runtime, Pupil) == 0
    assert "nothing changed" in texts(await teams.press(dpo_a, button(replies, "Cancel")))
    assert "already cancelled" in texts(await teams.press(dpo_a, button(replies, "Apply")))
    assert await count(runtime, Pupil) == 0 and (await rows(runtime, PupilImport))[0].content == ""


async def test_five_thousand_rows_from_a_teams_file_report_errors_then_apply(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, files: FileServer
) -> None:
    started = time.perf_counter()
    replies = await teams.send(csv_message(teams, dpo_a, files.url("bad.csv", big_csv(5000, bad_every=1000).encode()),
                                           teams_file=True, name="bad.csv"))
    preview_seconds = time.perf_counter() - started
    shown = texts(replies)
    assert "5,001 rows read" in shown and "6 problem(s)" in shown, shown[:500]
    assert "Line 1001" in shown and "Line 5002" in shown and "Apply" not in choices(replies)
    assert preview_seconds < 10, preview_seconds
    assert await count(runtime, Pupil) == 0

    replies = await teams.send(csv_message(teams, dpo_a, files.url("good.csv", big_csv(5000).encode()), teams_file=True))
    assert '"value": "5,000"' in texts(replies)
    started = time.perf_counter()
    applied = await teams.press(dpo_a, button(replies, "Apply"))
    apply_seconds = time.perf_counter() - started
    assert "Pupil register updated" in texts(applied) and apply_seconds < 15, apply_seconds
    assert await count(runtime, Pupil) == 5000 and await count(runtime, PupilConsent) == 10000
    print(f"\n5,000 rows: preview {preview_seconds:.2f} s, apply {apply_seconds:.2f} s")


async def test_reimport_updates_marks_leavers_and_withdrawals_open_removals(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith")
    await check_and_post(teams, staff_a, "Jack Jones")
    lines = SAMPLE.read_text().splitlines()
    lines[1] = lines[1].replace("Yes,Yes,Yes,Yes,Yes,Mother", "Yes,No,Yes,Yes,Yes,Mother")  # Olivia: social media withdrawn
    lines = [line for line in lines if not line.startswith("Z801100000002,")]  # Jack has left
    lines[3] = lines[3].replace(",4B,", ",5C,")
    replies = await teams.send(csv_message(teams, dpo_a, data_uri("\n".join(lines) + "\n")))
    shown = texts(replies)
    for label, value in (("Updated", "2"), ("Unchanged", "37"), ("Leavers (marked left, not deleted)", "1"),
                         ("Consents withdrawn", "1"), ("New pupils", "0")):
        assert f'"title": "{label}", "value": "{value}"' in shown, label
    assert "Jack Jones (Year 4, 4B)" in shown
    applied = await teams.press(dpo_a, button(replies, "Apply"))
    assert "2 posted image(s) must now come down" in texts(applied)
    assert sorted(t.reason for t in await tasks(runtime)) == ["left", "withdrawn"]
    assert await count(runtime, Pupil) == 40


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00binary-xlsx", "isn't a CSV file"),
        ("UPN,Legal Surname\nZ1,M\xfcller\n".encode("latin-1"), "isn't UTF-8"),
        (b"UPN,Legal Surname\n" + b"Z1,Smith\n" * 300_000, "too big"),
    ],
)
async def test_hostile_files_are_refused_and_nothing_is_stored(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, files: FileServer, body: bytes, message: str
) -> None:
    replies = await teams.send(csv_message(teams, dpo_a, files.url("f.csv", body), teams_file=True))
    assert message in texts(replies)
    assert await count(runtime, PupilImport) == 0 and await count(runtime, Pupil) == 0


async def test_a_missing_download_and_staff_imports_are_refused(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser, files: FileServer
) -> None:
    replies = await teams.send(csv_message(teams, dpo_a, str(files.server.make_url("/gone.csv")), teams_file=True))
    assert "I couldn't download the file" in texts(replies)
    replies = await teams.send(csv_message(teams, staff_a, data_uri(SAMPLE.read_text())))
    assert "Only your school's DPO" in texts(replies)


async def test_import_asks_for_the_file_when_none_is_attached(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser) -> None:
    replies = await teams.say(dpo_a, "import pupils")
    assert "Attach the CSV file" in texts(replies)
    activity = csv_message(teams, dpo_a, data_uri(SAMPLE.read_text()), text="")
    replies = await teams.send(activity)
    assert "Pupil import preview" in texts(replies)
    await teams.press(dpo_a, button(replies, "Apply"))
    assert await count(runtime, Pupil) == 40


def test_command_line_previews_then_applies(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "services.consent.pupil_import", str(SAMPLE), "--tenant", "AAAA-1"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    preview = run()
    assert preview.returncode == 0 and "new: 40" in preview.stdout and "This was a preview" in preview.stdout
    applied = run("--apply")
    assert applied.returncode == 0 and "Applied" in applied.stdout
    again = run()
    assert "unchanged: 40" in again.stdout and "new: 0" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("UPN,Surname\n1,x\n")
    broken = subprocess.run([*command[:3], str(bad), "--tenant", "aaaa-1", "--apply"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1 and "Missing column: Forename" in broken.stdout


async def test_sample_file_is_valid() -> None:
    parsed = await asyncio.to_thread(parse_csv, SAMPLE.read_text())
    assert parsed.errors == [] and len(parsed.rows) == 40
    assert len({r.class_name for r in parsed.rows}) >= 5 and sum(bool(r.never) for r in parsed.rows) == 2
