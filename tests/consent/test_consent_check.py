"""The staff check end to end: who, where, the answer per pupil, the checklist and the post record; evidence; isolation."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.consent_models import PostPupil
from tests.support.consent import button, check_and_post, checks, choices, import_sample, posts, pupil, rows
from tests.teams.client import TeamsClient, TeamsUser, texts


async def test_acceptance_refused_pupil_blocks_then_two_ok_pupils_are_posted(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "help")
    assert "Pupil register updated" in texts(await import_sample(teams, dpo_a))

    await teams.say(staff_a, "can I post this photo of Year 4 sports day?")
    replies = await teams.say(staff_a, "Olivia Smith, Jack Jones and Amir Khan")
    assert "Where will the photo go?" in texts(replies)
    replies = await teams.press(staff_a, {"purpose": "social_media"})
    shown = texts(replies)
    assert "Don't use this photo on School social media" in shown
    assert "Amir Khan (Year 4, 4B)" in shown and "Consent refused" in shown
    assert "Mother" not in shown  # staff never see who gave consent
    assert "Before you post" not in shown  # no checklist when blocked

    receipt = await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones", link="https://facebook.com/oakwood/posts/1")
    shown = texts(receipt)
    assert "Post #1 recorded" in shown and "Sports day relay" in shown
    assert "Remove by" in shown and "Thu 25 Nov 2027" in shown  # 12 months for social media
    [post] = await posts(runtime)
    assert (post.purpose, post.account, post.link, post.posted_by) == (
        "social_media", "School Facebook page", "https://facebook.com/oakwood/posts/1", staff_a.aad_id)
    olivia = await pupil(runtime, staff_a.tenant_id, "Olivia", "Smith")
    jack = await pupil(runtime, staff_a.tenant_id, "Jack", "Jones")
    assert {pp.pupil_id for pp in await rows(runtime, PostPupil)} == {olivia.id, jack.id}

    evidence = await checks(runtime)
    assert [(c.allowed, c.checked_by, c.purpose) for c in evidence] == [
        (False, staff_a.aad_id, "social_media"), (True, staff_a.aad_id, "social_media")]
    assert {r["reason"] for r in evidence[0].results} == {"ok", "refused"}
    assert evidence[1].post_id == post.id


async def test_blocked_pupil_never_gets_a_yes_by_rephrasing(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    for phrasing, who in [("check consent", "Amir Khan"), ("can I share this picture on facebook?", "amir khan 4b"),
                          ("photo consent", "Khan Amir"), ("can i use this photo", "Amirr Kahn")]:
        await teams.say(staff_a, phrasing)
        replies = await teams.say(staff_a, who)
        if "Did you mean Amir Khan (Year 4, 4B)?" in texts(replies):
            replies = await teams.say(staff_a, "yes")
        if "Where will the photo go?" in texts(replies):
            replies = await teams.say(staff_a, "on the school twitter")
        assert "Don't use this photo" in texts(replies), phrasing
        assert "You may use" not in texts(replies)


async def test_every_reason_is_reported_per_pupil(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    await teams.say(staff_a, "Grace Taylor, Harry Wilson, Mia Patel")
    shown = texts(await teams.press(staff_a, {"purpose": "website"}))
    assert "Grace Taylor (Year 4, 4B)" in shown and "Must never be published" in shown
    assert "Consent expired" in shown and "Consent not asked" in shown
    assert "Looked-after" not in shown  # the reason category only, not the DPO's note


async def test_typos_and_preferred_names_are_found(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Olivai Smtih, alex green")
    assert "Did you mean Olivia Smith (Year 4, 4B)?" in texts(replies)  # a typo is asked about, never substituted
    replies = await teams.press(staff_a, button(replies, "Yes"))
    assert "Where will the photo go?" in texts(replies)
    assert "Alex Green (Year 4, 4B); Olivia Smith (Year 4, 4B)" in texts(replies)  # a preferred name is exact


async def test_name_clash_is_asked_then_a_class_hint_needs_no_question(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Oliver Brown and Olivia Smith")
    options = choices(replies)
    assert "Which \u201cOliver Brown\u201d?" in texts(replies)
    assert {"Oliver Brown (Year 3, 3A)", "Ollie Brown (Year 5, 5C)", "None of these"} <= set(options)
    replies = await teams.press(staff_a, options["Ollie Brown (Year 5, 5C)"])
    assert "Where will the photo go?" in texts(replies)
    await teams.press(staff_a, {"purpose": "website"})
    older = await pupil(runtime, staff_a.tenant_id, "Oliver", "Brown", "5C")
    olivia = await pupil(runtime, staff_a.tenant_id, "Olivia", "Smith")
    assert (await checks(runtime))[-1].pupil_ids == [olivia.id, older.id]

    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Oliver Brown 3A")
    assert "Where will the photo go?" in texts(replies) and "Oliver Brown (Year 3, 3A)" in texts(replies)


async def test_none_of_these_asks_again_for_that_name_only(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                          dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Jack Jones, Oliver Brown")
    replies = await teams.press(staff_a, button(replies, "None of these"))
    assert "No other pupil on the register matches \u201cOliver Brown\u201d." in texts(replies)
    assert "Jack Jones" not in texts(replies)
    replies = await teams.say(staff_a, "Olivia Smith")
    assert "Where will the photo go?" in texts(replies)
    assert "Jack Jones (Year 4, 4B); Olivia Smith (Year 4, 4B)" in texts(replies)
    await teams.press(staff_a, {"purpose": "website"})
    jack, olivia = (await pupil(runtime, staff_a.tenant_id, "Jack", "Jones"), await pupil(runtime, staff_a.tenant_id,
                                                                                            "Olivia", "Smith"))
    assert (await checks(runtime))[-1].pupil_ids == [jack.id, olivia.id]


async def test_whole_class_check_lists_only_those_not_ok(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                         dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    replies = await teams.say(staff_a, "Year 4 class 4B")
    assert "class 4B (12 pupils)" in texts(replies)
    shown = texts(await teams.press(staff_a, {"purpose": "social_media"}))
    assert "4 of 12 pupils" in shown
    assert "Amir Khan" in shown and "Grace Taylor" in shown and "Harry Wilson" in shown and "Mia Patel" in shown
    assert "Olivia Smith" not in shown and "The other 8 pupils are OK" in shown
    assert len((await checks(runtime))[-1].pupil_ids) == 12


async def test_checklist_must_be_complete_and_details_given(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                            dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    await teams.say(staff_a, "Olivia Smith")
    replies = await teams.press(staff_a, {"purpose": "website"})
    assert "You may use this photo on School website" in texts(replies) and "Before you post" in texts(replies)
    replies = await teams.press(staff_a, {"dressed": "true", "background": "true", "names": "false", "location": "true"})
    assert "Please tick all four" in texts(replies)
    replies = await teams.say(staff_a, "yes")
    assert "Please tick all four" in texts(replies)
    await teams.press(staff_a, {"dressed": "true", "background": "true", "names": "true", "location": "true"})
    replies = await teams.press(staff_a, {"account": "", "description": "Art week"})
    assert "Please fill in the account" in texts(replies)
    replies = await teams.press(staff_a, {"account": "News page", "description": "Art week", "link": "not a link"})
    assert "doesn't look like a link" in texts(replies)
    assert await posts(runtime) == []


async def test_post_is_refused_when_consent_changes_between_check_and_record(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_a, "check consent")
    await teams.say(staff_a, "Olivia Smith")
    await teams.press(staff_a, {"purpose": "social_media"})
    await teams.press(staff_a, {"dressed": "true", "background": "true", "names": "true", "location": "true"})
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    replies = await teams.press(staff_a, {"account": "Facebook", "description": "Art week"})
    assert "Consent has changed since you checked" in texts(replies)
    assert await posts(runtime) == []


async def test_add_link_later(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser,
                              clock: SettableClock) -> None:
    await import_sample(teams, dpo_a)
    receipt = await check_and_post(teams, staff_a, "Jack Jones")
    clock.advance(timedelta(hours=2))
    await teams.press(staff_a, button(receipt, "Add link"))
    replies = await teams.say(staff_a, "https://example.org/news/sports-day")
    assert "Link added to post #1" in texts(replies)
    await check_and_post(teams, staff_a, "Olivia Smith")
    replies = await teams.say(staff_a, "add link")
    assert "Which post is the link for?" in texts(replies)
    assert set(choices(replies)) == {"#2 School social media: Sports day relay"}
    await teams.press(staff_a, {"post": 2})
    replies = await teams.say(staff_a, "https://example.org/news/2")
    assert "Link added to post #2" in texts(replies)
    assert [p.link for p in await posts(runtime)] == ["https://example.org/news/sports-day", "https://example.org/news/2"]


async def test_school_b_never_sees_school_a_pupils(teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser,
                                                   dpo_a: TeamsUser, staff_b: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    await teams.say(staff_b, "check consent")
    replies = await teams.say(staff_b, "Olivia Smith")
    assert "couldn't find \u201cOlivia Smith\u201d on the register" in texts(replies)
    assert "Olivia Smith (Year" not in texts(replies)
    receipt = await check_and_post(teams, staff_a, "Jack Jones")
    for data in ({"cmd": "consent.show_post", "post": 1}, button(receipt, "Add link"), {"cmd": "consent.post_removed", "post": 1},
                 {"cmd": "consent.extend_post", "post": 1, "months": 6, "reason": "x"}):
        replies = await teams.press(staff_b, data)
        assert "don't have access" in texts(replies) and "Sports day" not in texts(replies)
    assert (await posts(runtime))[0].removed_at is None
