"""What a breach report says: the answer codes with their labels, and the checks on each answer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.dates import EXAMPLES, format_uk
from services.errors import DomainError

MAX_TEXT = 4000
MAX_COUNT = 10_000_000
ICO_WINDOW = timedelta(hours=72)  # Art. 33(1): clock hours, weekends and holidays included
ICO_HOURS = ICO_WINDOW // timedelta(hours=1)
ICO_CLOCK_RULE = f"the ICO's {ICO_HOURS} hours include weekends and holidays"  # its clock never waits for a school day
# The ICO clock's stages in hours after awareness: a reminder 48, 24, 12, 4 and 1 hour before the deadline, then the
# overdue alert at the deadline itself (the last stage).
CLOCK_STAGES: tuple[int, ...] = tuple(ICO_HOURS - left for left in (48, 24, 12, 4, 1, 0))


def clock_stages(reminder: str, overdue: str) -> list[tuple[str, int]]:
    """(kind, hours after awareness) for each stage: `reminder` before the deadline, `overdue` at it."""
    return [(overdue if hours == ICO_HOURS else reminder, hours) for hours in CLOCK_STAGES]

KINDS: Mapping[str, str] = {
    "wrong_person": "Sent to the wrong person",
    "lost_stolen": "Lost or stolen device or paper",
    "unauthorised_access": "Unauthorised access",
    "cyber": "Cyber incident (phishing, ransomware, hacked account)",
    "published": "Published by mistake (e.g. a photo without consent)",
    "other": "Something else",
}
SUBJECTS: Mapping[str, str] = {"pupils": "Pupils", "staff": "Staff", "parents": "Parents/carers", "others": "Others"}
# The ICO breach report form's data categories (codes kept from earlier versions), plus what schools hold.
CATEGORIES: Mapping[str, str] = {
    "basic": "Basic personal identifiers (e.g. name, contact details)",
    "credentials": "Identification data (e.g. usernames, passwords)",
    "financial": "Economic and financial data (e.g. bank details)",
    "official": "Official documents (e.g. passport, birth certificate)",
    "location": "Location data",
    "education": "Education / assessment records (e.g. SATs results, reports)",
    "special": "Special category: health or SEN, racial or ethnic origin, religion or beliefs, political opinions, "
               "trade union membership, sex life or sexual orientation, gender reassignment, genetic or biometric",
    "criminal": "Criminal convictions or offences",
    "safeguarding": "Safeguarding / child protection",
    "unknown": "Not known yet",
}
CONTAINED: Mapping[str, str] = {"yes": "Yes", "partly": "Partly", "no": "No, not yet"}
OTHERS: Mapping[str, str] = {
    "head": "Head teacher",
    "it": "IT provider",
    "police": "Police",
    "parents": "Parents/carers",
    "nobody": "Nobody else yet",
}

# Words that point at a kind when someone describes what happened ("I emailed ... to the wrong parent").
_KIND_HINTS: tuple[tuple[str, str], ...] = (
    ("cyber", r"\b(phish\w*|ransomware|hack\w*|malware|virus|scam email|compromised)\b"),
    ("wrong_person", r"\bwrong\b|\bsent\b.*\bto\b|\bemailed\b|\bcc'?d\b|\bbcc\b"),
    ("lost_stolen", r"\b(lost|stolen|left|missing|mislaid)\b"),
    ("published", r"\b(posted|published|website|facebook|instagram|twitter|social media|newsletter)\b"),
    ("unauthorised_access", r"\b(access|looked at|snoop\w*|viewed|logged in)\b"),
)
# Words that say there is a breach without saying what happened ("I think I've made a data breach").
_NOT_THE_EVENT = frozenset((
    "i i'm im i've ive i'd we we've weve there there's theres it it's its has have had been be is was think may might "
    "maybe possibly possible potential perhaps a an the my our some data personal gdpr breach breaches incident "
    "report reporting to need want would like how do can please help urgent just made make happened something "
    "wrong gone went with about of in on for this that me us").split())
_UNKNOWN = re.compile(r"^(not known( yet)?|unknown|don'?t know|dont know|not sure|n/?k|\?)$")
_APPROX = re.compile(r"^(about|around|approx(imately)?\.?|roughly|circa|c\.|~|up to|at least)\s*")


@dataclass(frozen=True)
class BreachFacts:
    """Everything the reporter told us (validated with `check_facts`)."""

    what_happened: str
    kind: str
    how_discovered: str
    happened_at: datetime | None
    aware_at: datetime
    subjects: tuple[str, ...]
    people_count: int | None
    records_count: int | None
    data_categories: tuple[str, ...]
    contained: str
    actions_taken: str
    actions_planned: str
    others_informed: tuple[str, ...]


FACT_FIELDS: tuple[str, ...] = tuple(BreachFacts.__dataclass_fields__)


def facts_from_answers(answers: Mapping[str, Any]) -> BreachFacts:
    """Build facts from the dialog's JSON answers (ISO dates, lists); raises DomainError when one is missing."""
    missing = [name for name in FACT_FIELDS if name not in answers]
    if missing:
        raise DomainError("Some answers are missing. Please answer every question before sending.")
    values = dict(answers)
    for name in ("happened_at", "aware_at"):
        values[name] = datetime.fromisoformat(values[name]) if values[name] else None
    for name in ("subjects", "data_categories", "others_informed"):
        values[name] = tuple(values[name])
    return BreachFacts(**{name: values[name] for name in FACT_FIELDS})


def facts_to_answers(facts: BreachFacts) -> dict[str, Any]:
    """The JSON form of facts (inverse of `facts_from_answers`)."""
    values: dict[str, Any] = {name: getattr(facts, name) for name in FACT_FIELDS}
    for name in ("happened_at", "aware_at"):
        values[name] = values[name].isoformat() if values[name] else None
    for name in ("subjects", "data_categories", "others_informed"):
        values[name] = list(values[name])
    return values


def clean_text(value: str, *, required: bool = True) -> str:
    """Trimmed free text, at most MAX_TEXT characters."""
    cleaned = value.strip()
    if required and not cleaned:
        raise DomainError("Please type an answer (or `back` to go back, `cancel` to stop).")
    if len(cleaned) > MAX_TEXT:
        raise DomainError(f"That's {len(cleaned):,} characters — please keep it under {MAX_TEXT:,}. A summary is fine.")
    return cleaned


def parse_count(text: str) -> int | None:
    """A whole, non-negative number, or None for "not known yet"."""
    said = " ".join(text.lower().split()).strip(" .!")
    if _UNKNOWN.match(said):
        return None
    said = _APPROX.sub("", said).replace(",", "")
    said = re.sub(r"\s*(people|persons|pupils|children|staff|records|documents|files|emails|rows)$", "", said)
    if re.fullmatch(r"-\s*\d+(\.\d+)?", said):
        raise DomainError("The number can't be negative. Please give a whole number like 30, or say `not known yet`.")
    if re.fullmatch(r"\d+\.\d+", said):
        raise DomainError("Please give a whole number (an estimate is fine), like 30 — or say `not known yet`.")
    if not re.fullmatch(r"\d+", said):
        raise DomainError("Please type a number, like 30 — or say `not known yet`.")
    number = int(said)
    if number > MAX_COUNT:
        raise DomainError(f"That's more than {MAX_COUNT:,}. Please check the number, or say `not known yet`.")
    return number


def pick_codes(values: Sequence[str], options: Mapping[str, str], *, exclusive: str | None = None) -> tuple[str, ...]:
    """Known codes in option order; `exclusive` (e.g. "nobody") cannot be combined with others."""
    unknown = [v for v in values if v not in options]
    if unknown or not values:
        raise DomainError("Please pick at least one of the options.")
    picked = tuple(code for code in options if code in values)
    if exclusive is not None and exclusive in picked and len(picked) > 1:
        raise DomainError(f"“{options[exclusive]}” can't be combined with other answers. Please pick again.")
    return picked


def check_happened(happened_at: datetime | None, *, aware_at: datetime | None, now: datetime) -> None:
    """When it happened: not in the future, not after the school became aware."""
    if happened_at is None:
        return
    if happened_at > now:
        raise DomainError(f"That's in the future ({format_uk(happened_at)}). When did it happen? Try {EXAMPLES}.")
    if aware_at is not None and happened_at > aware_at:
        raise DomainError(
            f"That's after the school became aware of it ({format_uk(aware_at)}). "
            f"When did it happen? Try {EXAMPLES}, or say `not known`."
        )


def check_aware(aware_at: datetime, *, happened_at: datetime | None, now: datetime) -> None:
    """When the school became aware: not in the future, not before the incident."""
    if aware_at > now:
        raise DomainError(f"That's in the future ({format_uk(aware_at)}). When did the school become aware? Try {EXAMPLES}.")
    if happened_at is not None and aware_at < happened_at:
        raise DomainError(
            f"That's before it happened ({format_uk(happened_at)}). When did the school become aware? "
            f"Try {EXAMPLES}, or `now`."
        )


def check_facts(facts: BreachFacts, *, now: datetime) -> None:
    """Every rule at once (the service re-checks what the dialog checked)."""
    if facts.kind not in KINDS or facts.contained not in CONTAINED:
        raise DomainError("Please choose the kind of breach and whether it has been contained.")
    for value in (facts.what_happened, facts.how_discovered, facts.actions_taken, facts.actions_planned):
        clean_text(value, required=False)
    if not facts.what_happened.strip():
        raise DomainError("Please say what happened.")
    pick_codes(facts.subjects, SUBJECTS)
    pick_codes(facts.data_categories, CATEGORIES)
    pick_codes(facts.others_informed, OTHERS, exclusive="nobody")
    for count in (facts.people_count, facts.records_count):
        if count is not None and not 0 <= count <= MAX_COUNT:
            raise DomainError("Numbers must be whole and not negative.")
    check_happened(facts.happened_at, aware_at=facts.aware_at, now=now)
    check_aware(facts.aware_at, happened_at=facts.happened_at, now=now)


def guess_kind(description: str) -> str | None:
    """The kind a description most likely means, for the reporter to confirm."""
    said = description.lower()
    for kind, pattern in _KIND_HINTS:
        if re.search(pattern, said):
            return kind
    return None


def describes_event(text: str) -> bool:
    """True when an opening message says what happened (usable as "what happened"), not only that there is a breach."""
    words = re.findall(r"[a-z][a-z']*", text.lower())
    telling = sum(1 for w in words if w not in _NOT_THE_EVENT and len(w) > 2)
    return telling >= 2 or (telling == 1 and guess_kind(text) is not None)


def labels(codes: Sequence[str], options: Mapping[str, str]) -> str:
    """Codes as a readable list ("Pupils, Staff")."""
    return ", ".join(options.get(code, code) for code in codes) or "—"


def count_text(count: int | None) -> str:
    """A count for people to read ("about 30", "not known yet")."""
    return "not known yet" if count is None else f"about {count:,}"


FIELD_LABELS: Mapping[str, str] = {
    "what_happened": "What happened",
    "kind": "Kind",
    "how_discovered": "How it was found",
    "happened_at": "When it happened",
    "aware_at": "School aware since",
    "subjects": "Whose data",
    "people_count": "People affected",
    "records_count": "Records involved",
    "data_categories": "Data involved",
    "contained": "Contained",
    "actions_taken": "Done so far",
    "actions_planned": "Planned",
    "others_informed": "Who else knows",
}
_CHOICES: Mapping[str, Mapping[str, str]] = {
    "kind": KINDS, "subjects": SUBJECTS, "data_categories": CATEGORIES, "contained": CONTAINED, "others_informed": OTHERS,
}


def describe(name: str, value: Any) -> str:
    """One fact's value for people to read (facts-typed: datetimes, tuples, ints)."""
    if name in ("happened_at", "aware_at"):
        return format_uk(value) if value else "not known"
    if name in ("people_count", "records_count"):
        return count_text(value)
    if name in _CHOICES:
        return labels(value, _CHOICES[name]) if isinstance(value, (list, tuple)) else _CHOICES[name].get(value, "—")
    return str(value) if value else "—"
