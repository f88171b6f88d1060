"""The ICO pack builder, the school profile's checks and the training period, without Teams."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from docx import Document

from dialogs.breach.ico_cards import section_card
from services.breach.ico_docx import pack_docx
from services.breach.ico_pack import NO_PROFILE, NOT_KNOWN, Section, Training, build_pack, gaps
from services.errors import DomainError
from services.school.profile import read_profile
from services.training.record import valid_since
from storage.breach_models import Breach
from storage.school_models import SchoolProfile

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PROFILE = SchoolProfile(tenant_id="t", name="St Mary's", address="1 Church Lane", ico_registration="ZA123456",
                        dpo_contact="Dana Price, dpo@example.org")


def breach(**changes: Any) -> Breach:
    values: dict[str, Any] = dict(
        tenant_id="t", reference="BR-2026-0001", reporter_aad_id="r", reporter_name="Megan Bowen", kind="wrong_person",
        what_happened="Emailed a report to the wrong parent", how_discovered="The parent phoned",
        happened_at=NOW - timedelta(hours=3), aware_at=NOW - timedelta(hours=1), deadline_at=NOW + timedelta(hours=71),
        subjects=["pupils"], people_count=1, records_count=2, data_categories=["basic", "special"], contained="yes",
        actions_taken="Parent deleted it", actions_planned="Delay send", others_informed=["head"],
        suggested_risk="high", suggested_reasons=["Special category data."], decision="notify", individuals="tell",
        created_at=NOW, updated_at=NOW,
    )
    values.update(changes)
    return Breach(**values)


TRAINED = Training("Megan Bowen", "Data protection basics", NOW - timedelta(days=300))


def answers(sections: list[Section]) -> dict[str, tuple[str, str]]:
    return {a.question: (a.value, a.gap) for s in sections for a in s.answers}


def test_a_complete_breach_has_no_gaps() -> None:
    sections = build_pack(breach(), PROFILE, TRAINED, now=NOW)
    assert gaps(sections) == 0
    found = answers(sections)
    assert found["Was the breach caused by a cyber incident?"] == ("No", "")
    assert found["Report type"] == ("Initial report", "")
    assert found["How many data subjects could be affected?"] == ("about 1", "")
    assert found["Have you told, or are you planning to tell, any other organisations about the breach?"][0] == "Head teacher"


def test_unknowns_are_gaps_with_the_follow_up_note() -> None:
    sections = build_pack(breach(happened_at=None, people_count=None, data_categories=["unknown"], kind="other",
                                 individuals=None), None, Training("Megan Bowen"), now=NOW)
    found = answers(sections)
    for question in ("When did the breach happen?", "How many data subjects could be affected?",
                     "Categories of personal data included in the breach", "Was the breach caused by a cyber incident?"):
        assert found[question] == ("", NOT_KNOWN), question
    assert found["Organisation name"] == ("", NO_PROFILE)
    assert "record decision BR-2026-0001" in found["Have you told data subjects about the breach?"][1]
    assert "none recorded" in found[next(q for q in found if q.startswith("Had the staff member"))][1]


def test_training_counts_for_24_months_to_the_day() -> None:
    question = "Had the staff member involved in this breach received data protection training in the last two years?"
    on_the_day = Training("Megan Bowen", "Basics", valid_since(NOW, 24))
    assert answers(build_pack(breach(), PROFILE, on_the_day, now=NOW))[question][0].startswith("Yes")
    day_before = Training("Megan Bowen", "Basics", valid_since(NOW, 24) - timedelta(seconds=1))
    assert answers(build_pack(breach(), PROFILE, day_before, now=NOW))[question][0] == ""
    assert valid_since(datetime(2028, 2, 29, 12, tzinfo=UTC), 24) == datetime(2026, 2, 28, tzinfo=UTC)  # no 29 Feb 2026


def test_late_only_past_72_hours_and_the_reason_once_given() -> None:
    question = "If there has been a delay in reporting this breach, please explain why"
    assert answers(build_pack(breach(), PROFILE, TRAINED, now=NOW))[question][0].startswith("No delay")
    late = answers(build_pack(breach(deadline_at=NOW - timedelta(minutes=1)), PROFILE, TRAINED, now=NOW))[question]
    assert late[0] == "" and "the ICO asks why" in late[1]
    given = breach(deadline_at=NOW - timedelta(hours=1), ico_reported_at=NOW, ico_reference="IC-1", late_reason="Trip")
    found = answers(build_pack(given, PROFILE, TRAINED, now=NOW))
    assert found[question] == ("Trip", "") and found["Report type"] == ("Follow-up report", "")


def test_reporter_text_is_shown_as_typed_not_as_markdown_or_links() -> None:
    hostile = breach(what_happened="**[click](https://evil.example)** <at>Head</at>")
    sections = build_pack(hostile, PROFILE, TRAINED, now=NOW)
    shown = str(section_card(3, sections[2], "BR-2026-0001"))
    assert "**[click]" not in shown and "https://" not in shown and "<at>" not in shown


def test_the_docx_has_every_section_and_red_gaps() -> None:
    sections = build_pack(breach(people_count=None), PROFILE, TRAINED, now=NOW)
    document = Document(io.BytesIO(pack_docx("BR-2026-0001", "St Mary's", sections, now=NOW)))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == [f"{n}. {s.title}" for n, s in enumerate(sections, start=1)]
    red = [r.text for p in document.paragraphs for r in p.runs if r.font.color.rgb is not None]
    assert red == [NOT_KNOWN]


@pytest.mark.parametrize(("typed", "saved"), [("za 123456", "ZA123456"), ("z1234567", "Z1234567"), ("", "")])
def test_registration_numbers_in_the_icos_format(typed: str, saved: str) -> None:
    assert read_profile({"name": "St Mary's", "ico_registration": typed})["ico_registration"] == saved


@pytest.mark.parametrize("values", [{"name": " "}, {"name": "A", "ico_registration": "12345678"},
                                    {"name": "A", "address": "x" * 501}])
def test_profile_refusals(values: dict[str, str]) -> None:
    with pytest.raises(DomainError):
        read_profile(values)
