"""Breach input cards: the reporter's questions and summary, and the DPO's forms. Pure functions -> dict.

Buttons in the report dialog carry "q" (the question they belong to) and either "answer" or "nav"
(back / keep / confirm / edit); card inputs are named "answer", so Teams merges them into the same data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dialogs.breach.cards import ASK, CLOSE, DECIDE, REPORTED, act, assessment_blocks, time_left
from dialogs.kit.cards import Card, card, choice_input, facts, heading, plain, shorten, submit, text, text_input, toggle_set
from services.breach.decisions import DECISIONS, INDIVIDUALS
from services.dates import format_uk
from storage.breach_models import Breach


def _nav(q: str, title: str, nav: str) -> dict[str, Any]:
    return submit(title, {"q": q, "nav": nav})


def question_card(
    prompt: str, *, q: str, style: str, options: Mapping[str, str] | None = None,
    current: str | Sequence[str] | None = None, quick: Sequence[tuple[str, str]] = (), note: str = "", back: bool = True,
    keep: bool = False, echo: str = "",
) -> Card:
    """One question: typed ("text"), one button per answer ("buttons"), radio buttons ("choice") or checkboxes ("multi").

    `echo` reads back the previous answer first (a date, so a misread time is seen at once).
    """
    body: list[dict[str, Any]] = [text(echo)] if echo else []
    body.append(text(prompt))
    if note:
        body.append(text(note, subtle=True))
    actions: list[dict[str, Any]] = []
    if style == "buttons":
        actions += [submit(title, {"q": q, "answer": code}) for code, title in (options or {}).items()]
    elif style == "choice":
        body.append(choice_input("answer", "Pick one", options or {}, value=current if isinstance(current, str) else None))
        actions.append(submit("Next", {"q": q}))
    elif style == "multi":
        body += [text("Pick all that apply:", subtle=True), *toggle_set(options or {}, current)]
        actions.append(submit("Next", {"q": q}))
    actions += [submit(title, {"q": q, "answer": answer}) for title, answer in quick]
    if keep:
        actions.append(_nav(q, "Keep my answer", "keep"))
    if back:
        actions.append(_nav(q, "Back", "back"))
    return card(body, actions)


SHOWN = 150  # characters of an answer the summary shows: a card a person must scroll past is not checked


def summary_card(pairs: Sequence[tuple[str, str]], *, back: bool) -> Card:
    """The reporter's answers, to send or change (long ones shortened here, sent in full)."""
    actions = [_nav("summary", "Send to the DPO", "confirm"), _nav("summary", "Change an answer", "edit")]
    body = [heading("Please check your report"), facts((label, plain(shorten(value, SHOWN))) for label, value in pairs)]
    if any(len(value) > SHOWN for _, value in pairs):
        body.append(text("Long answers are shortened here (\u2026); your report keeps them in full.", subtle=True))
    return card(
        [*body, text("Nothing is sent until you press **Send to the DPO**.", subtle=True)],
        [*actions, _nav("summary", "Back", "back")] if back else actions,
    )


def pick_card(prompt: str, *, q: str, options: Mapping[str, str], go: str, back_title: str, value: str | None = None) -> Card:
    """A drop-down of things to pick (e.g. which answer to change), starting on `value` (default the first)."""
    return card([text(prompt), choice_input("answer", "Choose", options, compact=True, value=value or next(iter(options)))],
                [submit(go, {"q": q}), _nav(q, back_title, "back")])


def _kept(values: Mapping[str, Any] | None, key: str, default: str | None = "") -> str | None:
    """What the DPO typed or picked in a form sent back with an error (else the stored value)."""
    value = (values or {}).get(key)
    return value if isinstance(value, str) and value.strip() else default


def decision_form(breach: Breach, values: Mapping[str, Any] | None = None) -> Card:
    """The DPO's decision on a breach (reason required when not notifiable) and Art. 34."""
    return card(
        [heading(f"Decision on {breach.reference}"), *assessment_blocks(breach),
         choice_input("decision", "Your decision", DECISIONS, value=_kept(values, "decision", breach.decision)),
         text_input("reason", "Reason (required if not notifiable)", value=_kept(values, "reason", breach.decision_reason) or ""),
         choice_input("individuals", "Must the people affected be told? (Art. 34)", INDIVIDUALS, compact=True,
                      value=_kept(values, "individuals", breach.individuals or "undecided")),
         text_input("individuals_note", "Notes on telling them (optional)",
                    value=_kept(values, "individuals_note", breach.individuals_note) or "")],
        [act("Save decision", DECIDE, breach)],
    )


def reported_form(breach: Breach, now: datetime, values: Mapping[str, Any] | None = None) -> Card:
    """Record the ICO report: case reference, when, and the reason for delay if late."""
    late = now > breach.deadline_at
    deadline = f"The deadline was {format_uk(breach.deadline_at)} UK time ({time_left(breach.deadline_at, now)})."
    return card(
        [heading(f"Reported {breach.reference} to the ICO"), text(deadline, attention=late),
         text_input("ico_reference", "ICO case reference", required=True, multiline=False,
                    value=_kept(values, "ico_reference") or ""),
         text_input("reported_at", "When you reported it", multiline=False, placeholder="now, or e.g. 26/11/2026 14:30",
                    value=_kept(values, "reported_at") or ""),
         text_input("late_reason", "Reason for the delay (required: the deadline has passed)" if late
                    else "Reason for the delay (only if reported after the deadline)", required=late,
                    value=_kept(values, "late_reason") or "")],
        [act("Save", REPORTED, breach)],
    )


def ask_form(breach: Breach, values: Mapping[str, Any] | None = None) -> Card:
    """Ask the reporter a question; they are messaged at once."""
    return card(
        [heading(f"Ask the reporter about {breach.reference}"),
         text_input("question", "Your question", required=True, placeholder="e.g. Has the parent confirmed deletion?",
                    value=_kept(values, "question") or "")],
        [act("Send question", ASK, breach)],
    )


def close_form(breach: Breach, values: Mapping[str, Any] | None = None) -> Card:
    """Close a decided breach with the lessons learned (the breach stays in the log)."""
    return card(
        [heading(f"Close {breach.reference}"),
         text("Closing keeps the breach in the log (Art. 33(5)); the reporter is told.", subtle=True),
         text_input("lessons", "Lessons learned", required=True,
                    placeholder="e.g. Turn on the delay-send rule; refresher on checking recipients",
                    value=_kept(values, "lessons") or "")],
        [act("Close the breach", CLOSE, breach)],
    )
