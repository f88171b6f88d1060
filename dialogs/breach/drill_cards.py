"""Breach drill cards: each says DRILL in its title and that it is practice. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.kit.cards import Card, card, choice_input, facts, heading, notifying, plain, submit, text, text_input
from services.breach.decisions import DECISIONS, INDIVIDUALS
from services.breach.drills import ICO_HOURS, DrillReport, clock_running, drill_seconds, scenario_of
from services.dates import format_uk
from storage.drill_models import BreachDrill

SHOW = "drill.show"
DECIDE_FORM, DECIDE = "drill.decide_form", "drill.decide"
CONTAIN_FORM, CONTAIN = "drill.contain_form", "drill.contain"
ICO_PACK = "drill.ico_pack"
STOP = "drill.stop"
PRACTICE = "Practice only: not a real breach. Nothing here goes in the breach log."


def hours(seconds: int | None) -> str:
    """Drill time as "5h 07m" or "45m" (like the breach clock), "—" when the step was not taken."""
    if seconds is None:
        return "\u2014"
    h, m = divmod(seconds // 60, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m"


def drill_clock(drill: BreachDrill, now: datetime) -> str:
    """"14h 00m of 72h (drill time, 60× speed)"."""
    pace = "real time" if drill.speed == 1 else f"{drill.speed}\u00d7 speed"
    return f"{hours(drill_seconds(drill, now))} of {ICO_HOURS}h (drill time, {pace})"


def act(title: str, cmd: str, drill: BreachDrill) -> dict[str, Any]:
    """A button about one drill, with its school (a DPO serving several schools acts in the right one)."""
    return submit(title, {"cmd": cmd, "id": drill.id, "school": drill.tenant_id})


def _buttons(drill: BreachDrill) -> list[dict[str, Any]]:
    return [act("Record decision", DECIDE_FORM, drill), act("Record containment", CONTAIN_FORM, drill),
            act("ICO pack", ICO_PACK, drill), act("Stop drill", STOP, drill)]


def _head(title: str) -> list[dict[str, Any]]:
    return [heading(f"DRILL: {title}"), text(PRACTICE, subtle=True)]


def alert_card(drill: BreachDrill, now: datetime, *, title: str, lead: str) -> Card:
    """The pretend reporter's breach, or a drill-clock reminder, as the real alert would arrive."""
    scenario = scenario_of(drill)
    body = [*_head(f"{title} \u2014 {scenario.title}"), text(lead, attention=not clock_running(drill)),
            text(f"**From {plain(scenario.reporter)}:** {plain(scenario.said)}"),
            facts([*scenario.facts, ("Drill clock", drill_clock(drill, now))])]
    result = card(body, [act("Open", SHOW, drill), *_buttons(drill)[:2]])
    notifying(result, f"DRILL: {title}")
    return result


def drill_card(drill: BreachDrill, now: datetime) -> Card:
    """The drill as worked so far: the facts, the steps taken (drill time), and what to do next."""
    scenario = scenario_of(drill)
    steps = [("Drill clock", drill_clock(drill, now)), ("First look", hours(drill.first_look_s)),
             ("Decision", f"{DECISIONS[drill.decision]} at {hours(drill.decided_s)}" if drill.decision else "\u2014"),
             ("People affected", INDIVIDUALS.get(drill.individuals or "", "\u2014")),
             ("Containment", f"{plain(drill.containment)} (at {hours(drill.contained_s)})" if drill.contained_s is not None
              else "\u2014"),
             ("ICO pack", hours(drill.ico_pack_s))]
    body = [*_head(scenario.title), text(f"**From {plain(scenario.reporter)}:** {plain(scenario.said)}"),
            facts(scenario.facts), text("**Your steps (drill time after the alert)**"), facts(steps)]
    return card(body, _buttons(drill) if drill.ended_at is None else [])


def decision_form(drill: BreachDrill) -> Card:
    """The usual decision: notify the ICO or not, and whether the people affected are told."""
    return card(
        [*_head(f"Decision \u2014 {scenario_of(drill).title}"),
         choice_input("decision", "Your decision", DECISIONS, value=drill.decision or None),
         choice_input("individuals", "Must the people affected be told? (Art. 34)", INDIVIDUALS, compact=True,
                      value=drill.individuals or "undecided")],
        [act("Save decision", DECIDE, drill)],
    )


def containment_form(drill: BreachDrill) -> Card:
    """What has been done to contain the practice breach."""
    return card(
        [*_head(f"Containment \u2014 {scenario_of(drill).title}"),
         text_input("containment", "What has been done to contain it?", required=True,
                    placeholder="e.g. Parent confirmed deletion by phone; recall attempted")],
        [act("Save containment", CONTAIN, drill)],
    )


def started_card(drill: BreachDrill) -> Card:
    """To the DPO who started it: what happens next."""
    pace = ("The clock runs in real time: type **drill speed 60** to make the 72 hours pass in 72 minutes."
            if drill.speed == 1 else f"The clock runs at {drill.speed}\u00d7 speed: the 72 hours pass in "
            f"{hours(ICO_HOURS * 3600 // drill.speed)} of real time.")
    return card([*_head(f"Breach drill started \u2014 {scenario_of(drill).title}"),
                 text("The report arrives in a moment, as a real breach alert would. Work it with the usual buttons."),
                 text(pace), text("Type **stop drill** at any time to end it and see the drill report.", subtle=True)])


def _compare(value: int | None, earlier: Sequence[int | None]) -> str:
    known = [s for s in earlier if s is not None]
    if not known:
        return hours(value)
    return f"{hours(value)} (last drill {hours(earlier[-1])}, best {hours(min(known))})"


def report_card(report: DrillReport) -> Card:
    """The drill report: times to each step, steps missed, and the school's earlier drills."""
    drill, earlier = report.drill, report.earlier
    body = [*_head(f"Drill report \u2014 {scenario_of(drill).title}"),
            text(f"Started {format_uk(drill.started_at)} UK time; ended after {hours(drill.ended_s)} of drill time."),
            facts([("Time to first look", _compare(drill.first_look_s, [d.first_look_s for d in earlier])),
                   ("Time to a decision", _compare(drill.decided_s, [d.decided_s for d in earlier])),
                   ("Time to the ICO pack", _compare(drill.ico_pack_s, [d.ico_pack_s for d in earlier])),
                   ("Containment recorded", _compare(drill.contained_s, [d.contained_s for d in earlier]))]),
            text("**Steps missed**"),
            text("\n".join(f"- {line}" for line in report.missed) if report.missed else "None: every step was taken.",
                 attention=bool(report.missed))]
    if earlier:
        missed_before = len([d for d in earlier if d.decided_s is None])
        body.append(text(f"Compared with {len(earlier)} earlier drill{'s' if len(earlier) > 1 else ''} at this school "
                         f"({missed_before} without a decision).", subtle=True))
    else:
        body.append(text("This is the school's first drill: the next report will compare with it.", subtle=True))
    return card(body)
