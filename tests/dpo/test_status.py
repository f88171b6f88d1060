"""`status` for staff, a DPO, and a DPO serving several schools."""

from __future__ import annotations

from dialogs.feature import StatusLine
from dialogs.status import SchoolStatus, status_card
from tests.conftest import SCHOOL_B
from tests.teams.client import TeamsClient, TeamsUser, texts


def test_status_card_orders_by_urgency_and_labels_schools() -> None:
    a = SchoolStatus("St Mary's", [StatusLine("Breaches", "BR-1 due in 3h", 100), StatusLine("Training", "14 May", 1)])
    b = SchoolStatus("Oakfield", [])
    content = status_card([a, b], is_dpo=True)
    flat = [block.get("text") or block.get("items", [{}])[0].get("text") for block in content["body"]]
    assert flat.index("St Mary's (2)") < flat.index("BR-1 due in 3h") < flat.index("14 May") < flat.index("Oakfield (0)")
    assert "2 schools \u00b7 2 items \u00b7 1 urgent" in flat


async def test_staff_status_is_their_own(teams: TeamsClient, staff_a: TeamsUser) -> None:
    reply = texts(await teams.say(staff_a, "status"))
    assert "Your items" in reply


async def test_dpo_serving_two_schools_sees_both_labelled(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    same_person_in_b = TeamsUser(dpo_a.name, dpo_a.aad_id, SCHOOL_B)
    await teams.say(same_person_in_b, "hello")  # DPO_AAD_IDS makes them DPO there too
    await teams.say(same_person_in_b, "school name Oakfield Academy")
    await teams.say(dpo_a, "school name St Mary's Primary")
    reply = texts(await teams.say(dpo_a, "status"))
    assert "St Mary's Primary (" in reply and "Oakfield Academy (" in reply
    assert "2 schools" in reply


async def test_staff_cannot_name_the_school(teams: TeamsClient, staff_a: TeamsUser) -> None:
    reply = texts(await teams.say(staff_a, "school name Hacked"))
    assert "Only a DPO" in reply
