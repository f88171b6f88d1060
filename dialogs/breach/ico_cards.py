"""Cards for the ICO report pack, the school profile, attendance and training records. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dialogs.kit.cards import Card, card, heading, plain, submit, text, text_input
from services.breach.ico_pack import ICO_FORM_URL, Section
from storage.school_models import SchoolProfile

PROFILE_SAVE = "school.profile_save"


def pack_intro_card(reference: str, sections: Sequence[Section], gaps: int, *, practice: str = "") -> Card:
    """The first card of a pack: what follows and how to use it. `practice` (a drill's note) marks it DRILL."""
    how = ("Practise copying each answer into the form; a drill's pack has no Word version." if practice
           else "Copy each answer into the form; the Word version comes as a file.")
    body = [heading(f"ICO report pack: {reference}"), *([text(practice, subtle=True)] if practice else []),
            text(f"{len(sections)} sections follow, in the order of the ICO's online breach report form. {how}"),
            text(f"{gaps} answer{'s' if gaps != 1 else ''} in red still need you." if gaps else "Every answer is filled in.",
                 attention=bool(gaps))]
    return card(body, [{"type": "Action.OpenUrl", "title": "Open the ICO's form", "url": ICO_FORM_URL}])


def section_card(number: int, section: Section, reference: str, *, practice: str = "") -> Card:
    """One section: each question, then its answer as plain text to copy, or the gap in red.
    `practice` (a drill's note) marks the card DRILL."""
    title = f"{number} \u00b7 {section.title}"
    body: list[dict[str, Any]] = [heading(f"DRILL \u00b7 {title}" if practice else title), text(reference, subtle=True)]
    if practice:
        body.append(text(practice, subtle=True))
    for answer in section.answers:
        body.append(text(f"**{plain(answer.question)}**"))
        if answer.value:
            body.append(text(plain(answer.value)))
        if answer.gap:
            body.append(text(plain(answer.gap), attention=True))
    return card(body)


def profile_card(profile: SchoolProfile | Mapping[str, str], *, error: str = "") -> Card:
    """The school profile form (the ICO form's organisation details), filled with what is saved or was typed."""
    values = profile if isinstance(profile, Mapping) else profile.model_dump()
    body: list[dict[str, Any]] = [heading("School profile"),
                                  text("What the ICO's breach report form asks about your school. Fill it in once.",
                                       subtle=True)]
    if error:
        body.append(text(error, attention=True))
    body += [
        text_input("name", "School name", multiline=False, value=str(values.get("name") or ""),
                   placeholder="e.g. St Mary's CE Primary School"),
        text_input("address", "Address", value=str(values.get("address") or ""), placeholder="street, town, postcode"),
        text_input("ico_registration", "ICO registration number", multiline=False,
                   value=str(values.get("ico_registration") or ""), placeholder="e.g. ZA123456 (data protection fee)"),
        text_input("dpo_contact", "DPO contact (name, email, phone)", multiline=False,
                   value=str(values.get("dpo_contact") or ""), placeholder="e.g. Sam Jones, dpo@school.example, 01234 567890"),
    ]
    return card(body, [submit("Save", {"cmd": PROFILE_SAVE})])
