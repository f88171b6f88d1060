"""Section 3: fuzzy pupil-name lookup over a large trust's register (services/consent/pupil_search.py).

50,000 made-up pupils in one tenant (a trust is usually one Microsoft 365 tenant). Queries are real
names with one typo ("Olivai Smith"). Two figures: the lookup in a built index, and the whole lookup
as a turn does it (load the register from the database, build the index, look up).
"""

from __future__ import annotations

import importlib.util
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

FORENAMES = (
    "Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy Sienna Poppy Elsie "
    "Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda Maya Sophie Alice Emilia Isabelle Ruby Luna "
    "Maisie Aria Penelope Mila Bonnie Eva Hallie Eliza Ada Violet Esme Arabella Imogen Jessica Delilah Muhammad Noah "
    "Oliver George Leo Arthur Oscar Theodore Freddie Theo Archie Harry Henry Jack Charlie Alfie Finley Thomas Lucas "
    "Isaac Tommy Teddy Edward Jacob Hugo Albie Arlo Jude Reggie Ronnie Joshua Elijah Louie Mason Sonny Jaxon Rory "
    "Alexander Ezra Max Harrison Hunter Benjamin Frankie Samuel Albert Finn William Dylan Ethan Joseph Caleb Stanley"
).split()
_STEMS = ("Ash Black Brad Brook Burn Cart Chad Clay Cole Dal Dun Eld Fair Fen Hal Hart Hol Kings Lang Lock Mar Mill Nor Pen "
          "Rad Red Shel Stan Thorn Wal Whit Wood").split()
_ENDS = "ley ford field wood worth ton by ham well wick son man er bury combe shaw".split()
SURNAMES = tuple(stem + end for stem in _STEMS for end in _ENDS)
YEARS = ("R", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")
TENANT = "c0c0c0c0-0000-4000-8000-0000000000be"


@dataclass(frozen=True)
class ConsentOptions:
    """Register size and how many lookups to time."""

    pupils: int = 50_000
    lookups: int = 300  # in a built index
    full_lookups: int = 10  # load + build + look up, as a turn does
    seed: int = 7


@dataclass
class ConsentReport:
    """Latencies in ms and how often the intended pupil was offered."""

    options: ConsentOptions
    skipped: str = ""
    setup_seconds: float = 0.0
    index_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)
    found: int = 0
    offered: int = 0  # candidates shown, summed over lookups


def typo(word: str, rng: random.Random) -> str:
    """Swap two neighbouring letters inside the word (the commonest slip)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def register(opts: ConsentOptions, now: datetime) -> list[dict[str, object]]:
    """Made-up pupils with realistic clashes (shared forenames and surnames)."""
    rng = random.Random(opts.seed)
    rows = []
    for n in range(opts.pupils):
        year = YEARS[n % len(YEARS)]
        rows.append({
            "tenant_id": TENANT, "mis_id": f"P{n:06d}", "forename": rng.choice(FORENAMES),
            "legal_surname": rng.choice(SURNAMES), "preferred_name": "", "year_group": year,
            "class_name": f"{year}{'ABCD'[n % 4]}", "created_at": now, "updated_at": now,
        })
    return rows


async def bench_consent(opts: ConsentOptions, workdir: Path) -> ConsentReport:
    """Fill the register, then time lookups with typos."""
    report = ConsentReport(opts)
    if importlib.util.find_spec("services.consent.pupil_search") is None:
        report.skipped = "services/consent/pupil_search.py (the consent feature) is not built yet"
        return report
    from services.consent.pupil_search import load_index
    from storage.consent_models import Pupil
    from storage.db import create_schema, make_engine, make_session_factory

    engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'consent.db'}")
    started = time.monotonic()
    await create_schema(engine)
    sessions = make_session_factory(engine)
    rows = register(opts, datetime.now(UTC))
    async with sessions() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Pupil), rows[start : start + 5000])
        await session.commit()
        index = await load_index(session, tenant_id=TENANT)
    report.setup_seconds = time.monotonic() - started
    rng = random.Random(opts.seed + 1)
    row_of = {ref.id: n for n, ref in enumerate(index.refs)}  # refs come in insertion (id) order
    for n in range(opts.lookups + opts.full_lookups):
        target = rng.randrange(len(rows))
        forename, surname = str(rows[target]["forename"]), str(rows[target]["legal_surname"])
        said = f"{typo(forename, rng)} {surname}" if n % 2 else f"{forename} {typo(surname, rng)}"
        t0 = time.perf_counter()
        if n < opts.lookups:
            lookup = index.lookup(said)
            report.index_ms.append(1000 * (time.perf_counter() - t0))
        else:
            async with sessions() as session:
                lookup = (await load_index(session, tenant_id=TENANT)).lookup(said)
            report.full_ms.append(1000 * (time.perf_counter() - t0))
        report.found += int(any(row_of.get(ref.id) == target for ref in lookup.matches))
        report.offered += len(lookup.matches)
    await engine.dispose()
    return report
