"""A removal task is settled only by Mark removed or, by a DPO, Keep with a reason: never a generic "done"."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from services.clock import SettableClock
from storage.models import AuditEvent
from tests.consent.test_consent_removals import THU_9AM, posted, sweep
from tests.support.consent import button, posts, rows, tasks
from tests.teams.client import TeamsClient, TeamsUser, card_actions, texts
from tests.teams.fake_channel import FakeTeamsChannel, Received

REASON = "The parent agreed in writing to keep this one post"


def titles(replies: list[Received]) -> list[str]:
    """Every button title on the replies' cards."""
    return [str(a.get("title")) for r in replies for card in r.cards for a in card_actions(card)]


async def test_dpo_keeps_an_image_up_with_a_required_reason_recorded_everywhere(
    teams: TeamsClient, runtime: Runtime, channel: FakeTeamsChannel, clock: SettableClock, staff_a: TeamsUser, dpo_a: TeamsUser
) -> None:
    await posted(teams, staff_a, dpo_a)
    await teams.say(dpo_a, "consent withdrawn for Olivia Smith social media")
    to_staff = await sweep(runtime, channel, staff_a)
    clock.set(THU_9AM)
    to_dpo = await sweep(runtime, channel, dpo_a)  # the DPO's daily copy
    assert "Mark removed" in titles(to_staff) and "Keep with a reason" not in titles(to_staff)
    assert "only they can keep it, with a reason" in texts(to_staff)
    assert {"Mark removed", "Keep with a reason"} <= set(titles(to_dpo))
    assert not {"Done", "Mark done"} & set(titles(to_staff) + titles(to_dpo))

    for pressed in ({"cmd": "consent.keep_task", "task": 1}, {"cmd": "consent.task_kept", "task": 1, "reason": REASON}):
        assert "Only your school's DPO" in texts(await teams.press(staff_a, pressed))
    form = await teams.press(dpo_a, button(to_dpo, "Keep with a reason"))
    assert "Keep removal #1 up?" in texts(form) and "Keep it up" in titles(form)
    again = await teams.press(dpo_a, {**button(form, "Keep it up"), "reason": "  "})  # a client not enforcing isRequired
    assert "Please say why it stays up" in texts(again) and "Keep it up" in titles(again)
    done = await teams.press(dpo_a, {**button(again, "Keep it up"), "reason": REASON})
    assert "Removal #1 is settled: the image stays up" in texts(done) and "I'm telling the person who posted it" in texts(done)
    told = await sweep(runtime, channel, staff_a)
    assert "Removal #1: no need to take it down" in texts(told) and "post #1 may stay up" in texts(told)
    assert REASON not in texts(told)  # the reason is the DPO's record, not a message

    [task], [post] = await tasks(runtime), await posts(runtime)
    assert task.done_at == clock() and task.done_by == dpo_a.aad_id and task.kept_reason == REASON
    assert post.removed_at is None and post.extension_reason == f"Removal #1 kept: {REASON}"
    assert "removal.kept" in [e.action for e in await rows(runtime, AuditEvent) if e.subject_type == "consent_task"]
    clock.set(THU_9AM + timedelta(days=1))
    assert await sweep(runtime, channel, staff_a) == [] and await sweep(runtime, channel, dpo_a) == []

    shown = await teams.press(dpo_a, {"cmd": "consent.show_task", "task": 1})
    assert f"Kept up by Dana Price on Thu 26 Nov 2026, 09:00: {REASON}" in texts(shown) and titles(shown) == []
    assert "already settled: kept up on Thu 26 Nov 2026" in texts(await teams.press(dpo_a, button(to_dpo, "Keep with a reason")))
    [(_, data)] = await teams.files(dpo_a, await teams.say(dpo_a, "export posts"))
    assert f"Removal #1 kept: {REASON}" in data.decode()
    status = texts(await teams.say(dpo_a, "status"))
    assert "Removal #1: kept up on Thu 26 Nov 2026 (School social media)" in status and "Photo removals kept up" in status
    assert "Removal #1" not in texts(await teams.say(staff_a, "status"))  # settled: nothing left for the poster
