"""Shared by the training tests: a small seed catalogue, an organiser, and helpers to read bookings and invites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from icalendar import Calendar
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from config import Settings
from storage.training_models import TrainingBooking, TrainingSession
from tests.support.card_schema import assert_valid_card  # noqa: F401  (re-exported for training tests)
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import Received

HUB = "cccccccc-0000-4000-8000-00000000000c"  # the data hub that runs the server and the catalogue
ORGANISER = TeamsUser("Clare Wilson", "0c0c0c0c-0000-4000-8000-0000000000c1", HUB)
JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_test%40thread.v2/0"

# Loaded on the conftest clock's day, Wed 25 Nov 2026: relative dates are Wednesdays too.
SEED: dict[str, Any] = {
    "defaults": {"minutes": 90, "capacity": 3, "organiser_name": "Education Data Hub", "organiser_email": "training@example.org",
                 "description": "What is AI? Regulation and the regulators. DPIAs."},
    "sessions": [
        {"key": "past", "title": "Past session", "start": "2025-01-29 15:30", "format": "online", "join_url": JOIN_URL},
        {"key": "closed", "title": "Closed session", "relative_days": 0, "time": "20:00", "format": "online",
         "join_url": JOIN_URL},
        {"key": "online", "title": "AI for senior leaders (online)", "relative_days": 14, "time": "15:30", "format": "online",
         "join_url": JOIN_URL},
        {"key": "venue", "title": "AI for senior leaders (Chesterfield)", "relative_days": 21, "time": "16:00",
         "format": "in_person", "venue": "The Quad, Chesterfield"},
        {"key": "tiny", "title": "One-seat session", "relative_days": 28, "time": "15:30", "format": "online",
         "join_url": JOIN_URL, "capacity": 1},
    ],
}


def training_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The conftest settings plus an organiser and the small seed catalogue."""
    seed = tmp_path / "training_seed.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    return settings.model_copy(update={"organiser_aad_ids": [f"{HUB}:{ORGANISER.aad_id}"], "hub_tenant_id": HUB,
                                       "training_seed_file": str(seed)})


async def session_by_key(runtime: Runtime, key: str) -> TrainingSession:
    """A seeded session (the catalogue must have been used once)."""
    async with runtime.deps.sessions() as session:
        return (await session.execute(select(TrainingSession).where(col(TrainingSession.seed_key) == key))).scalar_one()


async def session_titled(runtime: Runtime, title: str) -> TrainingSession:
    """A session an organiser added in chat."""
    async with runtime.deps.sessions() as session:
        return (await session.execute(select(TrainingSession).where(col(TrainingSession.title) == title))).scalar_one()


async def bookings_of(runtime: Runtime, session_id: int) -> list[TrainingBooking]:
    """Every booking row of a session, oldest first."""
    async with runtime.deps.sessions() as session:
        rows = await session.execute(
            select(TrainingBooking).where(col(TrainingBooking.session_id) == session_id).order_by(col(TrainingBooking.id))
        )
        return list(rows.scalars())


async def book_via_chat(teams: TeamsClient, user: TeamsUser, session_id: int, role: str = "head_teacher") -> list[Received]:
    """Press the session's Book button, pick a role, confirm; returns the last turn's replies."""
    await teams.press(user, {"cmd": "training.book", "session_id": session_id})
    await teams.press(user, {"role": role})
    return await teams.press(user, {"confirm": "yes"})


async def calendars(teams: TeamsClient, user: TeamsUser, replies: list[Received]) -> list[Calendar]:
    """Every .ics file offered in the replies, allowed by `user`, uploaded and parsed back."""
    found = await teams.files(user, replies)
    assert all(name.endswith(".ics") for name, _ in found)
    return [Calendar.from_ical(content) for _, content in found]

