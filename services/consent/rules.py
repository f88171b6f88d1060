"""Photo consent rules and the staff check: may these pupils appear in an image for this purpose?"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.dates import to_local
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from storage.consent_models import ConsentCheck, ConsentState, Pupil, PupilConsent, Purpose

log = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a pupil may or may not appear (staff see only this category)."""

    OK = "ok"
    NEVER_PUBLISH = "never_publish"
    LEFT = "left"
    NOT_ASKED = "not_asked"
    REFUSED = "refused"
    EXPIRED = "expired"
    NOT_ON_REGISTER = "not_on_register"  # a name the staff member confirmed matches nobody on the register


REASON_LABELS: dict[Reason, str] = {
    Reason.OK: "OK",
    Reason.NEVER_PUBLISH: "Must never be published",
    Reason.LEFT: "Has left the school",
    Reason.NOT_ASKED: "Consent not asked or not returned",
    Reason.REFUSED: "Consent refused",
    Reason.EXPIRED: "Consent expired (review date passed)",
    Reason.NOT_ON_REGISTER: "Not on the register",
}


@dataclass(frozen=True)
class PupilVerdict:
    """One pupil's answer for one purpose."""

    pupil_id: int  # 0 for a name not on the register
    label: str  # name with year and class, for the person who asked
    reason: Reason
    name: str = ""  # the name alone

    @property
    def ok(self) -> bool:
        """True when the pupil may appear."""
        return self.reason is Reason.OK


@dataclass(frozen=True)
class CheckResult:
    """The answer to a check, kept as evidence under `check_id`."""

    check_id: int
    purpose: Purpose
    verdicts: tuple[PupilVerdict, ...]

    @property
    def allowed(self) -> bool:
        """"You may post" only when every pupil is OK."""
        return bool(self.verdicts) and all(v.ok for v in self.verdicts)


def purpose_in(text: str) -> tuple[Purpose, str] | None:
    """The first purpose named in `text`, with `text` minus the words that named it."""
    for purpose in Purpose:
        match = re.search(rf"\b(?:{purpose.words})\b", text, flags=re.IGNORECASE)
        if match is not None:
            rest = " ".join((text[: match.start()] + " " + text[match.end():]).split())
            return purpose, rest
    return None


def year_label(year_group: str) -> str:
    """'4' -> 'Year 4', 'R' -> 'Reception', anything else as given."""
    if year_group.isdigit():
        return f"Year {year_group}"
    return {"R": "Reception", "N": "Nursery"}.get(year_group.upper(), year_group)


def label(name: str, year_group: str, class_name: str, left: bool) -> str:
    """Name with year and class (and 'left' when they have), to tell same-named pupils apart."""
    where = ", ".join(x for x in (year_label(year_group), class_name) if x) + (", left" if left else "")
    return f"{name} ({where})" if where else name


def display_name(pupil: Pupil) -> str:
    """Preferred (or legal) forename and surname."""
    return f"{pupil.preferred_name or pupil.forename} {pupil.legal_surname}".strip()


def pupil_label(pupil: Pupil) -> str:
    """A pupil's label (see `label`)."""
    return label(display_name(pupil), pupil.year_group, pupil.class_name, pupil.left_at is not None)


def verdict(pupil: Pupil, consent: PupilConsent | None, today: date) -> Reason:
    """The rule: never-publish beats everything, then leavers, then the consent itself and its review date."""
    if pupil.never_publish:
        return Reason.NEVER_PUBLISH
    if pupil.left_at is not None:
        return Reason.LEFT
    if consent is None or consent.state == ConsentState.NOT_ASKED:
        return Reason.NOT_ASKED
    if consent.state != ConsentState.GRANTED:
        return Reason.REFUSED
    if consent.review_on is not None and consent.review_on < today:
        return Reason.EXPIRED
    return Reason.OK


def uk_today(now: datetime) -> date:
    """Today's date in the UK (consent review dates are UK calendar dates)."""
    return to_local(now).date()


async def lock_pupils(session: AsyncSession, *, tenant_id: str, pupil_ids: Sequence[int]) -> None:
    """Hold these pupils until commit, so recording a post and changing their consent (which then looks for posts
    to take down) happen one after the other, never interleaved (which could leave a live post with no removal task)."""
    ids = sorted(set(pupil_ids))
    bind = session.bind
    if bind is not None and bind.dialect.name == "sqlite":  # one writer at a time: start writing now, others wait
        await session.execute(update(Pupil).where(col(Pupil.id) == -1).values(updated_at=Pupil.updated_at))
        return
    for start in range(0, len(ids), 1000):  # PostgreSQL: row locks, always taken in id order (no deadlock)
        chunk = ids[start:start + 1000]
        await session.execute(select(col(Pupil.id)).where(col(Pupil.tenant_id) == tenant_id, col(Pupil.id).in_(chunk))
                              .order_by(col(Pupil.id)).with_for_update())


async def pupils_of(session: AsyncSession, *, tenant_id: str, pupil_ids: Sequence[int]) -> list[Pupil]:
    """These pupils of this school, in the order asked; NotAllowed if any id is not this school's."""
    wanted = list(dict.fromkeys(int(i) for i in pupil_ids))
    query = select(Pupil).where(col(Pupil.tenant_id) == tenant_id, col(Pupil.id).in_(wanted))
    rows = await session.execute(query)
    found = {p.id: p for p in rows.scalars()}
    if len(found) != len(wanted):
        raise NotAllowed()
    return [found[i] for i in wanted]


async def consents_of(
    session: AsyncSession, *, tenant_id: str, pupil_ids: Sequence[int], purpose: str
) -> dict[int, PupilConsent]:
    """Consent rows by pupil id for one purpose."""
    rows = await session.execute(
        select(PupilConsent).where(
            col(PupilConsent.tenant_id) == tenant_id, col(PupilConsent.purpose) == purpose,
            col(PupilConsent.pupil_id).in_(list(pupil_ids)),
        )
    )
    return {c.pupil_id: c for c in rows.scalars()}


async def verdicts_for(
    session: AsyncSession, *, tenant_id: str, pupil_ids: Sequence[int], purpose: Purpose, now: datetime
) -> list[PupilVerdict]:
    """Each pupil's verdict for `purpose` right now."""
    pupils = await pupils_of(session, tenant_id=tenant_id, pupil_ids=pupil_ids)
    consents = await consents_of(session, tenant_id=tenant_id, pupil_ids=[p.id for p in pupils if p.id], purpose=purpose)
    today = uk_today(now)
    return [PupilVerdict(int(p.id or 0), pupil_label(p), verdict(p, consents.get(int(p.id or 0)), today), display_name(p))
            for p in pupils]


async def check_pupils(
    session: AsyncSession, *, actor: Actor, pupil_ids: Sequence[int], purpose: Purpose, now: datetime,
    unknown: Sequence[str] = (),
) -> CheckResult:
    """Answer a staff member's check and keep it as evidence (whether or not a post follows). Commits.

    `unknown`: names the staff member confirmed are not on the register; each is "not OK", kept with the name as typed.
    """
    if not pupil_ids and not unknown:
        raise DomainError("Tell me who is in the photo first.")
    found = await verdicts_for(session, tenant_id=actor.tenant_id, pupil_ids=pupil_ids, purpose=purpose, now=now)
    missing = dict.fromkeys(" ".join(name.split())[:100] for name in unknown if name.strip())
    verdicts = [*found, *(PupilVerdict(0, name, Reason.NOT_ON_REGISTER, name) for name in missing)]
    results: list[dict[str, object]] = [{"pupil_id": v.pupil_id, "ok": v.ok, "reason": v.reason.value} for v in found]
    results += [{"pupil_id": None, "ok": False, "reason": Reason.NOT_ON_REGISTER.value, "name": name} for name in missing]
    check = ConsentCheck(
        tenant_id=actor.tenant_id, checked_by=actor.aad_id, purpose=purpose,
        pupil_ids=[v.pupil_id for v in found],
        results=results,
        allowed=all(v.ok for v in verdicts), at=now,
    )
    session.add(check)
    await session.flush()
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="consent.checked", now=now,
                 subject_type="consent_check", subject_id=int(check.id or 0))
    await session.commit()
    log.info("consent check %s: %s pupils, allowed=%s", check.id, len(verdicts), check.allowed)
    return CheckResult(int(check.id or 0), purpose, tuple(verdicts))
