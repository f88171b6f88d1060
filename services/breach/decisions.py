"""What happens to a breach after it is filed: the DPO's decision, the ICO report, questions, new facts, closure."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.alerts import CLOSED, INFO_REQUEST, SUBJECT, UPDATED, alert_dpos, clock_running, sync_deadline, tell_reporter
from services.breach.assessment import RISK_ADVICE, Risk
from services.breach.facts import FIELD_LABELS, check_facts, clean_text, describe, facts_from_answers, facts_to_answers
from services.breach.records import add_event, apply_facts, assessment_of, facts_of, load_breach, status_of, timeline
from services.dates import format_uk
from services.errors import DomainError, Outdated
from services.identity import Actor
from services.reminders import ledger as reminders
from storage.breach_models import Breach

log = logging.getLogger(__name__)

DECISIONS: Mapping[str, str] = {
    "notify": "Notify the ICO",
    "not_notifiable": "Not notifiable",
    "more_info": "More information needed",
}
INDIVIDUALS: Mapping[str, str] = {
    "tell": "Tell the people affected (Art. 34)",
    "not_required": "Not required: not a high risk",
    "exempt_unintelligible": "Exempt: the data is unintelligible (e.g. encrypted)",
    "exempt_mitigated": "Exempt: the high risk has since been mitigated",
    "exempt_disproportionate": "Exempt: disproportionate effort (public notice instead)",
    "undecided": "Not decided yet",
}
ASKED = "Asked the reporter:"
UPDATABLE = ("kind", "how_discovered", "happened_at", "subjects", "people_count", "records_count", "data_categories",
             "contained", "actions_taken", "actions_planned", "others_informed")


_DONE = {"decided": "Decided", "reported": "Reported to the ICO", "closed": "Closed"}


async def outcome_line(session: AsyncSession, breach: Breach) -> str:
    """What was last decided about the breach, by whom and when ("Decided by Dee Patel on Sat 28 Nov 2026, 10:32:
    Notify the ICO"); '' while nothing has been."""
    done = [event for event in await timeline(session, breach=breach) if event.action in _DONE]
    if not done:
        return ""
    last = done[-1]
    what = {"decided": DECISIONS.get(breach.decision or "", ""), "reported": f"case {breach.ico_reference}",
            "closed": "lessons learned recorded"}[last.action]
    return f"{_DONE[last.action]} by {last.actor_name or 'a DPO'} on {format_uk(last.at)}: {what}"


async def still_as_seen(session: AsyncSession, breach: Breach, seen: object) -> None:
    """Refuse a form pressed after the breach moved on (`seen` = its status when the card was made; None = typed)."""
    if isinstance(seen, str) and seen != status_of(breach).name:
        line = await outcome_line(session, breach) or f"{breach.reference} is now {status_of(breach).value}"
        raise Outdated(f"{line}. That card was out of date, so nothing was changed.")


async def _claim(session: AsyncSession, breach: Breach) -> None:
    """Take the breach in the status it was loaded in: of two DPOs saving at the same moment the first wins, and the
    other's save changes nothing and says what happened (one decision, one ICO report, one closing)."""
    def same(column: Any, value: object) -> Any:
        return col(column).is_(None) if value is None else col(column).is_not(None)
    taken = await session.execute(update(Breach).where(
        col(Breach.id) == breach.id, same(Breach.ico_reported_at, breach.ico_reported_at),
        same(Breach.closed_at, breach.closed_at),
        col(Breach.decision).is_(None) if breach.decision is None else col(Breach.decision) == breach.decision,
    ).values(updated_at=breach.updated_at))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        await session.refresh(breach)
        await still_as_seen(session, breach, "")


def _open(breach: Breach) -> None:
    if breach.closed_at is not None:
        raise DomainError(f"{breach.reference} is closed, so it can't be changed. Ask your DPO if something new has come up.")


async def record_decision(
    session: AsyncSession, *, actor: Actor, breach_id: int, decision: str, reason: str, individuals: str,
    individuals_note: str = "", now: datetime, seen: object = None,
) -> Breach:
    """The DPO's decision: notify / not notifiable (reason required) / more information, and Art. 34."""
    breach = await load_breach(session, actor=actor, breach_id=breach_id, dpo_only=True)
    await still_as_seen(session, breach, seen)
    _open(breach)
    await _claim(session, breach)
    if decision not in DECISIONS or individuals not in INDIVIDUALS:
        raise DomainError("Please choose a decision and whether the people affected must be told.")
    reason, individuals_note = clean_text(reason, required=False), clean_text(individuals_note, required=False)
    if decision == "not_notifiable" and not reason:
        raise DomainError("A breach that is not notifiable needs the reason recorded (Art. 33(5)). Please add it.")
    if breach.ico_reported_at is not None and decision != "notify":
        raise DomainError(f"{breach.reference} was already reported to the ICO, so the decision stays \u201cnotify\u201d.")
    was_running = clock_running(breach)
    breach.decision, breach.decision_reason, breach.decided_at = decision, reason, now
    breach.individuals, breach.individuals_note = individuals, individuals_note
    detail = f"Decision: {DECISIONS[decision]}." + (f" Reason: {reason}" if reason else "")
    detail += f" People affected: {INDIVIDUALS[individuals]}." + (f" {individuals_note}" if individuals_note else "")
    add_event(session, breach, actor=actor, action="decided", detail=detail, now=now)
    await sync_deadline(session, breach, was_running=was_running, now=now)
    await session.commit()
    log.info("breach %s decided %s", breach.id, decision)
    return breach


async def mark_reported(
    session: AsyncSession, *, actor: Actor, breach_id: int, ico_reference: str, reported_at: datetime,
    late_reason: str, now: datetime, seen: object = None,
) -> Breach:
    """Record the ICO report (case reference; reason required when after the 72-hour deadline); never twice."""
    breach = await load_breach(session, actor=actor, breach_id=breach_id, dpo_only=True)
    await still_as_seen(session, breach, seen if breach.ico_reported_at is None else "")
    _open(breach)
    await _claim(session, breach)
    ico_reference, late_reason = ico_reference.strip(), clean_text(late_reason, required=False)
    if not ico_reference or len(ico_reference) > 60:
        raise DomainError("Please give the ICO case reference (up to 60 characters), as shown on the ICO's confirmation.")
    if reported_at > now or reported_at < breach.aware_at:
        raise DomainError("The report time must be after the school became aware and not in the future.")
    if reported_at > breach.deadline_at and not late_reason:
        raise DomainError(f"This report is after the 72-hour deadline ({format_uk(breach.deadline_at)}): "
                          "the ICO needs the reason for the delay (Art. 33(1)). Please add it.")
    was_running = clock_running(breach)
    if breach.decision != "notify":
        breach.decision, breach.decided_at = "notify", now
    breach.ico_reported_at, breach.ico_reference, breach.late_reason = reported_at, ico_reference, late_reason
    detail = f"Reported to the ICO on {format_uk(reported_at)}, case reference {ico_reference}."
    add_event(session, breach, actor=actor, action="reported",
              detail=detail + (f" Reason for the delay: {late_reason}" if late_reason else ""), now=now)
    await sync_deadline(session, breach, was_running=was_running, now=now)
    await session.commit()
    log.info("breach %s reported to the ICO (late=%s)", breach.id, reported_at > breach.deadline_at)
    return breach


async def request_info(session: AsyncSession, *, actor: Actor, breach_id: int, question: str, now: datetime) -> Breach:
    """The DPO asks the reporter for more information; the reporter is messaged at once."""
    breach = await load_breach(session, actor=actor, breach_id=breach_id, dpo_only=True)
    _open(breach)
    question = clean_text(question)
    event = add_event(session, breach, actor=actor, action="asked", detail=f"{ASKED} {question}", now=now)
    await session.flush()
    await tell_reporter(session, breach, kind=INFO_REQUEST, tag=f"ask{event.id}", now=now, event_id=event.id)
    await session.commit()
    log.info("breach %s: more information requested (event %s)", breach.id, event.id)
    return breach


@dataclass(frozen=True)
class Update:
    """What an update changed: the timeline lines, the suggestion before and after, and how many DPOs are told."""

    breach: Breach
    lines: tuple[str, ...]
    old_risk: Risk
    new_risk: Risk
    dpos_told: int = 0  # other than whoever made the change

    @property
    def risk_changed(self) -> bool:
        """True when the suggested assessment moved."""
        return self.old_risk != self.new_risk


async def update_facts(
    session: AsyncSession, *, actor: Actor, breach_id: int, changes: Mapping[str, Any], note: str, now: datetime
) -> Update:
    """New facts or a note from the reporter or a DPO: timeline, reassessment, and the DPOs told."""
    breach = await load_breach(session, actor=actor, breach_id=breach_id)
    _open(breach)
    if any(name not in UPDATABLE for name in changes):
        raise DomainError("That can't be changed here. Ask your DPO.")
    old = facts_of(breach)
    new = facts_from_answers({**facts_to_answers(old), **changes})
    check_facts(new, now=now)
    note = clean_text(note, required=False)
    lines = [f"{FIELD_LABELS[name]}: {describe(name, getattr(old, name))} \u2192 {describe(name, getattr(new, name))}"
             for name in UPDATABLE if getattr(old, name) != getattr(new, name)]
    lines += [f"Note: {note}"] if note else []
    if not lines:
        raise DomainError("Nothing changed, so I didn't save anything.")
    old_risk = assessment_of(breach).risk
    new_risk = apply_facts(breach, new).risk
    if new_risk != old_risk:
        lines.append(f"Suggested assessment changed: {RISK_ADVICE[old_risk]} \u2192 {RISK_ADVICE[new_risk]}.")
    action = "reassessed" if new_risk != old_risk else "updated"  # the DPOs' alert says which
    event = add_event(session, breach, actor=actor, action=action, detail="\n".join(lines), now=now)
    await session.flush()
    told = await alert_dpos(session, breach, kind=UPDATED, tag=f"upd{event.id}", now=now, skip_aad_id=actor.aad_id,
                            event_id=event.id)
    await session.commit()
    log.info("breach %s updated (event %s, risk %s -> %s)", breach.id, event.id, old_risk.value, new_risk.value)
    return Update(breach, tuple(lines), old_risk, new_risk, told)


async def close_breach(session: AsyncSession, *, actor: Actor, breach_id: int, lessons: str, now: datetime,
                       seen: object = None) -> Breach:
    """Close with lessons learned (after a decision or the ICO report); the reporter is told. Nothing is deleted."""
    breach = await load_breach(session, actor=actor, breach_id=breach_id, dpo_only=True)
    await still_as_seen(session, breach, seen if breach.closed_at is None else "")
    _open(breach)
    await _claim(session, breach)
    if breach.decision not in ("not_notifiable", "notify") or (breach.decision == "notify" and breach.ico_reported_at is None):
        raise DomainError(f"Before closing {breach.reference}, record the decision (and the ICO report if it is notifiable).")
    lessons = clean_text(lessons)
    breach.closed_at, breach.lessons_learned = now, lessons
    add_event(session, breach, actor=actor, action="closed", detail=f"Closed. Lessons learned: {lessons}", now=now)
    await reminders.cancel(session, tenant_id=breach.tenant_id, subject_type=SUBJECT, subject_id=str(breach.id))
    if breach.reporter_aad_id != actor.aad_id:
        await tell_reporter(session, breach, kind=CLOSED, tag="closed", now=now)
    await session.commit()
    log.info("breach %s closed", breach.id)
    return breach
