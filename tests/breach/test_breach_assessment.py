"""The suggested risk assessment: each rule, with its reasons; and the answer checks it relies on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.breach.assessment import Risk, assess
from services.breach.facts import (
    CATEGORIES,
    OTHERS,
    BreachFacts,
    check_facts,
    describes_event,
    facts_from_answers,
    facts_to_answers,
    guess_kind,
    parse_count,
    pick_codes,
)
from services.errors import DomainError

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MINOR = BreachFacts(
    what_happened="Emailed a staff phone list to the wrong colleague", kind="wrong_person", how_discovered="They said",
    happened_at=NOW - timedelta(hours=2), aware_at=NOW - timedelta(hours=1), subjects=("staff",), people_count=3,
    records_count=1, data_categories=("basic",), contained="yes", actions_taken="Deleted", actions_planned="",
    others_informed=("head",),
)


def test_limited_contained_data_is_unlikely_risk_with_reasons() -> None:
    result = assess(MINOR)
    assert result.risk is Risk.UNLIKELY
    assert any("Contained" in r for r in result.reasons)
    assert any("unlikely" in r for r in result.reasons)
    assert "don't notify" in result.advice


@pytest.mark.parametrize("category", ["financial", "credentials", "official", "location", "education"])
def test_sensitive_data_is_likely_risk(category: str) -> None:
    result = assess(replace(MINOR, data_categories=("basic", category)))
    assert result.risk is Risk.LIKELY
    assert "notify the ICO" in result.advice


@pytest.mark.parametrize("category", ["special", "safeguarding", "criminal"])
def test_severe_data_contained_is_likely_not_contained_is_high(category: str) -> None:
    assert assess(replace(MINOR, data_categories=(category,))).risk is Risk.LIKELY
    high = assess(replace(MINOR, data_categories=(category,), contained="partly"))
    assert high.risk is Risk.HIGH
    assert "harm could be serious" in " ".join(high.reasons)
    assert "Art. 34" in high.advice


def test_children_not_contained_is_likely() -> None:
    result = assess(replace(MINOR, subjects=("pupils",), contained="no"))
    assert result.risk is Risk.LIKELY
    assert any("Children" in r for r in result.reasons) and any("Not contained" in r for r in result.reasons)
    assert assess(replace(MINOR, subjects=("pupils",))).risk is Risk.UNLIKELY  # contained


def test_large_numbers_and_children_uncontained_is_high() -> None:
    assert assess(replace(MINOR, people_count=50)).risk is Risk.LIKELY
    assert assess(replace(MINOR, records_count=500)).risk is Risk.LIKELY
    assert assess(replace(MINOR, people_count=49, records_count=499)).risk is Risk.UNLIKELY
    assert assess(replace(MINOR, people_count=200, subjects=("pupils",), contained="no")).risk is Risk.HIGH


def test_unknowns_and_cyber_assume_risk() -> None:
    assert assess(replace(MINOR, data_categories=("unknown",))).risk is Risk.LIKELY
    assert assess(replace(MINOR, kind="cyber")).risk is Risk.LIKELY
    unknown_people = assess(replace(MINOR, people_count=None, contained="no"))
    assert unknown_people.risk is Risk.LIKELY
    assert any("not known" in r for r in unknown_people.reasons)


@pytest.mark.parametrize(("said", "number"), [("30", 30), ("about 1,200", 1200), ("~5 people", 5), ("0", 0),
                                               ("not known yet", None), ("Unknown", None), ("don't know", None)])
def test_counts_read(said: str, number: int | None) -> None:
    assert parse_count(said) == number


@pytest.mark.parametrize(("said", "why"), [("-3", "negative"), ("2.5", "whole"), ("thirty", "number"),
                                           ("99999999999", "more than")])
def test_bad_counts_are_explained(said: str, why: str) -> None:
    with pytest.raises(DomainError, match=why):
        parse_count(said)


def test_dates_must_be_in_order_and_not_in_the_future() -> None:
    check_facts(MINOR, now=NOW)
    with pytest.raises(DomainError, match="future"):
        check_facts(replace(MINOR, aware_at=NOW + timedelta(minutes=5)), now=NOW)
    with pytest.raises(DomainError, match="after the school became aware"):
        check_facts(replace(MINOR, happened_at=NOW - timedelta(minutes=30)), now=NOW)
    check_facts(replace(MINOR, happened_at=None), now=NOW)


def test_text_is_limited_and_choices_checked() -> None:
    with pytest.raises(DomainError, match="4,000"):
        check_facts(replace(MINOR, actions_taken="x" * 4001), now=NOW)
    with pytest.raises(DomainError, match="can't be combined"):
        pick_codes(["nobody", "head"], OTHERS, exclusive="nobody")
    with pytest.raises(DomainError):
        pick_codes(["aliens"], OTHERS)


def test_answers_round_trip_as_json() -> None:
    assert facts_from_answers(facts_to_answers(MINOR)) == MINOR
    with pytest.raises(DomainError, match="missing"):
        facts_from_answers({"kind": "other"})


@pytest.mark.parametrize(("said", "kind"), [
    ("I emailed a report to the wrong parent", "wrong_person"),
    ("I left my laptop on the train", "lost_stolen"),
    ("Someone clicked a phishing link", "cyber"),
    ("We posted a photo on Facebook of a child without consent", "published"),
    ("something odd", None),
])
def test_kind_is_guessed_from_a_description(said: str, kind: str | None) -> None:
    assert guess_kind(said) == kind


def test_data_categories_follow_the_ico_form_and_add_education_records() -> None:
    for code, words in (("basic", "name, contact details"), ("credentials", "usernames, passwords"),
                        ("financial", "bank details"), ("official", "Official documents"), ("location", "Location"),
                        ("education", "SATs results, reports"), ("special", "gender reassignment"),
                        ("criminal", "Criminal convictions"), ("unknown", "Not known yet")):
        assert words in CATEGORIES[code], code


@pytest.mark.parametrize(("said", "describes"), [
    ("I think I've made a data breach", False), ("I need to report a breach", False), ("possible GDPR breach", False),
    ("I think something went wrong with data", False), ("data breach", False),
    ("I emailed a report to the wrong parent", True), ("laptop stolen from my car", True), ("we've been hacked", True),
    ("cc instead of bcc to the year 6 parents", True), ("pupil list left on the bus", True),
])
def test_an_opening_sentence_is_what_happened_only_when_it_describes_the_event(said: str, describes: bool) -> None:
    assert describes_event(said) is describes
