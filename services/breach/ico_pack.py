"""The ICO report pack: a breach's answers in the order and wording of the ICO's online breach report form.

`build_pack` is pure (no Teams, no database): breach drills build packs for practice breaches with it.
`load_pack` gathers a real breach's school profile and reporter's training for the school's DPOs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.breach.assessment import RISK_ADVICE, Risk
from services.breach.decisions import INDIVIDUALS
from services.breach.facts import CATEGORIES, CONTAINED, KINDS, OTHERS, SUBJECTS, count_text, labels
from services.breach.records import load_breach
from services.dates import format_uk
from services.identity import Actor
from services.training.record import attended, valid_since
from storage.breach_models import Breach
from storage.school_models import SchoolProfile

ICO_FORM_URL = "https://ico.org.uk/for-organisations/report-a-breach/"
NOT_KNOWN = ("Not known yet \u2014 the ICO accepts this in an initial report; send a follow-up without undue further "
             "delay (Art. 33(4)) as soon as you know.")
NO_PROFILE = "Not filled in: type \u201cschool profile\u201d to add your school's details once."
# The form's "Reason for report", from the DPO's decision.
REASONS = {
    "notify": "I consider the incident meets the threshold to report",
    "not_notifiable": "I do not consider the incident meets the threshold to report, however I want you to be aware",
}
UNCLEAR = "I am unclear whether the incident meets the threshold to report"
TOLD_PEOPLE = {"tell": "Yes, we've told them, or are about to (Art. 34)", "not_required": "No, we've decided not to: "
               "the risk to them is not high"}


@dataclass(frozen=True)
class Answer:
    """One question of the form with its answer; `gap` (shown in red) says what is missing and what to do."""

    question: str
    value: str
    gap: str = ""


@dataclass(frozen=True)
class Section:
    """One part of the form."""

    title: str
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class Training:
    """The reporter's latest data-protection session attended (from the training record), if any."""

    person: str
    title: str = ""
    at: datetime | None = None
    months: int = 24


def _known(question: str, value: str, gap: str = NOT_KNOWN) -> Answer:
    return Answer(question, value, "" if value.strip() else gap)


def _organisation(profile: SchoolProfile | None) -> Section:
    found = profile or SchoolProfile(tenant_id="")
    return Section("Organisation details", (
        _known("Organisation name", found.name, NO_PROFILE),
        _known("Registration number (ICO data protection fee)", found.ico_registration, NO_PROFILE),
        _known("Registered organisation address", found.address, NO_PROFILE),
        _known("Data protection officer (name, email, phone)", found.dpo_contact, NO_PROFILE),
        Answer("Business sector", "Education and childcare"),
    ))


def _report_type(breach: Breach) -> Section:
    answers = [Answer("Report type", "Initial report" if breach.ico_reported_at is None else "Follow-up report")]
    if breach.ico_reported_at is not None:
        answers.append(Answer("ICO case reference", breach.ico_reference))
    answers.append(Answer("Reason for report", REASONS.get(breach.decision or "", UNCLEAR)))
    return Section("Initial or follow-up report", tuple(answers))


def _timing(breach: Breach, now: datetime) -> Section:
    late = (breach.ico_reported_at or now) > breach.deadline_at
    delay = (_known("If there has been a delay in reporting this breach, please explain why", breach.late_reason,
                    f"The 72 hours ended {format_uk(breach.deadline_at)} UK time: the ICO asks why the report is late. "
                    "Say why (e.g. what had to be checked first).")
             if late else Answer("If there has been a delay in reporting this breach, please explain why",
                                 f"No delay: the 72 hours end {format_uk(breach.deadline_at)} UK time."))
    happened = format_uk(breach.happened_at) + " UK time" if breach.happened_at else ""
    return Section("When did the breach happen?", (_known("When did the breach happen?", happened), delay))


def _consequences(breach: Breach) -> Section:
    risk = RISK_ADVICE.get(Risk(breach.suggested_risk)) if breach.suggested_risk in set(Risk) else None
    said = " ".join(breach.suggested_reasons)
    value = f"{said} (Custodian's assessment from the facts: {risk}.)" if said and risk else said
    return Section("Potential consequences", (
        _known("Describe the possible impact on data subjects, and any actual harm", value),
    ))


def _told_people(breach: Breach, decide_with: str) -> Answer:
    question = "Have you told data subjects about the breach?"
    choice = breach.individuals or "undecided"
    if choice == "undecided":
        how = decide_with or f"type \u201crecord decision {breach.reference}\u201d"
        return Answer(question, "We haven't decided yet if we will tell them or not",
                      f"Decide whether to tell the people affected ({how}).")
    value = TOLD_PEOPLE.get(choice, f"No, we've decided not to: {INDIVIDUALS.get(choice, choice)}")
    return Answer(question, value + (f". {breach.individuals_note}" if breach.individuals_note else ""))


def _training(training: Training, now: datetime) -> Answer:
    question = "Had the staff member involved in this breach received data protection training in the last two years?"
    if training.at is not None and training.at >= valid_since(now, training.months):
        session = f"\u201c{training.title}\u201d on {format_uk(training.at)}"
        return Answer(question, f"Yes \u2014 {training.person} (who reported it) attended {session}.")
    last = f"last: \u201c{training.title}\u201d, {format_uk(training.at)}" if training.at else "none recorded"
    return Answer(question, "", f"Custodian has no data-protection session attended by {training.person} in the last "
                                f"{training.months} months ({last}). Check whether they trained elsewhere; if not, answer No.")


def build_pack(breach: Breach, profile: SchoolProfile | None, training: Training, *, now: datetime,
               decide_with: str = "") -> list[Section]:
    """The form's sections in its order, each answered from the breach; gaps say what to do (`decide_with`: how to
    record the decision on telling people, when not `record decision BR-…`)."""
    actions = "\n".join(f"{label}: {text}" for label, text in (("Done", breach.actions_taken),
                                                                 ("Planned", breach.actions_planned)) if text.strip())
    others = [code for code in breach.others_informed if code != "nobody"]
    return [
        _organisation(profile),
        _report_type(breach),
        Section("What has happened?", (
            _known("Tell us as much as you can about what happened, what went wrong and how it happened",
                   breach.what_happened),
            Answer("Kind of breach", KINDS.get(breach.kind, breach.kind)),
        )),
        Section("How and when did you find out?", (
            _known("How did you find out about the breach?", breach.how_discovered),
            Answer("When did you discover the breach?", format_uk(breach.aware_at) + " UK time"),
        )),
        _timing(breach, now),
        Section("Cyber incident", (
            _known("Was the breach caused by a cyber incident?",
                   "" if breach.kind == "other" else "Yes" if breach.kind == "cyber" else "No"),
        )),
        Section("Data subjects and records", (
            Answer("Categories of data subjects affected", labels(breach.subjects, SUBJECTS)),
            _known("How many data subjects could be affected?", _count(breach.people_count)),
            _known("Number of personal data records concerned?", _count(breach.records_count)),
        )),
        Section("Categories of personal data", (_categories(breach),)),
        _consequences(breach),
        Section("Containment and recovery", (
            Answer("Has the breach been contained?", CONTAINED.get(breach.contained, breach.contained)),
            _known("Describe the actions you have taken, or propose to take, as a result of the breach", actions),
        )),
        Section("Who else has been told?", (
            Answer("Have you told, or are you planning to tell, any other organisations about the breach?",
                   labels(others, OTHERS) if others else "No, nobody else yet"),
        )),
        Section("Telling the people affected", (_told_people(breach, decide_with),)),
        Section("Staff training", (_training(training, now),)),
    ]


def _categories(breach: Breach) -> Answer:
    data = [code for code in breach.data_categories if code != "unknown"]
    gap = NOT_KNOWN if "unknown" in breach.data_categories or not data else ""
    return Answer("Categories of personal data included in the breach", labels(data, CATEGORIES) if data else "", gap)


def _count(count: int | None) -> str:
    return "" if count is None else count_text(count)


def gaps(sections: Sequence[Section]) -> int:
    """How many answers still need something."""
    return sum(1 for section in sections for answer in section.answers if answer.gap)


async def load_pack(
    session: AsyncSession, *, actor: Actor, reference: str | None = None, breach_id: int | None = None,
    months: int, now: datetime,
) -> tuple[Breach, list[Section]]:
    """A breach's pack for a DPO of its school (anyone else: not found)."""
    breach = await load_breach(session, actor=actor, reference=reference, breach_id=breach_id, dpo_only=True)
    profile = await session.get(SchoolProfile, actor.tenant_id)
    sessions = await attended(session, tenant_id=breach.tenant_id, aad_id=breach.reporter_aad_id)
    person = breach.reporter_name or "the reporter"
    training = (Training(person, sessions[0].title, sessions[0].starts_at, months) if sessions
                else Training(person, months=months))
    return breach, build_pack(breach, profile, training, now=now)
