"""DPO exports as formula-safe CSV: consent register, post register, SAR log, audit trail. Each is audited once delivered."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.accounts.register import accounts, gaps
from services.consent.posts import post_register
from services.consent.purposes import PURPOSE_LABELS
from services.consent.register import register_rows
from services.dates import format_uk
from services.errors import NotAllowed
from services.exports import csv_bytes
from services.identity import Actor
from services.sar.requests import CHANNELS, OUTCOMES, PAUSES, REQUESTERS, STEPS, visible_sars
from storage.consent_models import Purpose
from storage.models import AuditEvent

log = logging.getLogger(__name__)

ONLY_DPO = "Only your school's DPO can export that."


def _when(moment: datetime | None) -> str:
    return format_uk(moment) if moment is not None else ""


def exported(what: str) -> str:
    """The audit action recorded once an export reaches the DPO, e.g. 'consent_register.exported'."""
    return f"{what}.exported"


def _done(actor: Actor, what: str, rows: int) -> None:
    log.info("%s exported in tenant %s (%s rows)", what, actor.tenant_id, rows)


async def consent_csv(session: AsyncSession, *, actor: Actor) -> bytes:
    """DPO only: the consent register, one row per pupil with every purpose's state. Audited once delivered."""
    rows = await register_rows(session, actor=actor)
    header = ["MIS id", "Surname", "Forename", "Preferred name", "Year", "Class", "Never publish", "Never publish reason",
              "Left", *(PURPOSE_LABELS[p] for p in Purpose), "Consent given by", "Review date"]
    lines = []
    for row in rows:
        p, states = row.pupil, [row.consents[purpose] for purpose in Purpose]
        given = next((c for c in states if c is not None), None)
        lines.append([p.mis_id, p.legal_surname, p.forename, p.preferred_name, p.year_group, p.class_name,
                      "yes" if p.never_publish else "", p.never_publish_reason, _when(p.left_at),
                      *(c.state if c is not None else "not_asked" for c in states),
                      given.given_by if given else "", given.review_on.strftime("%d/%m/%Y") if given and given.review_on else ""])
    _done(actor, "consent_register", len(lines))
    return csv_bytes(header, lines)


async def posts_csv(session: AsyncSession, *, actor: Actor) -> bytes:
    """DPO only: the post register, newest first. Audited once delivered."""
    views = await post_register(session, actor=actor)
    header = ["Post", "Purpose", "Account", "Description", "Link", "Posted by", "Posted", "Pupils", "Remove by",
              "Removed", "Kept up because", "Open removal task", "Account registered"]
    lines = [[f"#{v.post.id}", v.purpose_label, v.post.account, v.post.description, v.post.link, v.poster_name,
              _when(v.post.posted_at), v.pupil_count, _when(v.post.remove_by), _when(v.post.removed_at),
              v.post.extension_reason, f"#{v.open_task.id}" if v.open_task else "",
              "yes" if v.post.account_id else "no (another account)" if v.post.account_other else ""] for v in views]
    _done(actor, "post_register", len(lines))
    return csv_bytes(header, lines)


async def accounts_csv(session: AsyncSession, *, actor: Actor) -> bytes:
    """DPO only: the social media account register, retired accounts included. Audited once delivered."""
    if not actor.is_dpo:
        raise NotAllowed(ONLY_DPO)
    header = ["Account", "Platform", "Name or handle", "Address", "Audience", "Owner", "People with access", "Backup admin",
              "Privacy settings reviewed", "DPIA done", "Policy adopted", "Last review", "Housekeeping months",
              "Needs attention", "Added", "Retired", "Retired because"]
    lines = [[a.number, a.platform, a.handle, a.url, a.audience, a.owner, a.access, a.backup_admin,
              *(_day(d) for d in (a.privacy_reviewed_on, a.dpia_on, a.policy_on, a.reviewed_on)),
              a.housekeeping_months or "", "" if a.retired_at else "; ".join(gaps(a)), _when(a.created_at),
              _when(a.retired_at), a.retired_reason] for a in await accounts(session, actor=actor, retired=True)]
    _done(actor, "account_register", len(lines))
    return csv_bytes(header, lines)


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


async def sars_csv(session: AsyncSession, *, actor: Actor) -> bytes:
    """DPO only: the SAR log (with the disclosure record), oldest first. Audited once delivered."""
    if not actor.is_dpo:
        raise NotAllowed(ONLY_DPO)
    sars = sorted(await visible_sars(session, actor=actor, open_only=False), key=lambda s: (s.created_at, s.id or 0))
    header = ["Reference", "Requester type", "Requester", "About", "Pupil on the register", "Received", "How",
              "Identity verified", "Educational record", "Due", "Clock stopped", "Extension (months)", "Extension reason",
              "Requester told of extension", "Steps done", "Outcome", "Exemptions / reason", "Disclosed", "Sent",
              "Logged by", "Closed"]
    lines = [[s.reference, REQUESTERS.get(s.requester_type, ""), s.requester_name, s.subject_name,
              "yes" if s.pupil_id is not None else "no", _day(s.received_on), CHANNELS.get(s.channel, ""),
              "yes" if s.id_verified else "no", "yes" if s.educational_record else "no", _day(s.due_on),
              f"{_day(s.paused_on)} {PAUSES.get(s.pause_kind, '')}".strip(), s.extension_months or "",
              s.extension_reason, _day(s.extension_told_on),
              "; ".join(f"{STEPS[c]} ({d.get('by', '')} {str(d.get('at', ''))[:10]})" for c, d in s.checklist.items()
                        if c in STEPS and isinstance(d, dict)),
              OUTCOMES.get(s.outcome, ""), s.outcome_note, s.disclosed, _day(s.sent_on), s.logged_by_name,
              _when(s.closed_at)] for s in sars]
    _done(actor, "sar_log", len(lines))
    return csv_bytes(header, lines)


async def audit_csv(session: AsyncSession, *, actor: Actor) -> bytes:
    """DPO only: the school's audit trail, oldest first (this export shows in the next one). Audited once delivered."""
    if not actor.is_dpo:
        raise NotAllowed(ONLY_DPO)
    events = await session.execute(select(AuditEvent).where(col(AuditEvent.tenant_id) == actor.tenant_id)
                                   .order_by(col(AuditEvent.at), col(AuditEvent.id)))
    lines = [[_when(e.at), e.actor_aad_id, e.action, e.subject_type, e.subject_id] for e in events.scalars()]
    _done(actor, "audit_trail", len(lines))
    return csv_bytes(["Time (UK)", "Actor (Entra id)", "Action", "Subject type", "Subject id"], lines)
