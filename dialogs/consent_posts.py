"""Posts and removals in chat: card buttons (removed, extend, add link, report a breach), reminders and status lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cards import notice_card, submit
from bot.consent_post_cards import (
    housekeeping_reminder,
    overdue_reminder,
    pick_post_card,
    post_card,
    removal_reminder,
    removals_summary,
    task_card,
)
from bot.replies import card_activity
from dialogs.consent_who import ask
from dialogs.deps import Deps, Feature, Intent, ReminderKind, StatusLine, actor_of
from dialogs.prompts import CardPrompt
from services import posts, removals
from services.consent import PURPOSE_LABELS
from services.dates import format_uk
from services.errors import DomainError
from services.identity import Actor
from services.ids import parse_id
from storage.consent_models import Purpose, RemovalTask
from storage.reminder_models import Reminder

ADD_LINK_DIALOG = "consent.add_link"
ADD_LINK_INTENT = Intent(ADD_LINK_DIALOG, ("add link", "add a link", "add post link"), (r"^add (a |the )?(post )?link\b",))
_STEPS, _POST_PROMPT, _LINK_PROMPT = f"{ADD_LINK_DIALOG}.steps", f"{ADD_LINK_DIALOG}.post", f"{ADD_LINK_DIALOG}.link"
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
POST, LINK = "post", "link"


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
        if options.get(POST) or number:
            return await step.next({POST: options.get(POST) or number.group(1)})  # type: ignore[union-attr]
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
            await step.context.send_activity(str(error))
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
        """The post is down."""
        async with self._deps.sessions() as session:
            post = await posts.mark_removed(session, actor=actor, post_id=data.get(POST), now=self._deps.clock())
        await dc.context.send_activity(f"Thanks \u2014 post #{post.id} is marked removed. Reminders about it have stopped.")

    async def extend_post(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Keep the post up longer, with a reason."""
        async with self._deps.sessions() as session:
            post = await posts.extend_post(session, actor=actor, post_id=data.get(POST), months=data.get("months"),
                                           reason=str(data.get("reason") or ""), now=self._deps.clock())
        await dc.context.send_activity(f"Post #{post.id} may stay up until {format_uk(post.remove_by).split(',')[0]}. "
                                       "The reason is recorded.")

    async def show_post(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """A post's card."""
        async with self._deps.sessions() as session:
            view = await posts.view_of(session, await posts.post_for(session, actor=actor, post_id=data.get(POST)))
        await dc.context.send_activity(card_activity(post_card(view)))

    async def task_removed(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The image of a removal task is down."""
        async with self._deps.sessions() as session:
            task = await removals.mark_task_removed(session, actor=actor, task_id=data.get("task"), now=self._deps.clock())
        await dc.context.send_activity(f"Thanks \u2014 removal #{task.id} is done. Reminders about it have stopped.")

    async def show_task(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """A removal task's card."""
        async with self._deps.sessions() as session:
            task = await removals.task_for(session, actor=actor, task_id=data.get("task"))
            view = await _view(session, task)
        await dc.context.send_activity(card_activity(task_card(task, view, is_dpo=actor.is_dpo)))

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


async def render_removal(session: AsyncSession, reminder: Reminder, now: datetime) -> dict[str, Any] | None:
    """An image that must come down (None once it is done)."""
    task = await removals.due_task(session, tenant_id=reminder.tenant_id, subject_id=reminder.subject_id)
    if task is None:
        return None
    return removal_reminder(task, await _view(session, task), reminder_id=int(reminder.id or 0),
                            for_owner=reminder.recipient_aad_id == task.assignee)


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
            button=submit("Open", {"cmd": "consent.show_task", "task": task.id}),
        ))
    for post in await posts.posts_past_remove_by(session, tenant_id=actor.tenant_id, now=now, posted_by=mine):
        lines.append(StatusLine(
            "Posts past their remove-by date", f"Post #{post.id}: {PURPOSE_LABELS[Purpose(post.purpose)]}, "
                                               f"remove by {format_uk(post.remove_by).split(',')[0]}",
            urgency=30, button=submit("Open", {"cmd": "consent.show_post", "post": post.id}),
        ))
    return lines


def posts_feature(deps: Deps) -> Feature:
    """Add link, the post/removal buttons, reminder kinds and status lines."""
    actions = PostActions(deps)
    return Feature(
        dialogs=(AddLinkDialog(deps),),
        intents=(ADD_LINK_INTENT,),
        actions={
            "consent.post_removed": actions.post_removed, "consent.extend_post": actions.extend_post,
            "consent.show_post": actions.show_post, "consent.task_removed": actions.task_removed,
            "consent.show_task": actions.show_task, "consent.report_breach": actions.report_breach,
            "consent.add_link": actions.add_link,
        },
        reminder_kinds={
            posts.KIND_HOUSEKEEPING: ReminderKind(render=render_housekeeping),
            removals.KIND_REMOVAL: ReminderKind(render=render_removal, urgent=True, snoozable=False,
                                                summarise=summarise_removals),
            removals.KIND_REMOVAL_DAILY: ReminderKind(render=render_removal, snoozable=False, summarise=summarise_removals),
            removals.KIND_REMOVAL_OVERDUE: ReminderKind(render=render_overdue, snoozable=False),
        },
        status=consent_status,
    )
