"""Training services on a real database (SQLite, or PostgreSQL with tests/with_postgres.sh): seats under
concurrency, the waiting list, the reminder ledger, organiser changes, tenant scoping."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.runtime import Runtime
from config import Settings
from services.clock import SettableClock
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.training import booking as training
from services.training import catalogue
from services.training.seed import load_if_empty
from storage.models import Role, RoleGrant
from storage.reminder_models import Reminder, ReminderState
from storage.training_models import BookingStatus, TrainingBooking, TrainingSession
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.support.training import HUB, ORGANISER, SEED, bookings_of, session_by_key, training_settings

MEGAN = Actor(SCHOOL_A, "a-megan", "Megan Bowen")
BEN = Actor(SCHOOL_B, "b-ben", "Ben Carter")
CLARE = Actor(HUB, ORGANISER.aad_id, ORGANISER.name, frozenset({Role.ORGANISER}))


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


@pytest.fixture
async def catalogue_ready(runtime: Runtime) -> None:
    async with runtime.deps.sessions() as session:
        await load_if_empty(session, path=Path(runtime.settings.training_seed_file), now=runtime.deps.clock())


async def book(runtime: Runtime, actor: Actor, session_id: int, *, allow_waiting: bool = True) -> TrainingBooking:
    async with runtime.deps.sessions() as session:
        return await training.book(session, actor=actor, session_id=session_id, role="other", now=runtime.deps.clock(),
                                   allow_waiting=allow_waiting)


async def pending(runtime: Runtime, **where: object) -> list[Reminder]:
    async with runtime.deps.sessions() as session:
        query = (
            select(Reminder).where(col(Reminder.state) == ReminderState.PENDING).order_by(col(Reminder.due_at), col(Reminder.id))
        )
        for name, value in where.items():
            query = query.where(getattr(Reminder, name) == value)
        return list((await session.execute(query)).scalars())


async def test_seed_loads_once_even_when_raced(runtime: Runtime) -> None:
    async def load() -> int:
        async with runtime.deps.sessions() as session:
            return await load_if_empty(session, path=Path(runtime.settings.training_seed_file), now=runtime.deps.clock())

    added = await asyncio.gather(*(load() for _ in range(4)))
    assert await load() == 0
    async with runtime.deps.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(TrainingSession))).scalar_one() == len(SEED["sessions"])
    assert sum(added) == len(SEED["sessions"])


@pytest.mark.usefixtures("catalogue_ready")
async def test_fifty_people_racing_for_the_last_three_seats(runtime: Runtime) -> None:
    target = await session_by_key(runtime, "venue")
    async with runtime.deps.sessions() as session:
        row = await session.get(TrainingSession, target.id)
        assert row is not None
        row.capacity = 5
        await session.commit()
    for n in range(2):
        await book(runtime, Actor(SCHOOL_A, f"early-{n}", "Early"), target.id or 0)
    people = [Actor(SCHOOL_A if n % 2 else SCHOOL_B, f"racer-{n:02d}", f"Racer {n}") for n in range(50)]
    results = await asyncio.gather(*(book(runtime, person, target.id or 0) for person in people))
    statuses = [b.status for b in results]
    assert statuses.count(BookingStatus.BOOKED) == 3 and statuses.count(BookingStatus.WAITING) == 47
    rows = await bookings_of(runtime, target.id or 0)
    assert sum(b.status == BookingStatus.BOOKED for b in rows) == 5
    async with runtime.deps.sessions() as session:
        positions = [await training.waiting_position(session, b) for b in results if b.status == BookingStatus.WAITING]
    assert sorted(positions) == list(range(1, 48))
    # Reminders only for the three new seats (7 days and 1 day before an in-person session).
    assert len(await pending(runtime, kind="training.7d")) == 5


@pytest.mark.usefixtures("catalogue_ready")
async def test_the_same_person_racing_themselves_gets_one_booking(runtime: Runtime) -> None:
    target = await session_by_key(runtime, "online")
    outcomes = await asyncio.gather(*(book(runtime, MEGAN, target.id or 0) for _ in range(5)), return_exceptions=True)
    assert sum(isinstance(o, TrainingBooking) for o in outcomes) == 1
    refused = [o for o in outcomes if not isinstance(o, TrainingBooking)]
    assert all(isinstance(o, DomainError) and "already have a seat" in str(o) for o in refused)
    assert len(await bookings_of(runtime, target.id or 0)) == 1


@pytest.mark.usefixtures("catalogue_ready")
async def test_past_closed_and_cancelled_sessions_are_not_offered_or_bookable(runtime: Runtime) -> None:
    async with runtime.deps.sessions() as session:
        await catalogue.cancel_session(session, actor=CLARE, session_id=(await session_by_key(runtime, "venue")).id or 0,
                                       now=runtime.deps.clock())
        offered = {o.training.seed_key for o in await training.upcoming(session, now=runtime.deps.clock())}
    assert offered == {"online", "tiny"}
    for key, why in (("past", "already taken place"), ("closed", "closed on"), ("venue", "cancelled")):
        with pytest.raises(DomainError, match=why):
            await book(runtime, MEGAN, (await session_by_key(runtime, key)).id or 0)


@pytest.mark.usefixtures("catalogue_ready")
async def test_full_session_without_waiting_list_consent_is_refused(runtime: Runtime) -> None:
    tiny = await session_by_key(runtime, "tiny")
    await book(runtime, MEGAN, tiny.id or 0)
    with pytest.raises(training.SessionFull):
        await book(runtime, BEN, tiny.id or 0, allow_waiting=False)
    assert (await book(runtime, BEN, tiny.id or 0)).status == BookingStatus.WAITING


@pytest.mark.usefixtures("catalogue_ready")
async def test_reminders_for_a_seat_and_the_organisers(runtime: Runtime, clock: SettableClock) -> None:
    async with runtime.deps.sessions() as session:
        session.add(RoleGrant(tenant_id=HUB, aad_id=ORGANISER.aad_id, role=Role.ORGANISER, granted_by="test", granted_at=clock()))
        await session.commit()
    online = await session_by_key(runtime, "online")
    seat = await book(runtime, MEGAN, online.id or 0)
    mine = await pending(runtime, subject_type="training_booking", subject_id=str(seat.id))
    assert [(r.kind, r.due_at) for r in mine] == [
        ("training.7d", online.starts_at - timedelta(days=7)), ("training.1d", online.starts_at - timedelta(days=1)),
        ("training.1h", online.starts_at - timedelta(hours=1)),
    ]
    assert all(r.tenant_id == SCHOOL_A and r.recipient_aad_id == MEGAN.aad_id for r in mine)
    (closing,) = await pending(runtime, kind="training.closing")
    assert (closing.tenant_id, closing.recipient_aad_id, closing.due_at) == (HUB, ORGANISER.aad_id, online.booking_closes_at)
    await book(runtime, BEN, online.id or 0)  # organisers' reminder is not duplicated
    assert len(await pending(runtime, kind="training.closing")) == 1


@pytest.mark.usefixtures("catalogue_ready")
async def test_cancelling_promotes_the_first_waiting_and_moves_reminders(runtime: Runtime) -> None:
    tiny = await session_by_key(runtime, "tiny")
    seat = await book(runtime, MEGAN, tiny.id or 0)
    first, second = await book(runtime, BEN, tiny.id or 0), await book(runtime, Actor(SCHOOL_B, "b-2", "Second"), tiny.id or 0)
    assert first.status == second.status == BookingStatus.WAITING
    async with runtime.deps.sessions() as session:
        with pytest.raises(NotAllowed):
            await training.cancel_booking(session, actor=BEN, booking_id=seat.id or 0, now=runtime.deps.clock())
    async with runtime.deps.sessions() as session:
        done = await training.cancel_booking(session, actor=MEGAN, booking_id=seat.id or 0, now=runtime.deps.clock())
    assert done.was_booked and [b.id for b in done.promoted] == [first.id]
    assert not await pending(runtime, subject_id=str(seat.id))
    kinds = [r.kind for r in await pending(runtime, subject_id=str(first.id))]
    assert kinds[0] == "training.promoted" and {"training.7d", "training.1d", "training.1h"} <= set(kinds)
    async with runtime.deps.sessions() as session:
        assert await training.waiting_position(session, second) == 1
        with pytest.raises(DomainError, match="already cancelled"):
            await training.cancel_booking(session, actor=MEGAN, booking_id=seat.id or 0, now=runtime.deps.clock())


@pytest.mark.usefixtures("catalogue_ready")
async def test_a_new_time_reschedules_with_new_keys_and_more_seats_promote(runtime: Runtime) -> None:
    tiny = await session_by_key(runtime, "tiny")
    seat, waiting = await book(runtime, MEGAN, tiny.id or 0), await book(runtime, BEN, tiny.id or 0)
    old_keys = {r.key for r in await pending(runtime, subject_id=str(seat.id))}
    async with runtime.deps.sessions() as session:
        values = {**catalogue.form_values(tiny), "start": "24/12/2026 10:00", "end": "11:30", "capacity": "2"}
        draft = catalogue.read_draft(values, now=runtime.deps.clock())
        edit = await catalogue.edit_session(session, actor=CLARE, session_id=tiny.id or 0, draft=draft, now=runtime.deps.clock())
    assert edit.changed == ("start", "end") and edit.training.sequence == 1 and [b.id for b in edit.promoted] == [waiting.id]
    now_pending = await pending(runtime, subject_id=str(seat.id))
    assert not old_keys & {r.key for r in now_pending}
    assert {r.kind for r in now_pending} == {"training.7d", "training.1d", "training.1h", "training.changed"}
    assert min(r.due_at for r in now_pending if r.kind == "training.1h") == edit.training.starts_at - timedelta(hours=1)
    async with runtime.deps.sessions() as session:
        with pytest.raises(DomainError, match="can't go below 2"):
            await catalogue.edit_session(session, actor=CLARE, session_id=tiny.id or 0,
                                         draft=catalogue.read_draft({**values, "capacity": "1"}, now=runtime.deps.clock()),
                                         now=runtime.deps.clock())


@pytest.mark.usefixtures("catalogue_ready")
async def test_cancelling_a_session_tells_everyone_and_drops_their_reminders(runtime: Runtime) -> None:
    tiny = await session_by_key(runtime, "tiny")
    seat, waiting = await book(runtime, MEGAN, tiny.id or 0), await book(runtime, BEN, tiny.id or 0)
    async with runtime.deps.sessions() as session:
        told = await catalogue.cancel_session(session, actor=CLARE, session_id=tiny.id or 0, now=runtime.deps.clock())
    assert {b.id for b in told} == {seat.id, waiting.id}
    notices = await pending(runtime, kind="training.cancelled")
    assert [(r.subject_id, r.payload["had_seat"], r.due_at) for r in notices] == [
        (str(seat.id), True, runtime.deps.clock()), (str(waiting.id), False, runtime.deps.clock()),
    ]
    assert not await pending(runtime, kind="training.1d")
    assert all(b.status == BookingStatus.CANCELLED for b in await bookings_of(runtime, tiny.id or 0))


@pytest.mark.usefixtures("catalogue_ready")
async def test_catalogue_changes_are_for_organisers_only(runtime: Runtime) -> None:
    tiny = await session_by_key(runtime, "tiny")
    draft = catalogue.read_draft(catalogue.form_values(tiny), now=runtime.deps.clock())
    async with runtime.deps.sessions() as session:
        for attempt in (
            catalogue.add_session(session, actor=MEGAN, draft=draft, now=runtime.deps.clock()),
            catalogue.edit_session(session, actor=MEGAN, session_id=tiny.id or 0, draft=draft, now=runtime.deps.clock()),
            catalogue.cancel_session(session, actor=MEGAN, session_id=tiny.id or 0, now=runtime.deps.clock()),
            catalogue.attendees(session, actor=MEGAN, session_id=tiny.id or 0, hub_tenant_id=HUB),
        ):
            with pytest.raises(NotAllowed, match="only training organisers"):
                await attempt


@pytest.mark.usefixtures("catalogue_ready")
async def test_school_views_are_scoped_to_their_school(runtime: Runtime, clock: SettableClock) -> None:
    online, venue = await session_by_key(runtime, "online"), await session_by_key(runtime, "venue")
    await book(runtime, MEGAN, online.id or 0)
    await book(runtime, BEN, venue.id or 0)
    async with runtime.deps.sessions() as session:
        school_a = await training.bookings_for_tenant(session, tenant_id=SCHOOL_A, now=clock())
        day = await training.bookings_between(session, tenant_id=SCHOOL_B, start=venue.starts_at - timedelta(hours=16),
                                              end=venue.starts_at + timedelta(hours=8))
        nothing = await training.bookings_between(session, tenant_id=SCHOOL_A, start=venue.starts_at - timedelta(hours=16),
                                                  end=venue.starts_at + timedelta(hours=8))
        mine = await training.my_bookings(session, actor=BEN, now=clock())
    assert [(b.aad_id, s.seed_key) for b, s in school_a] == [(MEGAN.aad_id, "online")]
    assert [(b.aad_id, s.seed_key) for b, s in day] == [(BEN.aad_id, "venue")] and nothing == []
    assert [s.seed_key for _, s in mine] == ["venue"]
