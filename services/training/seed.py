"""The seed catalogue (data/training_sessions.json), loaded once into an empty catalogue.

Dates are UK local time: either fixed ("start": "2025-01-29 15:30") or, for the example sessions that keep a
new install bookable in any year, relative to the day the file is loaded ("relative_days": 30, "time": "15:30";
a weekend moves to the Monday after).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.training_models import TrainingFormat, TrainingSession

log = logging.getLogger(__name__)

DEFAULT_SEED = Path(__file__).resolve().parents[2] / "data" / "training_sessions.json"


class SeedError(ValueError):
    """The seed file is not usable; the message says where."""


def _local_start(entry: dict[str, Any], *, today: date, zone: ZoneInfo) -> datetime:
    if "start" in entry:
        return datetime.strptime(str(entry["start"]), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    day = today + timedelta(days=int(entry["relative_days"]))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time.fromisoformat(str(entry["time"])), tzinfo=zone)


def _session(entry: dict[str, Any], *, now: datetime, zone: ZoneInfo) -> TrainingSession:
    start = _local_start(entry, today=now.astimezone(zone).date(), zone=zone).astimezone(UTC)
    fmt = TrainingFormat(entry["format"])
    if fmt == TrainingFormat.IN_PERSON and not entry.get("venue"):
        raise SeedError("an in-person session needs a venue")
    capacity = int(entry["capacity"])
    if capacity < 1:
        raise SeedError("capacity must be at least 1")
    return TrainingSession(
        seed_key=str(entry["key"])[:80], title=str(entry["title"])[:200], description=str(entry.get("description", "")),
        starts_at=start, ends_at=start + timedelta(minutes=int(entry["minutes"])),
        booking_closes_at=start - timedelta(hours=float(entry.get("closes_hours_before", 24))),
        format=fmt, join_url=str(entry.get("join_url", "")) if fmt == TrainingFormat.ONLINE else "",
        venue=str(entry.get("venue", "")) if fmt == TrainingFormat.IN_PERSON else "", capacity=capacity,
        organiser_name=str(entry.get("organiser_name", "")), organiser_email=str(entry.get("organiser_email", "")),
        is_example=bool(entry.get("example", False)), created_at=now, updated_at=now,
    )


def read_seed(path: Path, *, now: datetime, tz: str = "Europe/London") -> list[TrainingSession]:
    """Pure: the sessions in a seed file (defaults applied, times in UTC), or SeedError naming the entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SeedError(f"{path}: {error}") from error
    defaults = data.get("defaults", {}) if isinstance(data, dict) else {}
    entries = data.get("sessions", []) if isinstance(data, dict) else []
    sessions: list[TrainingSession] = []
    for number, entry in enumerate(entries, start=1):
        try:
            sessions.append(_session({**defaults, **entry}, now=now, zone=ZoneInfo(tz)))
        except (KeyError, TypeError, ValueError) as error:
            raise SeedError(f"{path}: session {number}: {error!r}") from error
    keys = [s.seed_key for s in sessions]
    if len(set(keys)) != len(keys):
        raise SeedError(f"{path}: every session needs its own \"key\"")
    return sessions


async def load_if_empty(session: AsyncSession, *, path: Path, now: datetime, tz: str = "Europe/London") -> int:
    """Load the seed file when the catalogue has no sessions at all; returns how many were added. Commits."""
    if (await session.execute(select(col(TrainingSession.id)).limit(1))).first() is not None:
        return 0
    sessions = read_seed(path, now=now, tz=tz)
    session.add_all(sessions)
    try:
        await session.commit()
    except IntegrityError:  # another process or turn loaded it at the same moment
        await session.rollback()
        return 0
    log.info("loaded %s training sessions from the seed file", len(sessions))
    return len(sessions)
