"""Importing pupils and consents from an MIS CSV: download, preview what would change, apply all or nothing.

Command line: python -m services.consent.pupil_import FILE --tenant TENANT_ID [--apply]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from config import Settings
from services import audit
from services.clock import system_clock
from services.consent.pupil_csv import ImportRow, Parsed, RowError, parse_csv
from services.consent.pupil_files import decode_csv, too_big
from services.consent.removals import reconcile
from services.consent.rules import pupil_label
from services.dates import format_uk
from services.errors import DomainError, NotAllowed, Outdated
from services.identity import Actor
from storage.consent_models import ConsentState, Pupil, PupilConsent, PupilImport
from storage.db import create_schema, make_engine, make_session_factory, rowcount

log = logging.getLogger(__name__)

IMPORT = "pupil_import"
MAX_PREVIEWS = 3  # previews kept per school awaiting Apply (each holds its file); older ones are cancelled
ConsentValues = tuple[str, str, date | None, date | None]


@dataclass
class Plan:
    """What applying the file would change in the register."""

    new: list[ImportRow]
    updated: list[tuple[Pupil, ImportRow]]
    unchanged: int
    leavers: list[Pupil]
    withdrawals: int  # pupil/purpose consents going from granted to not granted
    never_set: int
    never_cleared: int
    register_size: int  # pupils on the register before the import

    def summary(self) -> dict[str, int]:
        """Counts only (kept with the import)."""
        return {"new": len(self.new), "updated": len(self.updated), "unchanged": self.unchanged, "leavers": len(self.leavers),
                "withdrawals": self.withdrawals, "never_set": self.never_set, "never_cleared": self.never_cleared}


@dataclass(frozen=True)
class Preview:
    """A stored import awaiting Apply, or the errors that stop it."""

    import_id: int
    file_name: str
    rows: int
    errors: list[RowError]
    summary: dict[str, int]
    leaver_labels: list[str]
    register_size: int


def _consent_values(old: PupilConsent | None, state: ConsentState, row: ImportRow, columns: dict[str, str]) -> ConsentValues:
    """The consent as it would be after import: columns the file lacks keep their old values."""
    was = (old.given_by, old.given_on, old.review_on) if old else ("", None, None)
    return (
        state,
        row.given_by if "given_by" in columns and row.given_by is not None else was[0],
        row.given_on if "given_on" in columns else was[1],
        row.review_on if "review_on" in columns else was[2],
    )


def _current(old: PupilConsent | None) -> ConsentValues:
    return (old.state, old.given_by, old.given_on, old.review_on) if old else (ConsentState.NOT_ASKED, "", None, None)


def _pupil_values(pupil: Pupil) -> tuple[object, ...]:
    return (pupil.legal_surname, pupil.forename, pupil.preferred_name, pupil.year_group, pupil.class_name,
            pupil.never_publish, pupil.never_publish_reason, pupil.left_at is None)


def _row_values(row: ImportRow, pupil: Pupil) -> tuple[object, ...]:
    never = (row.never, row.never_reason or "") if row.never is not None else (pupil.never_publish, pupil.never_publish_reason)
    return (row.surname, row.forename, row.preferred, row.year, row.class_name, *never, True)


async def _register(session: AsyncSession, tenant_id: str) -> tuple[list[Pupil], dict[int, dict[str, PupilConsent]]]:
    pupils = list((await session.execute(select(Pupil).where(col(Pupil.tenant_id) == tenant_id))).scalars())
    consents: dict[int, dict[str, PupilConsent]] = {}
    for consent in (await session.execute(select(PupilConsent).where(col(PupilConsent.tenant_id) == tenant_id))).scalars():
        consents.setdefault(consent.pupil_id, {})[consent.purpose] = consent
    return pupils, consents


async def plan_import(
    session: AsyncSession, *, tenant_id: str, parsed: Parsed
) -> tuple[Plan, dict[int, dict[str, PupilConsent]]]:
    """Compare the file with the school's register (nothing is changed); the comparison runs off the event loop."""
    pupils, consents = await _register(session, tenant_id)
    return await asyncio.to_thread(_plan, pupils, consents, parsed), consents


def _plan(pupils: list[Pupil], consents: dict[int, dict[str, PupilConsent]], parsed: Parsed) -> Plan:
    by_key = {p.mis_id.upper(): p for p in pupils}
    plan = Plan([], [], 0, [], 0, 0, 0, len(pupils))
    for row in parsed.rows:
        pupil = by_key.get(row.key)
        if pupil is None:
            plan.new.append(row)
            continue
        had = consents.get(int(pupil.id or 0), {})
        after = {p: _consent_values(had.get(p), s, row, parsed.columns) for p, s in row.consents.items()}
        before = {p: _current(had.get(p)) for p in row.consents}
        plan.withdrawals += sum(1 for p in row.consents if before[p][0] == ConsentState.GRANTED != after[p][0])
        plan.never_set += int(bool(row.never) and not pupil.never_publish)
        plan.never_cleared += int(row.never is False and pupil.never_publish)
        if _pupil_values(pupil) != _row_values(row, pupil) or before != after:
            plan.updated.append((pupil, row))
        else:
            plan.unchanged += 1
    in_file = {row.key for row in parsed.rows}
    plan.leavers = [p for p in pupils if p.left_at is None and p.mis_id.upper() not in in_file]
    return plan


def _consent_changes(pupil_id: int, tenant_id: str, row: ImportRow, had: dict[str, PupilConsent], columns: dict[str, str],
                     updated_by: str, now: datetime) -> list[dict[str, Any]]:
    """Update this pupil's existing consent rows in place; return the rows to insert."""
    inserts: list[dict[str, Any]] = []
    for purpose, state in row.consents.items():
        consent = had.get(purpose)
        values = _consent_values(consent, state, row, columns)
        if values == _current(consent):
            continue
        fields = {**dict(zip(("state", "given_by", "given_on", "review_on"), values, strict=True)),
                  "updated_at": now, "updated_by": updated_by}
        if consent is None:
            inserts.append({"tenant_id": tenant_id, "pupil_id": pupil_id, "purpose": purpose, **fields})
        else:
            for name, value in fields.items():
                setattr(consent, name, value)
    return inserts


def _pupil_fields(row: ImportRow, now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {"legal_surname": row.surname, "forename": row.forename, "preferred_name": row.preferred,
                              "year_group": row.year, "class_name": row.class_name, "left_at": None, "updated_at": now}
    if row.never is not None:
        fields.update(never_publish=row.never, never_publish_reason=row.never_reason or "")
    return fields


async def apply_parsed(
    session: AsyncSession, *, tenant_id: str, parsed: Parsed, actor_aad_id: str, now: datetime
) -> tuple[Plan, int]:
    """Apply a file with no errors: add, update, mark leavers, open removal tasks. Returns (plan, tasks opened).
    Does not commit. New rows go in as bulk inserts (thousands of pupils in a second or two)."""
    if parsed.errors:
        raise DomainError(f"The file has {len(parsed.errors)} error(s), so nothing was changed. Fix them and import again.")
    plan, consents = await plan_import(session, tenant_id=tenant_id, parsed=parsed)
    ids: dict[str, int] = {}
    if plan.new:
        added = await session.execute(insert(Pupil).returning(col(Pupil.id), col(Pupil.mis_id)), [
            {"tenant_id": tenant_id, "mis_id": r.mis_id, "created_at": now, "never_publish": False, "never_publish_reason": "",
             **_pupil_fields(r, now)} for r in plan.new])
        ids = {str(mis_id).upper(): int(pupil_id) for pupil_id, mis_id in added.all()}
    for pupil, row in plan.updated:
        for name, value in _pupil_fields(row, now).items():
            setattr(pupil, name, value)
    inserts = [c for r in plan.new for c in _consent_changes(ids[r.key], tenant_id, r, {}, parsed.columns, actor_aad_id, now)]
    inserts += [c for p, r in plan.updated
                for c in _consent_changes(int(p.id or 0), tenant_id, r, consents.get(int(p.id or 0), {}), parsed.columns,
                                          actor_aad_id, now)]
    if inserts:
        await session.execute(insert(PupilConsent), inserts)
    for pupil in plan.leavers:
        pupil.left_at, pupil.updated_at = now, now
    await session.flush()
    changed = [int(p.id or 0) for p, _ in plan.updated] + [int(p.id or 0) for p in plan.leavers]
    tasks = await reconcile(session, tenant_id=tenant_id, pupil_ids=changed, actor_aad_id=actor_aad_id, now=now)
    return plan, len(tasks)


def _require_dpo(actor: Actor) -> None:
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can import pupils.")


async def preview_import(session: AsyncSession, *, actor: Actor, file_name: str, text: str, now: datetime) -> Preview:
    """Read the file and keep it for Apply; nothing in the register changes. Commits (the pending import only)."""
    _require_dpo(actor)
    parsed = await asyncio.to_thread(parse_csv, text)  # a big file takes a while: not on the event loop
    plan, _ = await plan_import(session, tenant_id=actor.tenant_id, parsed=parsed)
    row = PupilImport(
        tenant_id=actor.tenant_id, uploaded_by=actor.aad_id, file_name=file_name[:200], content="" if parsed.errors else text,
        summary=plan.summary(), error_count=len(parsed.errors), state="rejected" if parsed.errors else "preview", created_at=now,
    )
    session.add(row)
    await session.flush()
    await _cancel_older_previews(session, actor.tenant_id, now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="pupils.import_previewed", now=now,
                 subject_type=IMPORT, subject_id=int(row.id or 0))
    await session.commit()
    log.info("pupil import %s previewed: %s rows, %s errors", row.id, len(parsed.rows), len(parsed.errors))
    return Preview(int(row.id or 0), row.file_name, parsed.total, parsed.errors, plan.summary(),
                   [pupil_label(p) for p in plan.leavers[:10]], plan.register_size)


async def _cancel_older_previews(session: AsyncSession, tenant_id: str, now: datetime) -> None:
    """Keep only the newest MAX_PREVIEWS previews of a school; the older ones are cancelled and their files forgotten."""
    older = select(col(PupilImport.id)).where(col(PupilImport.tenant_id) == tenant_id, col(PupilImport.state) == "preview")
    stale = list((await session.execute(older.order_by(col(PupilImport.id).desc()).offset(MAX_PREVIEWS))).scalars())
    if stale:
        await session.execute(update(PupilImport).where(col(PupilImport.id).in_(stale)).values(
            state="cancelled", content="", decided_at=now))


async def _pending(session: AsyncSession, actor: Actor, import_id: int) -> PupilImport:
    _require_dpo(actor)
    row = await session.get(PupilImport, import_id)
    if row is None or row.tenant_id != actor.tenant_id:
        raise NotAllowed()
    if row.state == "rejected":
        raise DomainError("That file had errors, so nothing can be applied from it. Fix them and send the file again.")
    if row.state != "preview":
        when = f" on {format_uk(row.decided_at)}" if row.decided_at else ""
        raise Outdated(f"That import was already {row.state}{when}, so nothing was changed. "
                       "Send the file again to start a new one.")
    return row


async def _claim(session: AsyncSession, actor: Actor, import_id: int, state: str) -> PupilImport:
    """Take a previewed import for this turn; a second Apply or Cancel, even at the same moment, finds it taken."""
    row = await _pending(session, actor, import_id)
    taken = await session.execute(update(PupilImport).where(
        col(PupilImport.id) == import_id, col(PupilImport.state) == "preview").values(state=state))
    if rowcount(taken) != 1:
        raise DomainError("That import has just been applied or cancelled. Send the file again to start a new one.")
    return row


async def apply_import(session: AsyncSession, *, actor: Actor, import_id: int, now: datetime) -> tuple[dict[str, int], int]:
    """Apply a previewed import in one transaction; returns (counts, removal tasks opened). Commits."""
    row = await _claim(session, actor, import_id, "applying")
    parsed = await asyncio.to_thread(parse_csv, row.content)
    plan, tasks = await apply_parsed(session, tenant_id=actor.tenant_id, parsed=parsed, actor_aad_id=actor.aad_id, now=now)
    row.state, row.content, row.decided_at, row.summary = "applied", "", now, plan.summary()
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="pupils.imported", now=now,
                 subject_type=IMPORT, subject_id=import_id)
    await session.commit()
    log.info("pupil import %s applied: %s, %s removal tasks", import_id, plan.summary(), tasks)
    return plan.summary(), tasks


async def cancel_import(session: AsyncSession, *, actor: Actor, import_id: int, now: datetime) -> None:
    """Drop a previewed import (the file text is deleted). Commits."""
    row = await _claim(session, actor, import_id, "cancelled")
    row.state, row.content, row.decided_at = "cancelled", "", now
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="pupils.import_cancelled", now=now,
                 subject_type=IMPORT, subject_id=import_id)
    await session.commit()


def preview_lines(parsed: Parsed, plan: Plan) -> list[str]:
    """The command-line preview."""
    lines = [f"Rows read: {parsed.total}", *(f"  {k}: {v}" for k, v in plan.summary().items())]
    if parsed.errors:
        lines += [f"Errors ({len(parsed.errors)}) - nothing will change until they are fixed:"]
        lines += [f"  line {e.line}: {e.message}" for e in parsed.errors]
    return lines


async def _cli(file: Path, tenant_id: str, apply: bool) -> int:
    settings = Settings()
    data = file.read_bytes()
    if len(data) > settings.pupil_import_max_bytes:
        raise too_big(settings.pupil_import_max_bytes)
    parsed = parse_csv(decode_csv(data))
    engine = make_engine(settings.database_url)
    await create_schema(engine)
    try:
        async with make_session_factory(engine)() as session:
            plan, _ = await plan_import(session, tenant_id=tenant_id, parsed=parsed)
            print("\n".join(preview_lines(parsed, plan)))
            if parsed.errors:
                return 1
            if not apply:
                print("This was a preview: nothing changed. Run again with --apply to make these changes.")
                return 0
            _, tasks = await apply_parsed(session, tenant_id=tenant_id, parsed=parsed, actor_aad_id="cli", now=system_clock())
            audit.record(session, tenant_id=tenant_id, actor_aad_id="cli", action="pupils.imported", now=system_clock())
            await session.commit()
            print(f"Applied. Removal tasks opened: {tasks}.")
            return 0
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Preview (and with --apply, apply) an import from the command line."""
    parser = argparse.ArgumentParser(prog="python -m services.consent.pupil_import", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--tenant", required=True, help="the school's Microsoft 365 tenant id")
    parser.add_argument("--apply", action="store_true", help="apply the changes (default: preview only)")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_cli(args.file, args.tenant.strip().lower(), args.apply))
    except DomainError as error:
        print(str(error), file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run the module under its own name, not as __main__, so libraries' deprecation notices stay hidden as usual.
    from services.consent.pupil_import import main as run

    sys.exit(run())
