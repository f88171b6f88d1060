"""Unit tests: the consent rule, purposes in plain words, the pupil index, the DPO's command phrasing, school mornings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from dialogs.consent.admin import parse_command
from dialogs.consent.check import only_purpose
from services.consent.posts import clean_link, to_id
from services.consent.pupil_csv import year_code
from services.consent.pupil_search import PupilIndex, PupilRef
from services.consent.rules import Reason, pupil_label, purpose_in, verdict, year_label
from services.errors import DomainError, NotAllowed
from storage.consent_models import ConsentState, Pupil, PupilConsent

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def a_pupil(**changes: Any) -> Pupil:
    fields: dict[str, Any] = {"id": 1, "tenant_id": "t", "mis_id": "M1", "legal_surname": "Smith", "forename": "Olivia",
                                 "year_group": "4", "class_name": "4B", "created_at": NOW, "updated_at": NOW}
    return Pupil(**{**fields, **changes})


def a_consent(state: ConsentState, review_on: date | None = None) -> PupilConsent:
    return PupilConsent(tenant_id="t", pupil_id=1, purpose="social_media", state=state, review_on=review_on, updated_at=NOW)


@pytest.mark.parametrize(
    ("pupil", "consent", "expected"),
    [
        ({}, a_consent(ConsentState.GRANTED), Reason.OK),
        ({}, a_consent(ConsentState.GRANTED, date(2026, 11, 25)), Reason.OK),  # valid on its review date
        ({}, a_consent(ConsentState.GRANTED, date(2026, 11, 24)), Reason.EXPIRED),
        ({}, a_consent(ConsentState.REFUSED), Reason.REFUSED),
        ({}, a_consent(ConsentState.NOT_ASKED), Reason.NOT_ASKED),
        ({}, None, Reason.NOT_ASKED),
        ({"left_at": NOW}, a_consent(ConsentState.GRANTED), Reason.LEFT),
        ({"never_publish": True}, a_consent(ConsentState.GRANTED), Reason.NEVER_PUBLISH),
        ({"never_publish": True, "left_at": NOW}, a_consent(ConsentState.REFUSED), Reason.NEVER_PUBLISH),
    ],
)
def test_the_consent_rule(pupil: dict[str, object], consent: PupilConsent | None, expected: Reason) -> None:
    assert verdict(a_pupil(**pupil), consent, TODAY) is expected


def test_labels() -> None:
    assert pupil_label(a_pupil(preferred_name="Liv")) == "Liv Smith (Year 4, 4B)"
    assert pupil_label(a_pupil(year_group="R", class_name="RB", left_at=NOW)) == "Olivia Smith (Reception, RB, left)"
    assert [year_code(x) for x in ("Year 4", "Y4", "yr 10", "4", "Reception", "R", "Nursery", "Sixth form")] == [
        "4", "4", "10", "4", "R", "R", "N", "Sixth form"]
    assert year_label("10") == "Year 10"


@pytest.mark.parametrize(
    ("text", "purpose"),
    [("School social media", "social_media"), ("our Facebook page", "social_media"), ("the website", "website"),
     ("Newsletter/Prospectus", "newsletter"), ("Local press", "press"), ("local media", "press"),
     ("corridor display", "displays"), ("Internal displays", "displays"), ("a sports day", None)],
)
def test_purposes_in_plain_words(text: str, purpose: str | None) -> None:
    found = purpose_in(text)
    assert (found[0].value if found else None) == purpose


def test_a_phrasing_names_a_purpose_only_when_it_names_one() -> None:
    assert only_purpose("can I share this picture on facebook?") == "social_media"
    assert only_purpose("can I post this photo on the website and instagram?") is None
    assert only_purpose("can I post this photo of Year 4 sports day?") is None


REFS = [
    PupilRef(1, "Olivia Smith (Year 4, 4B)", "4B", "4", False),
    PupilRef(2, "Oliver Brown (Year 3, 3A)", "3A", "3", False),
    PupilRef(3, "Ollie Brown (Year 5, 5C)", "5C", "5", False),
    PupilRef(4, "Olivia Jones (Year 4, 4B)", "4B", "4", False),
    PupilRef(5, "Jack Jones (Year 4, 4B)", "4B", "4", True),
]
NAMES = [("Olivia Smith",), ("Oliver Brown",), ("Ollie Brown", "Oliver Brown"), ("Olivia Jones",), ("Jack Jones",)]
INDEX = PupilIndex(REFS, NAMES)


@pytest.mark.parametrize(
    ("said", "ids", "group"),
    [
        ("Olivia Smith", [1], ""), ("olivai smtih", [1], ""), ("SMITH OLIVIA", [1], ""),
        ("Oliver Brown", [2, 3], ""), ("Oliver Brown 5C", [3], ""), ("oliver brown year 3", [2], ""), ("Ollie", [3], ""),
        ("Olivia", [4, 1], ""), ("Zebedee", [], ""), ("Jack Jones", [5], ""),
        ("4B", [1, 4], "class 4B"), ("class 4b", [1, 4], "class 4B"), ("Year 4 class 4B", [1, 4], "class 4B"),
        ("Year 3", [2], "Year 3"), ("the whole of 5C", [3], "class 5C"),
    ],
)
def test_pupil_lookup(said: str, ids: list[int], group: str) -> None:
    found = INDEX.lookup(said)
    assert sorted(r.id for r in found.matches) == sorted(ids) and found.group == group


def test_lookup_all_splits_on_commas_and_and() -> None:
    parts = INDEX.lookup_all("Olivia Smith, Jack Jones and Oliver Brown 3A & 5C")
    assert [sorted(r.id for r in p.matches) for p in parts] == [[1], [5], [2], [3]]
    assert all(p.resolved for p in parts)
    assert not INDEX.lookup("Oliver Brown").resolved and not INDEX.lookup("Nobody Here").resolved


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("consent withdrawn for Olivia Smith social media", ("withdrawn", "Olivia Smith", "social_media", "", "", "")),
        ("consent refused for Olivia Smith website by father", ("withdrawn", "Olivia Smith", "website", "father", "", "")),
        ("consent granted for Amir Khan newsletter by mother until 31/08/2027",
         ("granted", "Amir Khan", "newsletter", "mother", "31/08/2027", "")),
        ("consent given Olivia Smith", ("granted", "Olivia Smith", None, "", "", "")),
        ("never publish Olivia Smith - court order", ("never", "Olivia Smith", None, "", "", "court order")),
        ("never publish Amy Lee because adopted", ("never", "Amy Lee", None, "", "", "adopted")),
        ("never publish Amy Lee", ("never", "Amy Lee", None, "", "", "")),
        ("pupil left Jack Jones", ("left", "Jack Jones", None, "", "", "")),
        ("pupil has left", ("left", "", None, "", "", "")),
        ("record published without consent", ("published", "", None, "", "", "")),
    ],
)
def test_dpo_commands_are_read(text: str, expected: tuple[object, ...]) -> None:
    c = parse_command(text)
    assert (c.action, c.pupil, c.purpose, c.given_by, c.until, c.reason) == expected


def test_ids_and_links_from_users_are_checked() -> None:
    assert to_id("12") == 12 and to_id(12) == 12 and to_id("9" * 18) == 10**18 - 1  # ids are BIGINT
    for bad in ("1 OR 1=1", None, True, -1, "9" * 19, "\u0661\u0662", "\u00b2", [1], {"id": 1}):
        with pytest.raises(NotAllowed):
            to_id(bad)
    assert clean_link("  https://example.org/a  ") == "https://example.org/a" and clean_link("") == ""
    for bad in ("javascript:alert(1)", "example.org", "https://a b"):
        with pytest.raises(DomainError):
            clean_link(bad)
