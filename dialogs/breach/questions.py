"""The breach report's questions: how each is asked, and how an answer (typed or pressed) is read and checked.

Answers are kept as JSON (ISO dates, lists of codes, ints or None) so dialog state survives a restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dialogs.breach.forms import question_card
from dialogs.kit.cards import Card, toggled
from services.breach.facts import (
    CATEGORIES,
    CONTAINED,
    FIELD_LABELS,
    KINDS,
    OTHERS,
    SUBJECTS,
    check_aware,
    check_happened,
    clean_text,
    describe,
    parse_count,
    pick_codes,
)
from services.dates import EXAMPLES, parse_uk_datetime
from services.errors import DomainError

NOT_KNOWN = re.compile(r"^(not known( yet)?|unknown|don'?t know|not sure)$")
BACK_WORDS = frozenset({"back", "go back", "previous", "undo"})


@dataclass(frozen=True)
class Question:
    """One thing the reporter is asked."""

    key: str
    prompt: str
    style: str  # text | date | count | buttons | choice | multi
    options: Mapping[str, str] | None = None
    quick: tuple[tuple[str, str], ...] = ()
    exclusive: str | None = None


QUESTIONS: dict[str, Question] = {q.key: q for q in (
    Question("what_happened", "**What happened?** Describe it in your own words. Please don't name pupils.", "text"),
    Question("kind", "**What kind of breach is it?**", "choice", KINDS),
    Question("how_discovered", "**How was it found, and by whom?** (e.g. the parent emailed the school office)", "text"),
    Question("happened_at", f"**When did it happen?** ({EXAMPLES})", "date", quick=(("Not known", "not known"),)),
    Question("aware_at", "**When did the school first become aware of it?** This starts the ICO's 72-hour clock. "
             f"({EXAMPLES})", "date", quick=(("Just now", "now"),)),
    Question("subjects", "**Whose data is it?**", "multi", SUBJECTS),
    Question("people_count", "**About how many people's data is involved?** A number, or `not known yet`.", "count",
             quick=(("Not known yet", "not known yet"),)),
    Question("records_count", "**About how many records or documents?** A number, or `not known yet`.", "count",
             quick=(("Not known yet", "not known yet"),)),
    Question("data_categories", "**What kind of information was involved?**", "multi", CATEGORIES),
    Question("contained", "**Has it been contained or recovered?** (e.g. the recipient confirmed they deleted it)",
             "buttons", CONTAINED),
    Question("actions_taken", "**What has been done so far?**", "text", quick=(("Nothing yet", "Nothing yet"),)),
    Question("actions_planned", "**What is planned next?**", "text", quick=(("Nothing planned yet", "Nothing planned yet"),)),
    Question("others_informed", "**Who else knows about it?**", "multi", OTHERS, exclusive="nobody"),
)}
ORDER: tuple[str, ...] = tuple(QUESTIONS)


def _when(answers: Mapping[str, Any], key: str) -> datetime | None:
    value = answers.get(key)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def as_fact(key: str, value: Any) -> Any:
    """A JSON answer in the facts' types (datetimes, tuples)."""
    if key in ("happened_at", "aware_at"):
        return datetime.fromisoformat(value) if value else None
    return tuple(value) if isinstance(value, list) else value


def answer_text(key: str, answers: Mapping[str, Any]) -> str:
    """An answer as people read it, or "—" when not answered."""
    return describe(key, as_fact(key, answers[key])) if key in answers else "\u2014"


def date_echo(key: str, answers: Mapping[str, Any]) -> str | None:
    """A date answer read back, so a misread time is seen at once (e.g. "School aware since: Wed 02 Dec 2026, 08:45")."""
    if QUESTIONS.get(key) is None or QUESTIONS[key].style != "date" or key not in answers:
        return None
    return f"{FIELD_LABELS[key]}: **{answer_text(key, answers)}** (UK time)"


def preselected(key: str, answers: Mapping[str, Any], guess: str | None) -> str | None:
    """The choice a question's card shows selected (an earlier answer, or the guessed kind), as Teams sends it."""
    if key not in QUESTIONS or QUESTIONS[key].style not in ("choice", "multi"):
        return None
    current = answers.get(key, guess if key == "kind" else None)
    return ",".join(current) if isinstance(current, list) else current if isinstance(current, str) else None


def question_prompt(key: str, answers: Mapping[str, Any], *, back: bool, guess: str | None = None, echo: str = "") -> Card:
    """The card asking one question, showing the current answer (or the guessed kind) when there is one."""
    question = QUESTIONS[key]
    current = answers.get(key)
    note = ""
    if key == "kind" and current is None and guess:
        current, note = guess, f"From what you said, this looks like **{KINDS[guess]}**. Change it if not, then press Next."
    elif current is not None and question.style not in ("choice", "multi"):
        note = f"Your answer so far: {answer_text(key, answers)}"
    if question.style == "count" and isinstance(current, int):
        current = None
    return question_card(question.prompt, q=key, style=question.style, options=question.options,
                         current=current if isinstance(current, (str, list)) else None, quick=question.quick,
                         note=note, back=back, keep=key in answers and question.style not in ("choice", "multi"),
                         echo=echo)


def said_in(value: Mapping[str, Any]) -> str:
    """What a reply says: the card's answer (ticked checkboxes as "a,b"), else the typed text."""
    answer = value.get("answer")
    answer = toggled(value) if answer is None else answer
    return str(answer if answer is not None else value.get("text", "")).strip()


def _match(said: str, options: Mapping[str, str]) -> str:
    said = said.strip().lower()
    if not said:
        raise DomainError("Nothing was chosen. Please pick one, then press **Next**.")
    hits = [code for code, label in options.items() if said in (code, label.lower()) or (len(said) > 2 and said in label.lower())]
    if said.isdigit() and 1 <= int(said) <= len(options):
        hits = [list(options)[int(said) - 1]]
    if len(hits) != 1:
        raise DomainError(f"Sorry, I didn't catch that. Please pick one of: {', '.join(options.values())}.")
    return hits[0]


def check_value(key: str, value: Any, answers: Mapping[str, Any], *, now: datetime) -> Any:
    """Check one JSON answer (from the dialog or a prefill); returns it cleaned, or raises DomainError."""
    question = QUESTIONS[key]
    if question.style == "text":
        return clean_text(value) if isinstance(value, str) else clean_text("")
    if question.style in ("choice", "buttons"):
        return _match(str(value), question.options or {})
    if question.style == "multi":
        return list(pick_codes(list(value), question.options or {}, exclusive=question.exclusive))
    if question.style == "count":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise DomainError("Numbers must be whole and not negative.")
        return value
    moment = datetime.fromisoformat(value) if value is not None else None
    if moment is not None and moment.tzinfo is None:
        raise DomainError("A date without a time zone.")
    if key == "happened_at":
        check_happened(moment, aware_at=_when(answers, "aware_at"), now=now)
    elif moment is None:
        raise DomainError(f"Please say when the school became aware, {EXAMPLES}.")
    else:
        check_aware(moment, happened_at=_when(answers, "happened_at"), now=now)
    return value


def read_answer(key: str, said: str, answers: Mapping[str, Any], *, now: datetime) -> Any:
    """Turn what the user typed or pressed into a checked JSON answer."""
    question = QUESTIONS[key]
    if question.style == "multi":
        parts = [p for p in re.split(r",|\band\b|;", said) if p.strip()]
        codes = [p.strip() if p.strip() in (question.options or {}) else _match(p, question.options or {}) for p in parts]
        return check_value(key, codes, answers, now=now)
    if question.style == "count":
        return check_value(key, parse_count(said), answers, now=now)
    if question.style == "date":
        cleaned = " ".join(said.lower().split())
        if key == "happened_at" and NOT_KNOWN.match(cleaned):
            return check_value(key, None, answers, now=now)
        moment = parse_uk_datetime(said, now=now, prefer="past")
        return check_value(key, moment.isoformat(), answers, now=now)
    return check_value(key, said, answers, now=now)


def clean_prefill(prefill: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The prefilled answers that pass their checks (others are asked as usual)."""
    answers: dict[str, Any] = {}
    for key in ORDER:
        if key in prefill:
            try:
                answers[key] = check_value(key, prefill[key], {**prefill, **answers}, now=now)
            except (DomainError, TypeError, ValueError):
                continue
    return answers


def summary_pairs(answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, answer) for every question, in order."""
    return [(FIELD_LABELS[key], answer_text(key, answers)) for key in ORDER]
