"""`status`: one card of what needs this person now, gathered from every feature.

A DPO serving several schools (a trust or data hub) sees every school, labelled, with totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, Feature, Intent, StatusLine, StatusProvider, actor_of
from dialogs.kit.cards import card, heading, plain, text
from dialogs.kit.replies import card_activity
from services.identity import Actor
from services.roles import actor_in, schools_served

STATUS_INTENT = Intent(
    "dpo.status",
    ("status", "what's due", "whats due", "my status"), private=True)
URGENT = 50  # lines at or above this urgency count as urgent in the totals


@dataclass(frozen=True)
class SchoolStatus:
    """One school's lines (label empty when the person serves one school)."""

    label: str
    lines: list[StatusLine]


def status_card(schools: Sequence[SchoolStatus], *, is_dpo: bool, title: str = "") -> dict[str, Any]:
    """Pure: per school, lines grouped by section, most urgent first, each with its button."""
    several = len(schools) > 1
    title = title or ("What needs you now" + (" (your school)" if not several else "") if is_dpo else "Your items")
    body: list[dict[str, Any]] = [heading(title)]
    if several:
        total = sum(len(s.lines) for s in schools)
        urgent = sum(1 for s in schools for line in s.lines if line.urgency >= URGENT)
        body.append(text(f"{len(schools)} schools \u00b7 {total} items \u00b7 {urgent} urgent", subtle=True))
    for school in schools:
        if several:
            body.append(heading(f"{plain(school.label)} ({len(school.lines)})"))
        body += _lines(school.lines)
    return card(body)


def _lines(lines: list[StatusLine]) -> list[dict[str, Any]]:
    if not lines:
        return [text("Nothing needs you right now.")]
    ordered = sorted(lines, key=lambda line: -line.urgency)
    blocks: list[dict[str, Any]] = []
    for section in dict.fromkeys(line.section for line in ordered):
        blocks.append(text(f"**{section}**"))
        for line in (x for x in ordered if x.section == section):
            item: dict[str, Any] = {"type": "Container", "items": [text(line.text, attention=line.urgency >= URGENT)]}
            if line.button is not None:
                item["selectAction"] = line.button
            blocks.append(item)
    return blocks


async def gather(session: AsyncSession, actor: Actor, providers: Sequence[StatusProvider], now: datetime) -> list[SchoolStatus]:
    """Status lines for this person: every school they are DPO of, or just their own items."""
    schools = await schools_served(session, aad_id=actor.aad_id) if actor.is_dpo else []
    if len(schools) <= 1:
        return [SchoolStatus("", await _lines_for(session, actor, providers, now))]
    result = []
    for tenant_id, label in schools:
        there = await actor_in(session, actor=actor, tenant_id=tenant_id)
        lines = [_for_school(line, tenant_id) for line in await _lines_for(session, there, providers, now)]
        result.append(SchoolStatus(label, lines))
    return result


async def _lines_for(session: AsyncSession, actor: Actor, providers: Sequence[StatusProvider], now: datetime) -> list[StatusLine]:
    lines: list[StatusLine] = []
    for provider in providers:
        lines += await provider(session, actor, now)
    return lines


def _for_school(line: StatusLine, tenant_id: str) -> StatusLine:
    """Tag the line's button with its school so the router acts in the right one."""
    if line.button is None or not isinstance(line.button.get("data"), dict):
        return line
    return replace(line, button={**line.button, "data": {**line.button["data"], "school": tenant_id}})


class StatusDialog(ComponentDialog):
    """Shows the status card and ends."""

    def __init__(self, deps: Deps, providers: Sequence[StatusProvider]) -> None:
        super().__init__(STATUS_INTENT.dialog_id)
        self._deps = deps
        self._providers = providers
        self.add_dialog(WaterfallDialog(f"{self.id}.steps", [self.show_step]))
        self.initial_dialog_id = f"{self.id}.steps"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        actor = actor_of(step.context)
        async with self._deps.sessions() as session:
            schools = await gather(session, actor, self._providers, self._deps.clock())
        await step.context.send_activity(card_activity(status_card(schools, is_dpo=actor.is_dpo)))
        return await step.end_dialog()


def status_feature(deps: Deps, features: Sequence[Feature]) -> Feature:
    """The status dialog over every feature's status provider."""
    providers = [f.status for f in features if f.status is not None]
    return Feature(dialogs=(StatusDialog(deps, providers),), intents=(STATUS_INTENT,))
