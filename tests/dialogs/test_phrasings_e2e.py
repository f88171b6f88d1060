"""Everyday phrasings end to end: "Did you mean…?" buttons, and what was typed pre-filling the flow it starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime
from config import Settings
from storage.consent_models import PupilConsent
from tests.conftest import SCHOOL_A
from tests.support.breach import ANSWERS, answer, breaches, file_report
from tests.support.consent import button, choices, import_sample, pupil, rows
from tests.support.training import SEED, book_via_chat, session_by_key, training_settings
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import Received

AMBIGUOUS = "a supply teacher took photos of pupils on her own phone"  # a breach, or a consent question?
PICK_BREACH, PICK_CONSENT = "Report a data breach", "Check photo consent before posting"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The training seed plus a January session (the conftest clock is Wed 25 Nov 2026; the others are in December);
    no rate limit (two whole breach reports in a minute)."""
    seeded = training_settings(settings, tmp_path).model_copy(update={"rate_limit_per_minute": 0})
    january = {"key": "january", "title": "AI for senior leaders (January)", "relative_days": 49, "time": "15:30",
               "format": "online", "join_url": SEED["sessions"][2]["join_url"]}
    seed = Path(seeded.training_seed_file)
    seed.write_text(json.dumps({**SEED, "sessions": [*SEED["sessions"], january]}), encoding="utf-8")
    return seeded


def cards_of(replies: list[Received]) -> list[dict[str, Any]]:
    """Every card in the replies."""
    return [card for reply in replies for card in reply.cards]


async def test_unsure_asks_with_the_two_best_flows_as_buttons(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, AMBIGUOUS)
    (card,) = cards_of(replies)
    assert "Did you mean" in json.dumps(card)
    titles = [action["title"] for action in card_actions(card)]
    assert sorted(titles[:2]) == [PICK_CONSENT, PICK_BREACH] and titles[2:] == ["Something else"]
    assert choices(replies)["Something else"] == {"msteams": {"type": "imBack", "value": "help"}}
    assert choices(replies)[PICK_BREACH] == {"cmd": "intent.pick", "dialog": "breach.report", "utterance": AMBIGUOUS}


async def test_picking_a_breach_keeps_what_was_typed_as_what_happened(
        teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, AMBIGUOUS)
    replies = await teams.press(staff_a, button(replies, PICK_BREACH))
    assert "What kind of breach is it?" in texts(replies)  # "what happened" was not asked again
    for key, (how, value) in ANSWERS.items():
        if key != "what_happened":
            replies = await answer(teams, staff_a, key, how, value)
    assert AMBIGUOUS in texts(replies)  # on the summary
    await teams.press(staff_a, {"q": "summary", "nav": "confirm"})
    (breach,) = await breaches(runtime)
    assert breach.what_happened == AMBIGUOUS


async def test_picking_consent_starts_the_check(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, AMBIGUOUS)
    replies = await teams.press(staff_a, button(replies, PICK_CONSENT))
    assert "Who is in the photo" in texts(replies)
    assert await breaches(runtime) == []


async def test_a_clear_phrasing_starts_at_once_with_the_description(teams: TeamsClient, staff_a: TeamsUser) -> None:
    replies = await teams.say(staff_a, "I left the pupil list on the bus")
    assert "Did you mean" not in texts(replies)
    assert "What kind of breach is it?" in texts(replies)
    replies = await teams.say(staff_a, "back")
    assert "I left the pupil list on the bus" in texts(replies)  # the first question holds what was typed


@pytest.mark.parametrize("data", [
    {"cmd": "intent.pick", "dialog": "no.such.flow", "utterance": "hello"},
    {"cmd": "intent.pick", "dialog": "breach.report"},
    {"cmd": "intent.pick", "dialog": "breach.report", "utterance": "x" * 4001},
])
async def test_a_forged_or_stale_pick_button_starts_nothing(
        teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, data: dict[str, Any]) -> None:
    replies = await teams.press(staff_a, data)
    assert "no longer available" in texts(replies)
    assert await breaches(runtime) == []


async def test_a_pick_in_a_group_chat_is_sent_to_a_personal_chat(teams: TeamsClient, staff_a: TeamsUser) -> None:
    activity = teams.message(staff_a, value={"cmd": "intent.pick", "dialog": "breach.report", "utterance": AMBIGUOUS})
    activity["conversation"] = {"id": "19:group@thread.v2", "conversationType": "groupChat", "isGroup": True}
    replies = await teams.send(activity)
    assert "1:1 chat" in texts(replies) and "What kind of breach" not in texts(replies)


async def test_breach_references_as_people_say_them(teams: TeamsClient, staff_a: TeamsUser) -> None:
    await file_report(teams, staff_a)
    await file_report(teams, staff_a)
    for said in ("breach br 2026 2", "BR-2026-0002", "what's happening with br-2026-2"):
        shown = texts(await teams.say(staff_a, said))
        assert "BR-2026-0002" in shown and "BR-2026-0001" not in shown, said


async def test_book_training_in_a_month_shows_that_month(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    shown = texts(await teams.say(staff_a, "book me on the AI training in January"))
    assert "Training you can book in January" in shown
    assert "AI for senior leaders (January)" in shown and "(online)" not in shown and "Chesterfield" not in shown
    shown = texts(await teams.say(staff_a, "book me on the AI training in May"))
    assert "no sessions open for booking in May" in shown
    assert "AI for senior leaders (January)" in shown and "(online)" in shown  # then everything, said so


async def test_cancel_training_in_everyday_words(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    await teams.say(staff_a, "book training")
    await book_via_chat(teams, staff_a, (await session_by_key(runtime, "online")).id or 0)
    replies = await teams.say(staff_a, "I can't make the training any more, please cancel it")
    assert "Cancel" in texts(replies) and "AI for senior leaders (online)" in texts(replies)


async def test_a_dpo_changes_consent_in_everyday_words(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    replies = await teams.say(dpo_a, "Olivia Smith's mum rang: no more Facebook")
    assert "Is this right?" in texts(replies) and "consent **withdrawn** for School social media" in texts(replies)
    assert await consent_of(runtime, "Olivia", "Smith", "social_media") == "granted"  # nothing yet
    assert "Consent withdrawn: School social media" in texts(await teams.say(dpo_a, "yes"))
    assert await consent_of(runtime, "Olivia", "Smith", "social_media") == "refused"

    replies = await teams.say(dpo_a, "Jack Jones's dad says he can go in the local paper now")  # a change, or a check?
    replies = await teams.press(dpo_a, button(replies, "Change the consent register (DPO)"))
    assert "consent **granted** for Local press / media, given by dad" in texts(replies)
    assert "nothing changed" in texts(await teams.say(dpo_a, "no"))
    assert await consent_of(runtime, "Jack", "Jones", "press") == "refused"


async def test_a_change_that_cannot_be_read_is_explained_not_guessed(teams: TeamsClient, dpo_a: TeamsUser) -> None:
    assert "couldn't tell what changed" in texts(await teams.press(dpo_a, {
        "cmd": "intent.pick", "dialog": "consent.admin", "utterance": "Olivia Smith's mum rang about photos"}))


async def consent_of(runtime: Runtime, forename: str, surname: str, purpose: str) -> str:
    """A sample pupil's consent state for one purpose."""
    found = await pupil(runtime, SCHOOL_A, forename, surname)
    (consent,) = [c for c in await rows(runtime, PupilConsent) if c.pupil_id == found.id and c.purpose == purpose]
    return str(consent.state)


async def test_cancel_the_training_in_a_month(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser) -> None:
    await teams.say(staff_a, "book training")
    for key in ("online", "january"):
        await book_via_chat(teams, staff_a, (await session_by_key(runtime, key)).id or 0)
    replies = await teams.say(staff_a, "I can't come to the training in January, please cancel it")
    assert "AI for senior leaders (January)" in texts(replies) and "(online)" not in texts(replies)
    assert "stays as it is" in texts(await teams.say(staff_a, "no"))
    replies = await teams.say(staff_a, "I can't make the training any more, please cancel it")
    assert "Which booking do you want to cancel?" in texts(replies)  # two bookings, no month: which one
