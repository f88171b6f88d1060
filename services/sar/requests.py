"""Subject access requests: what is recorded, the due date, logging one, and finding them (with access checks).
Teams-free; `now` is injected; a rule's "no" is a DomainError. The DPO's work on a request is in sar_work."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.dates import to_local
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.sar import alerts
from services.sar.dates import due_date
from services.school.calendar import bank_holidays
from storage.reminder_models import Reminder
from storage.sar_models import SarCounter, SarEvent, SubjectAccessRequest
from storage.timeline import next_number

log = logging.getLogger(__name__)

NOT_FOUND = "Sorry, I couldn't find that request, or you don't have access to it."
REFERENCE = re.compile(r"\bSAR-([0-9]{4})-([0-9]{1,6})\b", re.IGNORECASE)
REQUESTERS = {"parent": "Parent or carer", "pupil": "Pupil", "staff": "Member of staff", "former_staff": "Former staff",
              "other": "Someone else"}
CHANNELS = {"email": "Email", "letter": "Letter", "verbal": "Verbally (in person or by phone)", "other": "Another way"}
SUBJECT_KINDS = {"pupil": "A pupil (from the register)", "person": "Someone else (staff, a parent, the requester)"}
PAUSES = {"id": "waiting for proof of identity", "clarification": "waiting for clarification"}
STEPS = {"mis": "Search the MIS", "email": "Search email", "paper": "Search paper files", "cctv": "Check CCTV",
         "redact": "Redact third parties", "exemptions": "Check exemptions (e.g. safeguarding)",
         "disclosure_log": "Disclosure log entry"}
OUTCOMES = {"full": "Disclosed in full", "partial": "Disclosed in part (exemptions used)", "refused": "Refused",
            "withdrawn": "Withdrawn"}
MAX_NAME = 200


@dataclass(frozen=True)
class Rules:
    """Whose calendar the clock follows: the school's time zone and its bank holidays."""

    tz: str = "Europe/London"
    region: str = "ENG"

    def today(self, now: datetime) -> date:
        """The school's calendar date at `now`."""
        return to_local(now, self.tz).date()


@dataclass(frozen=True)
class SarDetails:
    """What is logged about a new request."""

    requester_type: str
    requester_name: str
    subject_kind: str
    subject_name: str
    received_on: date
    channel: str
    id_verified: bool
    educational_record: bool
    pupil_id: int | None = None


def check_details(details: SarDetails, *, today: date) -> None:
    """Refuse what can't be logged, with the reason."""
    if details.requester_type not in REQUESTERS or details.subject_kind not in SUBJECT_KINDS or details.channel not in CHANNELS:
        raise DomainError("Please choose who asked, whose data it is about and how the request came in.")
    if not details.requester_name.strip() or not details.subject_name.strip():
        raise DomainError("Please give the requester's name and the name of the person the data is about.")
    if len(details.requester_name) > MAX_NAME or len(details.subject_name) > MAX_NAME:
        raise DomainError(f"Please keep names under {MAX_NAME} characters.")
    if details.received_on > today:
        raise DomainError("The date received can't be in the future.")
    if details.educational_record and details.requester_type != "parent":
        raise DomainError("Only a parent can ask for a pupil's educational record; log it as a subject access request.")


def compute_due(sar: SubjectAccessRequest, rules: Rules) -> date:
    """The request's due date from its clock."""
    return due_date(sar.clock_start, educational=sar.educational_record, extension_months=sar.extension_months,
                    paused_days=sar.paused_days, closed=bank_holidays(rules.region))


def due_for(details: SarDetails, rules: Rules) -> date:
    """The due date a new request will have."""
    return due_date(details.received_on, educational=details.educational_record, closed=bank_holidays(rules.region))


def first_month_end(sar: SubjectAccessRequest, rules: Rules) -> date:
    """The due date without any extension: the requester must be told of an extension by then."""
    return due_date(sar.clock_start, paused_days=sar.paused_days, closed=bank_holidays(rules.region))


def add_event(session: AsyncSession, sar: SubjectAccessRequest, *, actor: Actor, action: str, detail: str,
              now: datetime) -> None:
    """A timeline line and an audit row (ids and codes only), in the caller's unit of work."""
    assert sar.id is not None
    session.add(SarEvent(tenant_id=sar.tenant_id, sar_id=sar.id, at=now, actor_aad_id=actor.aad_id, actor_name=actor.name,
                         action=action, detail=detail))
    sar.updated_at = now
    audit.record(session, tenant_id=sar.tenant_id, actor_aad_id=actor.aad_id, action=f"sar.{action}", now=now,
                 subject_type="sar", subject_id=sar.id)


async def log_request(session: AsyncSession, *, actor: Actor, details: SarDetails, now: datetime,
                      rules: Rules) -> tuple[SubjectAccessRequest, int]:
    """Log a request: reference, due date, DPO alert and reminders. Commits; returns (request, DPOs told)."""
    check_details(details, today=rules.today(now))
    year = to_local(now, rules.tz).year
    number = await next_number(session, SarCounter, tenant_id=actor.tenant_id, year=year)
    sar = SubjectAccessRequest(
        tenant_id=actor.tenant_id, reference=f"SAR-{year}-{number:04d}", logged_by_aad_id=actor.aad_id,
        logged_by_name=actor.name, requester_type=details.requester_type, requester_name=details.requester_name.strip(),
        subject_kind=details.subject_kind, pupil_id=details.pupil_id, subject_name=details.subject_name.strip(),
        received_on=details.received_on, channel=details.channel, id_verified=details.id_verified,
        educational_record=details.educational_record, clock_start=details.received_on, due_on=details.received_on,
        created_at=now, updated_at=now,
    )
    sar.due_on = compute_due(sar, rules)
    session.add(sar)
    await session.flush()
    add_event(session, sar, actor=actor, action="logged", detail=f"Logged. Due {sar.due_on:%a %d %b %Y}.", now=now)
    told = await alerts.alert_dpos(session, sar, now=now)
    await alerts.arm(session, sar, now=now, tz=rules.tz)
    await session.commit()
    log.info("sar %s logged in tenant %s; %s DPO alert(s) scheduled", sar.id, sar.tenant_id, told)
    return sar, told


def may_see(actor: Actor, sar: SubjectAccessRequest) -> bool:
    """Whoever logged it, its handler, or a DPO of the same school."""
    return sar.tenant_id == actor.tenant_id and (actor.is_dpo or actor.aad_id in (sar.logged_by_aad_id, sar.handler_aad_id))


def may_work_on(actor: Actor, sar: SubjectAccessRequest) -> bool:
    """A DPO of the school, or the handler the DPO assigned (the handler may tick steps)."""
    return sar.tenant_id == actor.tenant_id and (actor.is_dpo or actor.aad_id == sar.handler_aad_id)


async def load_sar(session: AsyncSession, *, actor: Actor, sar_id: int | None = None, reference: str | None = None,
                   dpo_only: bool = False) -> SubjectAccessRequest:
    """One request the actor may see (by id or reference), else NotAllowed with no detail."""
    query = select(SubjectAccessRequest).where(col(SubjectAccessRequest.tenant_id) == actor.tenant_id)
    if sar_id is not None:
        query = query.where(col(SubjectAccessRequest.id) == sar_id)
    elif reference is not None:
        query = query.where(col(SubjectAccessRequest.reference) == reference.upper())
    else:
        raise NotAllowed(NOT_FOUND)
    sar = (await session.execute(query)).scalar_one_or_none()
    if sar is None or not may_see(actor, sar) or (dpo_only and not actor.is_dpo):
        raise NotAllowed(NOT_FOUND)
    return sar


def reference_in(text: str) -> str | None:
    """The first request reference in some text ("sar sar-2026-3" -> "SAR-2026-0003")."""
    match = REFERENCE.search(text)
    return f"SAR-{match.group(1)}-{int(match.group(2)):04d}" if match else None


async def visible_sars(session: AsyncSession, *, actor: Actor, open_only: bool = True) -> list[SubjectAccessRequest]:
    """What the actor may list, soonest due first: a DPO their school's requests, staff those they logged or handle."""
    query = select(SubjectAccessRequest).where(col(SubjectAccessRequest.tenant_id) == actor.tenant_id)
    if not actor.is_dpo:
        query = query.where(or_(col(SubjectAccessRequest.logged_by_aad_id) == actor.aad_id,
                                col(SubjectAccessRequest.handler_aad_id) == actor.aad_id))
    if open_only:
        query = query.where(col(SubjectAccessRequest.closed_at).is_(None))
    rows = await session.execute(query.order_by(col(SubjectAccessRequest.due_on), col(SubjectAccessRequest.id)))
    return list(rows.scalars())


async def open_sars(session: AsyncSession, *, tenant_id: str) -> list[SubjectAccessRequest]:
    """A school's open requests whose clock is running, soonest due first (for the digest)."""
    rows = await session.execute(
        select(SubjectAccessRequest).where(col(SubjectAccessRequest.tenant_id) == tenant_id,
                                           col(SubjectAccessRequest.closed_at).is_(None),
                                           col(SubjectAccessRequest.paused_on).is_(None))
        .order_by(col(SubjectAccessRequest.due_on), col(SubjectAccessRequest.id)))
    return list(rows.scalars())


async def timeline(session: AsyncSession, *, sar: SubjectAccessRequest) -> list[SarEvent]:
    """The request's events, oldest first (access already checked)."""
    rows = await session.execute(
        select(SarEvent).where(col(SarEvent.tenant_id) == sar.tenant_id, col(SarEvent.sar_id) == sar.id)
        .order_by(col(SarEvent.at), col(SarEvent.id)))
    return list(rows.scalars())


async def sar_for_reminder(session: AsyncSession, reminder: Reminder) -> SubjectAccessRequest | None:
    """The request a reminder is about, in the reminder's school (None when gone)."""
    if reminder.subject_type != alerts.SUBJECT or not reminder.subject_id.isdigit():
        return None
    row = await session.execute(select(SubjectAccessRequest).where(
        col(SubjectAccessRequest.tenant_id) == reminder.tenant_id, col(SubjectAccessRequest.id) == int(reminder.subject_id)))
    return row.scalar_one_or_none()
