"""The school's breach log (Art. 33(5)) as rows whose columns follow the ICO's report form."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.assessment import RISK_ADVICE, Risk
from services.breach.decisions import DECISIONS, INDIVIDUALS
from services.breach.facts import CATEGORIES, CONTAINED, KINDS, OTHERS, SUBJECTS, labels
from services.breach.records import status_of, visible_breaches
from services.dates import to_local
from services.errors import NotAllowed
from services.exports import csv_bytes
from services.identity import Actor
from storage.breach_models import Breach

LOG_HEADER: tuple[str, ...] = (
    "Reference", "What happened", "When it happened", "When the school became aware", "ICO deadline",
    "How it was discovered", "Kind of breach", "Cyber incident", "Data subjects", "Approx. people",
    "Approx. records", "Data categories", "Special category data", "Likely consequences (suggested risk and reasons)",
    "Decision", "Decision reason", "Reported to ICO at", "ICO case reference", "Reason for late report",
    "Individuals told / exemption", "Contained", "Actions taken", "Actions planned", "Who else knows", "Status",
    "Closed at", "Lessons learned",
)


LOG_EXPORTED = "breach.log_exported"


def _when(moment: datetime | None) -> str:
    return to_local(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def log_row(breach: Breach) -> list[str]:
    """One breach as a row under LOG_HEADER (UK times)."""
    consequences = f"{RISK_ADVICE[Risk(breach.suggested_risk)]}. " + " ".join(breach.suggested_reasons)
    individuals = INDIVIDUALS.get(breach.individuals or "", "")
    return [
        breach.reference, breach.what_happened, _when(breach.happened_at) or "not known", _when(breach.aware_at),
        _when(breach.deadline_at), breach.how_discovered, KINDS.get(breach.kind, breach.kind),
        "yes" if breach.kind == "cyber" else "no", labels(breach.subjects, SUBJECTS),
        "" if breach.people_count is None else str(breach.people_count),
        "" if breach.records_count is None else str(breach.records_count),
        labels(breach.data_categories, CATEGORIES), "yes" if "special" in breach.data_categories else "no",
        consequences, DECISIONS.get(breach.decision or "", "not decided yet"), breach.decision_reason,
        _when(breach.ico_reported_at), breach.ico_reference, breach.late_reason,
        " ".join(x for x in (individuals, breach.individuals_note) if x), CONTAINED.get(breach.contained, ""),
        breach.actions_taken, breach.actions_planned, labels(breach.others_informed, OTHERS), status_of(breach).value,
        _when(breach.closed_at), breach.lessons_learned,
    ]


async def breach_log_rows(session: AsyncSession, *, actor: Actor) -> list[list[str]]:
    """Every breach of the DPO's school, open or closed, oldest reference first."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can export the breach log.")
    breaches = await visible_breaches(session, actor=actor, open_only=False)
    return [log_row(b) for b in sorted(breaches, key=lambda b: (b.created_at, b.id or 0))]


async def export_log(session: AsyncSession, *, actor: Actor) -> bytes:
    """The breach log as a spreadsheet-safe CSV (audited as LOG_EXPORTED once delivered)."""
    return csv_bytes(LOG_HEADER, await breach_log_rows(session, actor=actor))
