"""A suggested ICO risk assessment from the facts, with its reasons. Pure; the DPO decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.breach.facts import BreachFacts

LARGE_PEOPLE = 50
LARGE_RECORDS = 500
SEVERE = {
    "special": "Special category data (e.g. health, SEN, ethnic origin, religion, biometrics): harm could be serious.",
    "safeguarding": "Safeguarding or child protection information: harm could be serious.",
    "criminal": "Criminal records or allegations: harm could be serious.",
}
SENSITIVE = {
    "financial": "Financial details can be used for fraud.",
    "credentials": "Usernames or passwords can give access to more data.",
    "official": "Official documents can be used for identity theft.",
    "location": "Where someone lives or will be can put them at risk.",
    "education": "Education or assessment records (e.g. SATs results, reports) can cause distress or unfair treatment.",
}


class Risk(StrEnum):
    """The ICO self-assessment outcome the answers point to."""

    UNLIKELY = "unlikely"  # record the reasons; don't notify
    LIKELY = "likely"  # notify the ICO within 72 hours
    HIGH = "high"  # notify the ICO and tell the individuals (Art. 34)


RISK_ADVICE = {
    Risk.UNLIKELY: "Risk to people unlikely: record it, don't notify the ICO (record the reasons)",
    Risk.LIKELY: "Likely risk to people: notify the ICO within 72 hours",
    Risk.HIGH: "High risk to people: notify the ICO and tell the people affected (Art. 34)",
}


@dataclass(frozen=True)
class Assessment:
    """The suggestion and every reason behind it, in the order they apply."""

    risk: Risk
    reasons: tuple[str, ...]

    @property
    def advice(self) -> str:
        """One line for the DPO."""
        return RISK_ADVICE[self.risk]


def assess(facts: BreachFacts) -> Assessment:
    """Suggest: likely risk when the data or numbers are sensitive or it is not contained; high when also severe."""
    categories = set(facts.data_categories)
    reasons = [SEVERE[c] for c in SEVERE if c in categories] + [SENSITIVE[c] for c in SENSITIVE if c in categories]
    severe = bool(categories & SEVERE.keys())
    likely = severe or bool(categories & SENSITIVE.keys())
    if "unknown" in categories:
        reasons.append("The data involved is not known yet: assume a risk until it is.")
        likely = True
    if facts.kind == "cyber":
        reasons.append("A cyber incident: systems or accounts were compromised and more data may be exposed.")
        likely = True
    large = (facts.people_count or 0) >= LARGE_PEOPLE or (facts.records_count or 0) >= LARGE_RECORDS
    if large:
        reasons.append(f"Large numbers (about {facts.people_count or '?'} people, {facts.records_count or '?'} records).")
        likely = True
    if facts.people_count is None:
        reasons.append("The number of people is not known yet.")
    uncontained = facts.contained != "yes"
    children = "pupils" in facts.subjects
    if children:
        reasons.append("Children's data: children merit specific protection.")
    if uncontained:
        reasons.append("Not contained yet: the data may still be seen or spread." if facts.contained == "no"
                       else "Only partly contained: some of the data may still be seen or spread.")
        if children or large or facts.people_count is None:
            likely = True
    else:
        reasons.append("Contained or recovered, which lowers the risk.")
    high = likely and uncontained and (severe or (large and children))
    if not likely:
        reasons.append("Only limited data, few people and contained: a risk to people's rights is unlikely.")
    return Assessment(Risk.HIGH if high else Risk.LIKELY if likely else Risk.UNLIKELY, tuple(reasons))
