"""The per-school pupil index is kept between turns, and rebuilt once any committed change touches pupils."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlmodel import col

from services.consent.pupil_search import load_index
from storage.consent_models import Pupil
from storage.db import SessionFactory, create_schema, make_engine, make_session_factory

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the same instant for every change: no timestamp can tell them apart
LATER = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
SCHOOL = "school-cache"


def pupil(mis_id: str, forename: str, surname: str) -> dict[str, object]:
    return {"tenant_id": SCHOOL, "mis_id": mis_id, "forename": forename, "legal_surname": surname, "preferred_name": "",
            "year_group": "4", "class_name": "4B", "created_at": NOW, "updated_at": NOW}


async def open_register(url: str, *pupils: dict[str, object]) -> tuple[SessionFactory, object]:
    engine = make_engine(url)
    await create_schema(engine)
    sessions = make_session_factory(engine)
    async with sessions() as session:
        await session.execute(insert(Pupil), list(pupils))
        await session.commit()
    return sessions, engine


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[SessionFactory]:
    factory, engine = await open_register(db_url, pupil("P1", "Olivia", "Smith"), pupil("P2", "Noah", "Jones"))
    yield factory
    await engine.dispose()  # type: ignore[attr-defined]


async def labels(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        return [ref.label for ref in (await load_index(session, tenant_id=SCHOOL)).refs]


async def test_an_unchanged_register_is_not_rebuilt(sessions: SessionFactory) -> None:
    async with sessions() as session:
        first = await load_index(session, tenant_id=SCHOOL)
        assert await load_index(session, tenant_id=SCHOOL) is first
        await session.execute(update(Pupil).where(col(Pupil.mis_id) == "P1").values(forename="Changed"))
        await session.rollback()  # nothing committed: still current
        assert await load_index(session, tenant_id=SCHOOL) is first


async def test_an_orm_change_is_seen_at_once(sessions: SessionFactory) -> None:
    await labels(sessions)
    async with sessions() as session:
        olivia = (await session.execute(select(Pupil).where(col(Pupil.mis_id) == "P1"))).scalar_one()
        olivia.left_at = NOW  # updated_at untouched
        await session.commit()
    assert any("left" in label.lower() for label in await labels(sessions))


async def test_bulk_inserts_updates_and_deletes_are_seen_at_once(sessions: SessionFactory) -> None:
    await labels(sessions)
    async with sessions() as session:
        await session.execute(insert(Pupil), [pupil("P3", "Amelia", "Brown")])
        await session.commit()
    assert any(label.startswith("Amelia Brown") for label in await labels(sessions))
    async with sessions() as session:
        await session.execute(update(Pupil).where(col(Pupil.mis_id) == "P2").values(forename="Oliver"))
        await session.commit()
    assert any(label.startswith("Oliver Jones") for label in await labels(sessions))
    async with sessions() as session:
        await session.execute(delete(Pupil).where(col(Pupil.mis_id) == "P1"))
        await session.commit()
    assert not any(label.startswith("Olivia") for label in await labels(sessions))


async def test_another_database_has_its_own_index(sessions: SessionFactory, tmp_path: Path) -> None:
    await labels(sessions)
    other, engine = await open_register(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", pupil("P9", "Isla", "Green"))
    assert [label.split(" (")[0] for label in await labels(other)] == ["Isla Green"]
    await engine.dispose()  # type: ignore[attr-defined]


async def test_another_process_change_is_seen_at_once(sessions: SessionFactory, db_url: str) -> None:
    """A change made on another connection without this process's sessions (as another app process makes it)."""
    await labels(sessions)
    other = make_engine(db_url)
    async with other.begin() as conn:  # Core on its own engine: this process's change counter never hears of it
        await conn.execute(update(Pupil).where(col(Pupil.mis_id) == "P2").values(forename="Oliver", updated_at=LATER))
    assert any(label.startswith("Oliver Jones") for label in await labels(sessions))
    async with other.begin() as conn:
        await conn.execute(insert(Pupil), [{**pupil("P4", "Isla", "Green"), "updated_at": LATER + timedelta(seconds=1)}])
    assert any(label.startswith("Isla Green") for label in await labels(sessions))
    await other.dispose()
