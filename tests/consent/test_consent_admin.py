"""The DPO's register commands in chat (asking for what is missing), and the read functions other features build on."""

from __future__ import annotations

from datetime import date

import pytest

from bot.runtime import Runtime
from services.consent.posts import post_register
from services.consent.register import not_ok_in_group, pupil_record, register_rows
from services.errors import NotAllowed
from services.identity import Actor
from storage.consent_models import PupilConsent, Purpose
from storage.models import Role
from tests.conftest import SCHOOL_A
from tests.support.consent import SAMPLE, check_and_post, import_sample, pupil, rows
from tests.teams.client import TeamsClient, TeamsUser, texts

DPO = Actor(SCHOOL_A, "d0d0d0d0-0000-4000-8000-0000000000a1", "Dana", frozenset({Role.DPO}))
STAFF = Actor(SCHOOL_A, "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "Megan")


async def test_granting_consent_is_recorded_with_who_and_review_date(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await import_sample(teams, dpo_a)
    replies = await teams.say(dpo_a, "consent granted for Amir Khan social media by mother until 31/08/2027")
    assert "Consent granted: School social media" in texts(replies)
    amir = await pupil(runtime, SCHOOL_A, "Amir", "Khan")
    [consent] = [c for c in await rows(runtime, PupilConsent) if c.pupil_id == amir.id and c.purpose == "social_media"]
    assert (consent.state, consent.given_by, consent.review_on, consent.updated_by) == (
        "granted", "mother", date(2027, 8, 31), dpo_a.aad_id)
    assert "You may use this photo" in texts(await check_and_post_verdict(teams, staff_a, "Amir Khan"))
    replies = await teams.say(dpo_a, "consent granted for Amir Khan website until 31/31/2027")
    assert "isn't a date" in texts(replies)


async def check_and_post_verdict(teams: TeamsClient, user: TeamsUser, who: str) -> list:
    """Check `who` for social media and return the verdict turn."""
    await teams.say(user, "check consent")
    await teams.say(user, who)
    return await teams.press(user, {"purpose": "social_media"})


async def test_missing_details_are_asked_for(teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser) -> None:
    await import_sample(teams, dpo_a)
    replies = await teams.say(dpo_a, "consent withdrawn for Olivia Smith")
    assert "Where will the photo go?" in texts(replies)
    assert "Consent withdrawn: School website" in texts(await teams.press(dpo_a, {"purpose": "website"}))
    replies = await teams.say(dpo_a, "never publish Oliver Brown")
    assert "Which \u201cOliver Brown\u201d?" in texts(replies)
    replies = await teams.press(dpo_a, {"pupil": (await pupil(runtime, SCHOOL_A, "Oliver", "Brown", "3A")).id})
    assert "Why must Oliver Brown (Year 3, 3A) never be published?" in texts(replies)
    assert "Never publish recorded" in texts(await teams.say(dpo_a, "adopted; birth family must not trace him"))
    brown = await pupil(runtime, SCHOOL_A, "Oliver", "Brown", "3A")
    assert (brown.never_publish, brown.never_publish_reason) == (True, "adopted; birth family must not trace him")
    replies = await teams.say(dpo_a, "pupil left Olivia Smith, Jack Jones")
    assert "one pupil at a time" in texts(replies)
    await teams.say(dpo_a, "Jack Jones")
    assert "OK, nothing changed." in texts(await teams.say(dpo_a, "no"))
    assert (await pupil(runtime, SCHOOL_A, "Jack", "Jones")).left_at is None


async def test_register_reads_for_the_dpo_only(
    teams: TeamsClient, runtime: Runtime, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith")
    now = runtime.deps.clock()
    async with runtime.deps.sessions() as session:
        register = await register_rows(session, actor=DPO)
        assert len(register) == 40 and register[0].pupil.year_group <= register[-1].pupil.year_group
        gaps = await not_ok_in_group(session, actor=DPO, group="4B", purpose=Purpose.SOCIAL_MEDIA, now=now)
        assert sorted(reason for _, _, reason in gaps) == sorted([
            "Consent refused", "Must never be published", "Consent expired (review date passed)",
            "Consent not asked or not returned"])
        assert len(await not_ok_in_group(session, actor=DPO, group="Year 3", purpose=None, now=now)) == 7
        olivia = await pupil(runtime, SCHOOL_A, "Olivia", "Smith")
        record = await pupil_record(session, actor=DPO, pupil_id=int(olivia.id or 0))
        website = record.consents[Purpose.WEBSITE]
        assert website is not None and website.given_by == "Mother"
        [view] = await post_register(session, actor=DPO)
        assert (view.pupil_count, view.poster_name, view.open_task) == (1, "Megan Bowen", None)
        for call in (register_rows(session, actor=STAFF), post_register(session, actor=STAFF),
                     not_ok_in_group(session, actor=STAFF, group="4B", purpose=None, now=now),
                     pupil_record(session, actor=Actor("other-school", DPO.aad_id, "", DPO.roles), pupil_id=int(olivia.id or 0))):
            with pytest.raises(NotAllowed):
                await call


async def test_logs_carry_ids_never_names(teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    await teams.say(dpo_a, "help")
    await import_sample(teams, dpo_a)
    await check_and_post(teams, staff_a, "Olivia Smith and Jack Jones")
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "consent check 1" in logged and "removal task 1 opened for post 1" in logged
    names = {line.split(",")[i] for line in SAMPLE.read_text().splitlines()[1:] for i in (1, 2)}
    assert not [name for name in names if name in logged]
