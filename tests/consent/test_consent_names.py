"""Names in the photo check: exact names accepted, anything else asked, names not on the register never cleared.

End to end through the fake Teams channel, with the sample register (Ella Turner RB, Noah Roberts 5C, Ava Hughes 3A ...).
"""

from __future__ import annotations

from bot.runtime import Runtime
from dialogs.consent.who import named_in
from services.consent.pupil_search import PupilIndex, PupilRef
from tests.support.consent import button, checks, choices, import_sample, pupil, schema_errors
from tests.teams.client import TeamsClient, TeamsUser, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received


async def sweep(runtime: Runtime, channel: FakeTeamsChannel, user: TeamsUser) -> list[Received]:
    """Run the reminder engine now; what reached `user`."""
    before = len(channel.to(user.conversation_id))
    await runtime.sweep_reminders()
    return channel.to(user.conversation_id)[before:]


async def test_near_namesakes_are_asked_and_names_not_on_the_register_are_never_cleared(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Emma Turner, Noah Robertson, Eva Hughes")
    for typed, offered in [("Emma Turner", "Ella Turner (Reception, RB)"), ("Noah Robertson", "Noah Roberts (Year 5, 5C)"),
                           ("Eva Hughes", "Ava Hughes (Year 3, 3A)")]:
        shown = texts(replies)
        assert f"Did you mean {offered}?" in shown and f"You typed \u201c{typed}\u201d" in shown
        assert set(choices(replies)) == {"Yes", "No"} and not schema_errors(replies[-1].cards[0])
        replies = await teams.press(staff_a, button(replies, "No"))
        assert f"No other pupil on the register matches \u201c{typed}\u201d." in texts(replies)
        replies = await teams.press(staff_a, button(replies, "Not on the register"))
    assert "Where will the photo go?" in texts(replies)
    assert "Emma Turner (not on the register); Noah Robertson (not on the register)" in texts(replies)
    replies = await teams.press(staff_a, {"purpose": "social_media"})
    shown = texts(replies)
    assert "\u26d4 Don't use this photo on School social media" in shown and "You may use" not in shown
    assert "3 of 3 pupils" in shown and shown.count("Not on the register") == 3
    assert "Ella Turner" not in shown and "Noah Roberts " not in shown and "Ava Hughes" not in shown
    [check] = await checks(runtime)
    assert not check.allowed and check.pupil_ids == []
    assert [(r["pupil_id"], r["reason"], r["name"]) for r in check.results] == [
        (None, "not_on_register", "Emma Turner"), (None, "not_on_register", "Noah Robertson"),
        (None, "not_on_register", "Eva Hughes")]  # the evidence: the names as typed

    replies = await teams.press(staff_a, button(replies, "Ask the DPO to add them"))
    assert "I've asked your DPO to add them to the register" in texts(replies)
    [note] = await sweep(runtime, channel, dpo_a)
    assert "Please add to the pupil register" in texts([note])
    assert "Emma Turner; Noah Robertson; Eva Hughes" in texts([note]) and "Megan Bowen" in texts([note])


async def test_a_typo_is_confirmed_with_one_click_and_yes_is_that_pupil(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Olivai Smtih")
    assert "Did you mean Olivia Smith (Year 4, 4B)?" in texts(replies) and "Where will" not in texts(replies)
    replies = await teams.press(staff_a, button(replies, "Yes"))
    assert "Pupils: Olivia Smith (Year 4, 4B)" in texts(replies)
    shown = texts(await teams.press(staff_a, {"purpose": "social_media"}))
    assert "Olivia Smith has current consent for School social media." in shown and "All 1" not in shown
    olivia = await pupil(runtime, staff_a.tenant_id, "Olivia", "Smith")
    assert (await checks(runtime))[-1].pupil_ids == [olivia.id]


async def test_exact_names_in_any_case_accents_spacing_or_order_need_no_question(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "ZOFIA  nowák, jones jack, Alex Green")
    assert "Did you mean" not in texts(replies) and "Where will the photo go?" in texts(replies)
    assert "Zofia Nowak (Year 4, 4B); Jack Jones (Year 4, 4B); Alex Green (Year 4, 4B)" in texts(replies)


async def test_only_the_unknown_name_is_asked_again_and_the_known_ones_are_kept(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Olivia Smith, Zebedee Quartermain and Jack Jones")
    assert "I couldn't find \u201cZebedee Quartermain\u201d on the register." in texts(replies)
    assert "Who is in the photo?" not in texts(replies)
    replies = await teams.say(staff_a, "Zebedee")  # still nobody: asked again, the others kept
    assert "I couldn't find \u201cZebedee\u201d on the register." in texts(replies)
    replies = await teams.say(staff_a, "Isla Evans")
    assert "Olivia Smith (Year 4, 4B); Jack Jones (Year 4, 4B); Isla Evans (Year 4, 4B)" in texts(replies)
    shown = texts(await teams.press(staff_a, {"purpose": "website"}))
    assert "All 3 pupils have current consent for School website." in shown


async def test_names_in_the_opening_message_are_used_not_asked_again(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    replies = await teams.say(staff_a, "can I post this photo of Olivia Smith and Jack Jones on Facebook?")
    shown = texts(replies)
    assert "You may use this photo on School social media" in shown and "All 2 pupils have current consent" in shown
    assert "Who is in the photo?" not in shown and "Where will the photo go?" not in shown
    replies = await teams.say(staff_a, "cancel")
    replies = await teams.say(staff_a, "can I post this photo of Year 4 sports day?")
    assert "Who is in the photo?" in texts(replies)  # no pupil named: asked


async def test_a_dpo_command_for_an_unknown_pupil_asks_again_without_a_not_on_register_way_out(
    teams: TeamsClient, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    replies = await teams.say(dpo_a, "consent withdrawn for Zebedee Quartermain facebook")
    assert "I couldn't find \u201cZebedee Quartermain\u201d on the register." in texts(replies)
    assert "Not on the register" not in choices(replies)
    replies = await teams.say(dpo_a, "Amir Khan, Jack Jones")  # one pupil at a time for a register change
    assert "Please type one pupil's name for this." in texts(replies) and "Consent withdrawn" not in texts(replies)
    replies = await teams.say(dpo_a, "Amir Khan")
    assert "Consent withdrawn: School social media" in texts(replies) and "Amir Khan (Year 4, 4B)" in texts(replies)


async def test_a_clash_can_be_answered_by_typing_the_class(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                           dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Oliver Brown")
    assert "Which \u201cOliver Brown\u201d?" in texts(replies)
    replies = await teams.say(staff_a, "Oliver Brown 5C")
    assert "Pupils: Ollie Brown (Year 5, 5C)" in texts(replies)
    await teams.press(staff_a, {"purpose": "website"})
    older = await pupil(runtime, staff_a.tenant_id, "Oliver", "Brown", "5C")
    assert (await checks(runtime))[-1].pupil_ids == [older.id]


def test_the_names_part_of_an_opening_message() -> None:
    assert named_in("can I put Olivia Smith and Jack Jones on Facebook?") == "Olivia Smith and Jack Jones"
    assert named_in("check consent for Amir Khan") == "Amir Khan"
    assert named_in("Can we put 4B on the school website?") == "4B"
    assert named_in("is it ok to post Jack Jones on twitter") == "Jack Jones"
    assert named_in("can i use this photo") == "" and named_in("check consent") == ""


def test_the_index_tells_exact_names_from_near_ones() -> None:
    refs = [PupilRef(1, "Zoë O'Brien (Year 4, 4B)", "4B", "4", False),
            PupilRef(2, "Mary Jane Doe (Year 4, 4B)", "4B", "4", False),
            PupilRef(3, "Oliver Brown (Year 3, 3A)", "3A", "3", False),
            PupilRef(4, "Ollie Brown (Year 5, 5C)", "5C", "5", False)]
    index = PupilIndex(refs, [("Zoë O'Brien",), ("Mary Jane Doe",), ("Oliver Brown",), ("Ollie Brown", "Oliver Brown")])
    for typed in ("zoe o'brien", "ZOË O’BRIEN", "O-Brien Zoe", "Doe Mary Jane", "Mary-Jane  DOE", "oliver brown 3a"):
        found = index.lookup(typed)
        assert found.exact and found.resolved, typed
    clash = index.lookup("Oliver Brown")
    assert clash.exact and not clash.resolved and [r.id for r in clash.matches] == [3, 4]
    for typed in ("Zoe OBrien", "Maryjane Doe", "Mary Doe", "Oliver", "Oliver Brown 4B"):
        assert not index.lookup(typed).exact, typed
