"""Post register cards: receipts, a post's details and actions, removal tasks and their reminders. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.kit.cards import Card, card, facts, heading, notifying, plain, settled_card, submit, tap_item, text
from dialogs.reminders.cards import reminder_card, time_left_text
from services.consent.posts import EXTEND_MONTHS, PostView
from services.consent.purposes import PURPOSE_LABELS
from services.consent.removals import KEPT_REASON_LIMIT, REMOVAL_LABELS, task_summary
from services.dates import format_uk, format_uk_day
from storage.consent_models import Post, Purpose, RemovalReason, RemovalTask

SUMMARY_LINES = 8  # a summary card lists this many; `status` shows the rest
POST_REMOVED, EXTEND_POST, ADD_LINK = "consent.post_removed", "consent.extend_post", "consent.add_link"
TASK_REMOVED, KEEP_TASK, TASK_KEPT = "consent.task_removed", "consent.keep_task", "consent.task_kept"
REPORT_BREACH = "consent.report_breach"
SHOW_POST, SHOW_TASK = "consent.show_post", "consent.show_task"  # also status lines and the DPO's lists

BREACH_REASONS = (RemovalReason.WITHDRAWN, RemovalReason.NEVER_PUBLISH, RemovalReason.PUBLISHED_WITHOUT_CONSENT)


def post_facts(view: PostView) -> dict[str, Any]:
    """The post as a fact list (no pupil names: the count only)."""
    post = view.post
    state = ("Removed " + format_uk_day(post.removed_at) if post.removed_at else
             f"Must come down ({REMOVAL_LABELS[view.open_task.reason]})" if view.open_task else "Live")
    rows = [
        ("Post", f"#{post.id}"), ("Where", f"{view.purpose_label} \u2014 {plain(post.account)}"),
        *([("Account address", plain(view.account_url))] if view.account_url else []),
        ("What", plain(post.description)), ("Link", plain(post.link) or "not added yet"), ("Pupils shown", str(view.pupil_count)),
        ("Posted by", plain(view.poster_name)), ("Posted", format_uk(post.posted_at)),
        ("Remove by", format_uk_day(post.remove_by)),
    ]
    if post.extension_reason:
        rows.append(("Kept up because", plain(post.extension_reason)))
    return facts([*rows, ("Status", state)])


def _post_actions(view: PostView) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(body inputs, buttons) for a live post: mark removed, add link, extend with a reason."""
    post = view.post
    if post.removed_at is not None:
        return [], []
    # Buttons name the post's school: a DPO serving several schools acts in the right one from any chat.
    buttons = [submit("Mark removed", {"cmd": POST_REMOVED, "post": post.id, "school": post.tenant_id})]
    if post.link:
        buttons.append({"type": "Action.OpenUrl", "title": "Open the post", "url": post.link})
    else:
        buttons.append(submit("Add link", {"cmd": ADD_LINK, "post": post.id, "school": post.tenant_id}))
    if view.open_task is not None:
        return [], buttons
    inputs = [{"type": "Input.Text", "id": "reason", "label": "To keep it up longer, say why", "maxLength": 200,
               "placeholder": "e.g. still the front page of our admissions news"}]
    buttons += [submit(f"Keep {m} more months", {"cmd": EXTEND_POST, "post": post.id, "months": m,
                                                           "school": post.tenant_id})
                for m in EXTEND_MONTHS]
    return inputs, buttons


def receipt_card(view: PostView) -> Card:
    """The post is recorded."""
    _, buttons = _post_actions(view)
    return card([heading(f"\u2705 Post #{view.post.id} recorded"), post_facts(view),
                 text("I'll remind you (and the DPO) when it reaches its remove-by date.", subtle=True)],
                [b for b in buttons if b.get("data", {}).get("cmd") == ADD_LINK])


def post_card(view: PostView) -> Card:
    """A post with what can be done about it."""
    inputs, buttons = _post_actions(view)
    return card([heading(f"Post #{view.post.id}"), post_facts(view), *inputs], buttons)


def settled_post_card(view: PostView, line: str) -> Card:
    """A post's card once marked removed or kept up: who did it and when, and the buttons still left."""
    inputs, buttons = _post_actions(view)
    return settled_card(f"Post #{view.post.id}", line, [post_facts(view), *inputs], buttons)


def pick_post_card(posts: Sequence[Post]) -> Card:
    """Which of your recent posts gets the link?"""
    return card([heading("Which post is the link for?")],
                [submit(f"#{p.id} {PURPOSE_LABELS[Purpose(p.purpose)]}: {plain(p.description)[:40]}", {"post": p.id})
                 for p in posts])


def housekeeping_reminder(view: PostView, *, reminder_id: int, for_owner: bool, now: datetime) -> Card:
    """A post reached its remove-by date."""
    inputs, buttons = _post_actions(view)
    why = ("You posted this photo, and it has reached its remove-by date under the school's housekeeping policy."
           if for_owner else "You're a DPO for this school: a post has reached its remove-by date.")
    return reminder_card(
        why=why, about=f"Time to take down post #{view.post.id} ({view.purpose_label})",
        time_left=time_left_text(view.post.remove_by, now), body=[post_facts(view), *inputs],
        actions=buttons, reminder_id=reminder_id, snoozable=True, done=False,
    )


def _task_facts(task: RemovalTask, view: PostView | None) -> list[dict[str, Any]]:
    if view is not None:
        return [post_facts(view)]
    return [facts([("Where", PURPOSE_LABELS[Purpose(task.purpose)] + (f" \u2014 {plain(task.place)}" if task.place else "")),
                   ("Pupils", str(len(task.pupil_ids))),
                   ("Published", format_uk_day(task.published_at) if task.published_at else "unknown")])]


def _task_buttons(task: RemovalTask, *, is_dpo: bool) -> list[dict[str, Any]]:
    """A removal is settled only by Mark removed, or (a DPO) Keep with a reason: never a generic "done"."""
    about = {"task": task.id, "school": task.tenant_id}
    buttons = [submit("Mark removed", {"cmd": TASK_REMOVED, **about})]
    if is_dpo:
        buttons.append(submit("Keep with a reason", {"cmd": KEEP_TASK, **about}))
    if is_dpo and task.reason in BREACH_REASONS:
        buttons.append(submit("Report a breach", {"cmd": REPORT_BREACH, **about}))
    return buttons


def keep_form(task: RemovalTask, *, error: str = "") -> Card:
    """DPO: why the image stays up (required; kept in the audit trail and the post register)."""
    return card(
        [heading(f"Keep removal #{task.id} up?"), *([text(error, attention=True)] if error else []),
         text(f"{task_summary(task)} ({REMOVAL_LABELS[task.reason]}). Keeping it up settles the removal; "
              "the reason is recorded in the audit trail and the post register.", subtle=True),
         {"type": "Input.Text", "id": "reason", "label": "Why does it stay up?", "isRequired": True,
          "errorMessage": "Please give the reason.", "maxLength": KEPT_REASON_LIMIT,
          "placeholder": "e.g. the parent agreed in writing to keep this post"}],
        [submit("Keep it up", {"cmd": TASK_KEPT, "task": task.id, "school": task.tenant_id})],
    )


def removal_reminder(task: RemovalTask, view: PostView | None, *, reminder_id: int, for_owner: bool) -> Card:
    """An image must come down now (consent withdrawn, pupil left, never publish)."""
    reason = REMOVAL_LABELS[task.reason]
    why = (f"You posted this image, and it must come down: {reason}. Take it down, then press Mark removed. "
           "If it must stay up, ask your DPO: only they can keep it, with a reason."
           if for_owner else f"You're a DPO for this school: an image must come down ({reason}).")
    return reminder_card(
        why=why, about=f"Please take down {'post #' + str(task.post_id) if task.post_id else 'an image'} (removal #{task.id})",
        time_left=f"open since {format_uk(task.opened_at)}", body=_task_facts(task, view),
        actions=_task_buttons(task, is_dpo=not for_owner), reminder_id=reminder_id, snoozable=False, done=False,
    )


def removals_summary(tasks: Sequence[RemovalTask], *, for_owner: bool) -> Card:
    """Many images to take down at once (e.g. after a pupil import): one card listing them, not one card each."""
    title = f"{len(tasks)} images must come down"
    why = ("You posted these images and they must come down. Tap each one, take it down, then press Mark removed."
           if for_owner else "You're a DPO for this school: these images must come down.")
    lines = [tap_item(f"Removal #{t.id}: {REMOVAL_LABELS[t.reason]}, {PURPOSE_LABELS[Purpose(t.purpose)]}",
                      submit("Open", {"cmd": SHOW_TASK, "task": t.id})) for t in tasks[:SUMMARY_LINES]]
    more = len(tasks) - SUMMARY_LINES
    rest = [text(f"And {more} more: type **status** to see them all.", subtle=True)] if more > 0 else []
    result = card([heading(title), text(why), *lines, *rest])
    notifying(result, title)
    return result


def overdue_reminder(task: RemovalTask, view: PostView | None, *, reminder_id: int) -> Card:
    """To the DPO: a removal still open 7 days after consent changed may be a breach."""
    return reminder_card(
        why=f"Consent changed on {format_uk_day(task.opened_at)} and this image is still up. That may be a personal data breach: "
            "report it so the 72-hour decision is recorded.",
        about=f"Removal #{task.id} still open after 7 days", time_left=None,
        body=[text(task_summary(task) + "."), *_task_facts(task, view)],
        actions=_task_buttons(task, is_dpo=True), reminder_id=reminder_id, snoozable=False, done=False,
    )


def task_card(task: RemovalTask, view: PostView | None, *, is_dpo: bool, done: str = "") -> Card:
    """A removal task with its buttons; once done, who did it and when (`done`), and none."""
    title = f"Removal #{task.id}: {REMOVAL_LABELS[task.reason]}"
    if task.done_at:
        return settled_card(title, done or f"Done {format_uk_day(task.done_at)}", _task_facts(task, view))
    return card([heading(title), text(f"Open since {format_uk(task.opened_at)}"), *_task_facts(task, view)],
                _task_buttons(task, is_dpo=is_dpo))


def unregistered_card(task: RemovalTask) -> Card:
    """The DPO recorded an image published without consent."""
    when = f" It was published {format_uk(task.published_at)} (UK time)." if task.published_at else ""
    return card([heading(f"Recorded as removal #{task.id}"), text(task_summary(task) + "." + when),
                 text("Get the image taken down, then press Mark removed. This is likely a personal data breach: "
                      "report it now so the ICO decision is made within 72 hours.", attention=True)],
                _task_buttons(task, is_dpo=True))

