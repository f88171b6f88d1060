"""A drill's practice ICO report pack: the real pack's sections, built from a practice breach that is never saved.

The practice breach has no BR- number and never reaches a database session: the breach log, counts and exports
never see it. The school's real profile fills the organisation details; the pretend reporter's training is a gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.breach.assessment import assess
from services.breach.drills import drill_seconds, scenario_of
from services.breach.facts import ICO_WINDOW, BreachFacts
from services.breach.ico_pack import Section, Training, build_pack
from storage.breach_models import Breach
from storage.drill_models import BreachDrill
from storage.school_models import SchoolProfile


def reference_of(drill: BreachDrill) -> str:
    """What stands for a BR- number on the practice pack's cards: "DRILL · <scenario>"."""
    return f"DRILL \u00b7 {scenario_of(drill).title}"


def drill_time(drill: BreachDrill, now: datetime) -> datetime:
    """The moment on the drill clock: the alert (the school became aware) plus the drill time passed."""
    return drill.started_at + timedelta(seconds=drill_seconds(drill, now))


def practice_breach(drill: BreachDrill) -> Breach:
    """The drill's scenario as a breach report, with the DPO's decision and containment so far. Never saved."""
    scenario = scenario_of(drill)
    facts = BreachFacts(
        what_happened=scenario.said, kind=scenario.kind, how_discovered="", happened_at=None,
        aware_at=drill.started_at, subjects=scenario.subjects, people_count=scenario.people_count, records_count=None,
        data_categories=scenario.data_categories, contained=scenario.contained, actions_taken=drill.containment,
        actions_planned="", others_informed=())
    assessment = assess(facts)
    return Breach(
        tenant_id=drill.tenant_id, reference=reference_of(drill), reporter_aad_id="", reporter_name=scenario.reporter,
        kind=facts.kind, what_happened=facts.what_happened, aware_at=facts.aware_at,
        deadline_at=facts.aware_at + ICO_WINDOW, subjects=list(facts.subjects), people_count=facts.people_count,
        data_categories=list(facts.data_categories), contained=facts.contained, actions_taken=facts.actions_taken,
        suggested_risk=assessment.risk.value, suggested_reasons=list(assessment.reasons), decision=drill.decision,
        individuals=drill.individuals, created_at=drill.started_at, updated_at=drill.started_at)


def drill_pack(drill: BreachDrill, profile: SchoolProfile | None, *, months: int, now: datetime) -> list[Section]:
    """The practice pack's sections in the ICO form's order, as they stand at the drill's time."""
    training = Training(scenario_of(drill).reporter, months=months)
    return build_pack(practice_breach(drill), profile, training, now=drill_time(drill, now),
                      decide_with="the drill's Record decision button")
