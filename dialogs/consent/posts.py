"""Posts and removals in chat: card buttons (removed, extend, add link, report a breach), reminders and status lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.consent.post_cards import (
    ADD_LINK,
    EXTEND_POST,
    KEEP_TASK,
    POST_REMOVED,
    REPORT_BREACH,
    SHOW_POST,
    SHOW_TASK,
    TASK_KEPT,
    TASK_REMOVED,
    housekeeping_reminder,
    keep_form,
    overdue_reminder,
    pick_post_card,
    post_card,
    removal_reminder,
    removals_summary,
    settled_post_card,
    task_card,
)
from dialogs.consent.who import ask
from dialogs.feature import Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.kit.card_updates import replace_pressed
from dialogs.kit.cards import notice_card, notifying, plain, submit
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import refusal
from dialogs.kit.replies import card_activity
from services.consent import posts, removals
from services.consent.purposes import PURPOSE_LABELS
from services.dates import format_uk, format_uk_day
from services.errors import DomainError, Outdated
from services.identity import Actor, name_of
from services.ids import parse_id
from storage.consent_models import Purpose, RemovalTask
from storage.reminder_models import Reminder

ADD_LINK_DIALOG = "consent.add_link"
ADD_LINK_INTENT = Intent(ADD_LINK_DIALOG, ("add link", "add a link", "add post link"), (r"^add (a |the )?(post )?link\b",))
_STEPS, _POST_PROMPT, _LINK_PROMPT = f"{ADD_LINK_DIALOG}.steps", f"{ADD_LINK_DIALOG}.post", f"{ADD_LINK_DIALOG}.link"
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
POST, LINK = "post", "link"
KEPT_SHOWN = timedelta(days=30)  # a DPO's status lists the removals kept up with a reason this long


class AddLinkDialog(ComponentDialog):
    """`add link [#post] [url]`, or the receipt's Add link button: which post, then the link."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(ADD_LINK_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_STEPS, [self.post_step, self.link_step, self.save_step]))
        self.add_dialog(CardPrompt(_POST_PROMPT, self._picked))
        self.add_dialog(CardPrompt(_LINK_PROMPT, self._linked))
        self.initial_dialog_id = _STEPS

    @staticmethod
    async def _picked(prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value if prompt.recognized.succeeded else {}
        return parse_id(str(value.get("post") or value.get("text") or "").lstrip("#")) is not None

    @staticmethod
    async def _linked(prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value if prompt.recognized.succeeded else {}
        return bool(_URL.fullmatch(str(value.get("text") or "").strip()))

    async def post_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        said = str(options.get("utterance") or "")
        url, number = _URL.search(said), re.search(r"#?\b([0-9]+)\b", _URL.sub(" ", said))
        step.values[LINK] = url.group(0) if url else ""
        chosen = options.get(POST) or (number.group(1) if number else None)
        if chosen:
            return await step.next({POST: chosen})
        async with self._deps.sessions() as session:
            waiting = await posts.posts_without_link(session, actor=actor_of(step.context))
        if not waiting:
            await step.context.send_activity("You have no live posts waiting for a link.")
            return await step.end_dialog()
        return await step.prompt(_POST_PROMPT, ask(pick_post_card(waiting)))

    async def link_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values[POST] = str(step.result.get(POST) or step.result.get("text")).lstrip("#")
        try:
            async with self._deps.sessions() as session:
                await posts.post_for(session, actor=actor_of(step.context), post_id=step.values[POST])
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        if step.values[LINK]:
            return await step.next({"text": step.values[LINK]})
        paste = f"Paste the link to post #{step.values[POST]} (starting with https://)."
        return await step.prompt(_LINK_PROMPT, ask(notice_card("Add a link", paste)))

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        async with self._deps.sessions() as session:
            post = await posts.add_link(session, actor=actor_of(step.context), post_id=step.values[POST],
                                        link=str(step.result.get("text")), now=self._deps.clock())
        await step.context.send_activity(f"Link added to post #{post.id}.")
        return await step.end_dialog()


class PostActions:
    """Card buttons about posts and removal tasks; each checks school and role in the service."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def post_removed(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The post is down (once: pressed again, it says who marked it and when)."""
        async with self._deps.sessions() as session:
            post = await posts.post_for(session, actor=actor, post_id=data.get(POST))
            if post.removed_at is not None:
                await dc.context.send_activity(f"Post #{post.id} is already marked removed: "
                                               f"{plain(await post_line(session, post))}. Nothing was changed.")
            else:
                post = await posts.mark_removed(session, actor=actor, post_id=data.get(POST), now=self._deps.clock())
                await dc.context.send_activity(f"Thanks \u2014 post #{post.id} is marked removed. "
                                               "Reminders about it have stopped.")
        await self._settle_post(dc, actor, data)

    async def extend_post(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Keep the post up longer, with a reason."""
        async with self._deps.sessions() as session:
            post = await posts.extend_post(session, actor=actor, post_id=data.get(POST), months=data.get("months"),
                                           reason=str(data.get("reason") or ""), now=self._deps.clock())
        await dc.context.send_activity(f"Post #{post.id} may stay up until {format_uk(post.remove_by).split(',')[0]}. "
                                       "The reason is recorded.")
        await self._settle_post(dc, actor, data)

    async def _settle_post(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The pressed card, and every housekeeping reminder about the post, show what was done."""
        async with self._deps.sessions() as session:
            post = await posts.post_for(session, actor=actor, post_id=data.get(POST))
            settled = settled_post_card(await posts.view_of(session, post), await post_line(session, post))
        await replace_pressed(dc.context, settled)
        await self._deps.refresh_cards(post.tenant_id, posts.POST, int(post.id or 0))

    async def show_post(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """A post's card."""
        async with self._deps.sessions() as session:
            view = await posts.view_of(session, await posts.post_for(session, actor=actor, post_id=data.get(POST)))
        await dc.context.send_activity(card_activity(post_card(view)))

    async def task_removed(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The image of a removal task is down: the pressed card and every reminder about it say so."""
        try:
            async with self._deps.sessions() as session:
                task = await removals.mark_task_removed(session, actor=actor, task_id=data.get("task"),
                                                        now=self._deps.clock())
            said = f"Thanks \u2014 removal #{task.id} is done. Reminders about it have stopped."
        except Outdated:
            said = ""
        async with self._deps.sessions() as session:
            task = await removals.task_for(session, actor=actor, task_id=data.get("task"))
            line = await removals.done_line(session, task)
            settled = task_card(task, await _view(session, task), is_dpo=actor.is_dpo, done=line)
        await dc.context.send_activity(said or f"Removal #{task.id} is already done: {plain(line)}. Nothing was changed.")
        await replace_pressed(dc.context, settled)
        await self._deps.refresh_cards(task.tenant_id, posts.TASK, int(task.id or 0))

    async def keep_task(self, dc: DialogContext, actor: Actor, data: dict[str, Any], error: str = "") -> None:
        """DPO: the form to keep a removal's image up, with a reason (again with `error` when it was sent without one)."""
        async with self._deps.sessions() as session:
            task = await removals.task_to_keep(session, actor=actor, task_id=data.get("task"))
        await dc.context.send_activity(card_activity(keep_form(task, error=error)))

    async def task_kept(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The keep form was sent: the task is settled with its reason."""
        if not str(data.get("reason") or "").strip():  # a client that does not enforce isRequired: the form again
            return await self.keep_task(dc, actor, data, error="Please say why it stays up, then press Keep it up.")
        async with self._deps.sessions() as session:
            task = await removals.keep_task(session, actor=actor, task_id=data.get("task"), reason=data.get("reason"),
                                            now=self._deps.clock())
        self._deps.wake_reminders()  # the poster's "no need to take it down" goes now
        told = " I'm telling the person who posted it that it can stay up." if task.assignee != actor.aad_id else ""
        await dc.context.send_activity(f"Removal #{task.id} is settled: the image stays up. Your reason is recorded in the "
                                       f"audit trail and the post register, and reminders about it have stopped.{told}")

    async def show_task(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """A removal task's card."""
        async with self._deps.sessions() as session:
            task = await removals.task_for(session, actor=actor, task_id=data.get("task"))
            view, done = await _view(session, task), await removals.done_line(session, task)
        await dc.context.send_activity(card_activity(task_card(task, view, is_dpo=actor.is_dpo, done=done)))

    async def report_breach(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """DPO: start a breach report pre-filled from the removal task (no pupil names)."""
        async with self._deps.sessions() as session:
            prefill = await removals.breach_prefill(session, actor=actor, task_id=data.get("task"), now=self._deps.clock())
        await dc.begin_dialog("breach.report", {"prefill": prefill})

    async def add_link(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The receipt's Add link button."""
        async with self._deps.sessions() as session:
            await posts.post_for(session, actor=actor, post_id=data.get(POST))
        await dc.begin_dialog(ADD_LINK_DIALOG, {POST: data.get(POST)})


async def _view(session: AsyncSession, task: RemovalTask) -> posts.PostView | None:
    post = await session.get(posts.Post, task.post_id) if task.post_id else None
    return await posts.view_of(session, post) if post is not None else None


async def render_housekeeping(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """A post at its remove-by date (None once removed, extended, or covered by a removal task)."""
    post = await posts.due_housekeeping(session, reminder, now)
    view = await posts.view_of(session, post) if post is not None else None
    if view is None or view.open_task is not None:
        return None
    owner = reminder.recipient_aad_id == view.post.posted_by
    return housekeeping_reminder(view, reminder_id=int(reminder.id or 0), for_owner=owner, now=now)


async def post_line(session: AsyncSession, post: posts.Post) -> str:
    """What was last done about a post, by whom and when ('' while nothing has been)."""
    if post.removed_at is not None:
        who = await name_of(session, tenant_id=post.tenant_id, aad_id=post.removed_by)
        return f"Removed by {who} on {format_uk(post.removed_at)}"
    if post.extension_reason:
        return f"Kept up until {format_uk(post.remove_by).split(',')[0]}: {post.extension_reason}"
    return ""


async def current_post(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """A housekeeping reminder already sent, once the post was removed or kept up (None while neither)."""
    post = await session.get(posts.Post, int(reminder.subject_id))
    line = await post_line(session, post) if post is not None and post.tenant_id == reminder.tenant_id else ""
    return settled_post_card(await posts.view_of(session, post), line) if post is not None and line else None


async def render_removal(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """An image that must come down (None once it is done)."""
    task = await removals.due_task(session, tenant_id=reminder.tenant_id, subject_id=reminder.subject_id)
    if task is None:
        return None
    return removal_reminder(task, await _view(session, task), reminder_id=int(reminder.id or 0),
                            for_owner=reminder.recipient_aad_id == task.assignee)


async def render_kept(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """To the poster: a DPO decided the image stays up, so the removal they were asked for is off."""
    task = await removals.kept_task(session, tenant_id=reminder.tenant_id, subject_id=reminder.subject_id)
    if task is None:
        return None
    what = f"post #{task.post_id}" if task.post_id else "the image"
    title = f"Removal #{task.id}: no need to take it down"
    result = notice_card(title, f"Your DPO decided that {what} may stay up, so removal #{task.id} is settled and its "
                                "reminders have stopped. The reason is kept in the post register.")
    notifying(result, title)
    return result


async def current_removal(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """A removal reminder already sent, once the task is done: who took the image down and when (None while open)."""
    task = await removals.any_task(session, tenant_id=reminder.tenant_id, subject_id=reminder.subject_id)
    if task is None or task.done_at is None:
        return None
    return task_card(task, await _view(session, task), is_dpo=False, done=await removals.done_line(session, task))


async def summarise_removals(session: AsyncSession, group: Sequence[Reminder], now: datetime) -> dict[str, Any] | None:
    """Several images to take down for one person at once: one card (None when fewer than two are still open)."""
    found = {task.id: task for r in group
             if (task := await removals.due_task(session, tenant_id=r.tenant_id, subject_id=r.subject_id))}
    tasks = sorted(found.values(), key=lambda task: int(task.id or 0))
    if len(tasks) < 2:
        return None
    return removals_summary(tasks, for_owner=all(t.assignee == group[0].recipient_aad_id for t in tasks))


async def render_overdue(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """To DPOs: still up 7 days after consent changed; offers a breach report."""
    task = await removals.due_task(session, tenant_id=reminder.tenant_id, subject_id=reminder.subject_id)
    if task is None:
        return None
    return overdue_reminder(task, await _view(session, task), reminder_id=int(reminder.id or 0))


async def consent_status(session: AsyncSession, actor: Actor, now: datetime) -> list[StatusLine]:
    """DPO: the school's open removals and posts past remove-by; staff: their own."""
    mine = None if actor.is_dpo else actor.aad_id
    lines = []
    for task in await removals.open_tasks(session, tenant_id=actor.tenant_id, assignee=mine):
        days = (now - task.opened_at).days
        lines.append(StatusLine(
            "Photo removals", f"Removal #{task.id}: {removals.REMOVAL_LABELS[task.reason]}, "
                              f"{PURPOSE_LABELS[Purpose(task.purpose)]} (open {days} day{'s' if days != 1 else ''})",
            urgency=80 if now - task.opened_at >= removals.BREACH_AFTER else 60,
            button=submit("Open", {"cmd": SHOW_TASK, "task": task.id}),
        ))
    for task in await removals.kept_tasks(session, tenant_id=actor.tenant_id, since=now - KEPT_SHOWN) if actor.is_dpo else []:
        day = format_uk_day(task.done_at or now)
        lines.append(StatusLine(
            "Photo removals kept up (last 30 days)",
            f"Removal #{task.id}: kept up on {day} ({PURPOSE_LABELS[Purpose(task.purpose)]})",
            urgency=10, button=submit("Open", {"cmd": SHOW_TASK, "task": task.id}),
        ))
    for post in await posts.posts_past_remove_by(session, tenant_id=actor.tenant_id, now=now, posted_by=mine):
        lines.append(StatusLine(
            "Posts past their remove-by date", f"Post #{post.id}: {PURPOSE_LABELS[Purpose(post.purpose)]}, "
                                               f"remove by {format_uk(post.remove_by).split(',')[0]}",
            urgency=30, button=submit("Open", {"cmd": SHOW_POST, "post": post.id}),
        ))
    return lines


def posts_feature(deps: Deps) -> Feature:
    """Add link, the post/removal buttons, reminder kinds and status lines."""
    actions = PostActions(deps)
    return Feature(
        dialogs=(AddLinkDialog(deps),),
        intents=(ADD_LINK_INTENT,),
        actions={
            POST_REMOVED: actions.post_removed, EXTEND_POST: actions.extend_post,
            SHOW_POST: actions.show_post, TASK_REMOVED: actions.task_removed,
            SHOW_TASK: actions.show_task,
            KEEP_TASK: actions.keep_task, TASK_KEPT: actions.task_kept,
            REPORT_BREACH: actions.report_breach,
            ADD_LINK: actions.add_link,
        },
        reminder_kinds={
            posts.KIND_HOUSEKEEPING: ReminderKind(render=render_housekeeping, current=current_post),
            removals.KIND_REMOVAL: ReminderKind(render=render_removal, urgent=True, snoozable=False,
                                                current=current_removal, summarise=summarise_removals),
            removals.KIND_REMOVAL_DAILY: ReminderKind(render=render_removal, snoozable=False, current=current_removal,
                                                      summarise=summarise_removals),
            removals.KIND_REMOVAL_OVERDUE: ReminderKind(render=render_overdue, snoozable=False, current=current_removal),
            removals.KIND_REMOVAL_KEPT: ReminderKind(render=render_kept, urgent=True, snoozable=False),
        },
        status=consent_status,
    )
