"""Removal tasks: images that must come down because consent changed, a pupil left, or they were published without consent."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.consent.posts import (
    TASK,
    clean_link,
    clean_text,
    close_task,
    mark_removed,
    open_task_for_post,
    recipients,
    schedule_chain,
    to_id,
)
from services.consent.purposes import PURPOSE_LABELS
from services.consent.rules import Reason, lock_pupils, verdicts_for
from services.dates import format_uk
from services.errors import DomainError, NotAllowed, Outdated
from services.identity import Actor, dpo_ids, name_of
from services.reminders import ledger as reminders
from storage.consent_models import Post, PostPupil, Pupil, Purpose, RemovalReason, RemovalTask

log = logging.getLogger(__name__)

KIND_REMOVAL = "consent.removal"  # told at once (any hour)
KIND_REMOVAL_DAILY = "consent.removal_daily"  # then daily, in school hours
KIND_REMOVAL_OVERDUE = "consent.removal_overdue"  # to the DPOs: still up after BREACH_AFTER -> offer a breach report
KIND_REMOVAL_KEPT = "consent.removal_kept"  # to the poster: a DPO kept the image up, nothing to take down
BREACH_AFTER = timedelta(days=7)
_CHUNK = 1000  # ids per IN (...) query
REMOVAL_REPEATS = 20  # school mornings of reminders; then the task stays in `status` (and the DPO was offered a breach report)
_STRONGEST = (  # which reason a task carries when several pupils are affected
    (Reason.NEVER_PUBLISH, RemovalReason.NEVER_PUBLISH),
    (Reason.REFUSED, RemovalReason.WITHDRAWN),
    (Reason.NOT_ASKED, RemovalReason.WITHDRAWN),
    (Reason.LEFT, RemovalReason.LEFT),
)
# A never-publish reason that says why the pupil is protected (the reason itself is never repeated).
_PROTECTED = re.compile(r"\b(looked[- ]after|lac|in care|foster\w*|adopt\w*|court|care order|refuge|protect\w*|safeguard\w*)\b",
                        re.IGNORECASE)
REMOVAL_LABELS: dict[str, str] = {
    RemovalReason.WITHDRAWN: "consent withdrawn",
    RemovalReason.LEFT: "pupil has left",
    RemovalReason.NEVER_PUBLISH: "pupil must never be published",
    RemovalReason.PUBLISHED_WITHOUT_CONSENT: "published without consent",
}


async def _alert(session: AsyncSession, task: RemovalTask, now: datetime) -> None:
    """Tell the assignee and DPOs at once (the actor who caused it learns in their reply), then each school morning."""
    task_id = int(task.id or 0)
    for aad in await recipients(session, task.tenant_id, task.assignee):
        await schedule_chain(
            session, base=f"consent:task:{task_id}", tenant_id=task.tenant_id, recipient=aad, subject_type=TASK,
            subject_id=task_id, first=(KIND_REMOVAL, now) if aad != task.opened_by else None,
            daily=(KIND_REMOVAL_DAILY, REMOVAL_REPEATS), after=now, now=now,
        )
    if task.reason in (RemovalReason.WITHDRAWN, RemovalReason.NEVER_PUBLISH):
        for aad in await dpo_ids(session, task.tenant_id):
            await reminders.schedule(
                session, key=f"consent:task:{task_id}:overdue:{aad}", tenant_id=task.tenant_id, kind=KIND_REMOVAL_OVERDUE,
                recipient_aad_id=aad, subject_type=TASK, subject_id=task_id, due_at=now + BREACH_AFTER, now=now,
            )


async def open_removal(
    session: AsyncSession, *, post: Post, pupil_ids: Sequence[int], reason: RemovalReason, actor_aad_id: str, now: datetime
) -> tuple[RemovalTask, bool]:
    """Open (or add pupils to) the post's removal task and alert; returns (task, newly opened). Does not commit."""
    task = await open_task_for_post(session, int(post.id or 0))
    if task is not None:
        task.pupil_ids = sorted(set(task.pupil_ids) | set(pupil_ids))
        return task, False
    task = RemovalTask(
        tenant_id=post.tenant_id, post_id=post.id, purpose=post.purpose, reason=reason, pupil_ids=sorted(set(pupil_ids)),
        assignee=post.posted_by, opened_at=now, opened_by=actor_aad_id,
    )
    session.add(task)
    await session.flush()
    await _alert(session, task, now)
    audit.record(session, tenant_id=post.tenant_id, actor_aad_id=actor_aad_id, action="removal.opened", now=now,
                 subject_type=TASK, subject_id=int(task.id or 0))
    log.info("removal task %s opened for post %s (%s)", task.id, post.id, reason.value)
    return task, True


async def reconcile(
    session: AsyncSession, *, tenant_id: str, pupil_ids: Sequence[int], actor_aad_id: str, now: datetime
) -> list[RemovalTask]:
    """After a register change: every live post showing a pupil who is no longer OK gets a removal task. Does not commit."""
    await lock_pupils(session, tenant_id=tenant_id, pupil_ids=pupil_ids)  # a post being recorded for them waits, or is seen
    shown: dict[int, tuple[Post, list[int]]] = {}
    wanted = list(pupil_ids)
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(Post, col(PostPupil.pupil_id)).join(PostPupil, col(PostPupil.post_id) == col(Post.id)).where(
                col(Post.tenant_id) == tenant_id, col(Post.removed_at).is_(None),
                col(PostPupil.pupil_id).in_(wanted[start:start + _CHUNK]),
            )
        )
        for post, pupil_id in rows.all():
            shown.setdefault(int(post.id), (post, []))[1].append(int(pupil_id))
    opened: list[RemovalTask] = []
    for _, (post, ids) in sorted(shown.items()):
        verdicts = await verdicts_for(session, tenant_id=tenant_id, pupil_ids=ids, purpose=Purpose(post.purpose), now=now)
        by_reason: dict[Reason, list[int]] = defaultdict(list)
        for v in verdicts:
            by_reason[v.reason].append(v.pupil_id)
        blocked = [r for r, _ in _STRONGEST if by_reason.get(r)]
        if blocked:
            reason = dict(_STRONGEST)[blocked[0]]
            ids_out = [i for r in blocked for i in by_reason[r]]
            task, new = await open_removal(session, post=post, pupil_ids=ids_out, reason=reason, actor_aad_id=actor_aad_id,
                                           now=now)
            opened += [task] if new else []
    return opened


async def record_unregistered(
    session: AsyncSession, *, actor: Actor, pupil_ids: Sequence[int], purpose: Purpose, place: str,
    published_at: datetime, now: datetime,
) -> RemovalTask:
    """DPO: an image of pupils who were not OK was published (outside the post register). Commits."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can record that.")
    verdicts = await verdicts_for(session, tenant_id=actor.tenant_id, pupil_ids=pupil_ids, purpose=purpose, now=now)
    task = RemovalTask(
        tenant_id=actor.tenant_id, purpose=purpose, reason=RemovalReason.PUBLISHED_WITHOUT_CONSENT,
        pupil_ids=[v.pupil_id for v in verdicts], assignee=actor.aad_id, place=clean_link(place) if place.startswith("http")
        else " ".join(place.split())[:500], published_at=min(published_at, now), opened_at=now, opened_by=actor.aad_id,
    )
    session.add(task)
    await session.flush()
    await _alert(session, task, now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="removal.recorded_unconsented",
                 now=now, subject_type=TASK, subject_id=int(task.id or 0))
    await session.commit()
    log.info("removal task %s recorded for an image published without consent", task.id)
    return task


async def task_for(session: AsyncSession, *, actor: Actor, task_id: object) -> RemovalTask:
    """A removal task the actor may act on: assigned to them, or any of their school's for a DPO."""
    task = await session.get(RemovalTask, to_id(task_id))
    if task is None or task.tenant_id != actor.tenant_id or not (actor.is_dpo or task.assignee == actor.aad_id):
        raise NotAllowed()
    return task


async def done_line(session: AsyncSession, task: RemovalTask) -> str:
    """Who marked a task done and when ("Removed by Megan Bowen on Thu 26 Nov 2026, 09:00"); '' while open."""
    if task.done_at is None:
        return ""
    who = await name_of(session, tenant_id=task.tenant_id, aad_id=task.done_by)
    if task.kept_reason:
        return f"Kept up by {who} on {format_uk(task.done_at)}: {task.kept_reason}"
    return f"Removed by {who} on {format_uk(task.done_at)}"


async def mark_task_removed(session: AsyncSession, *, actor: Actor, task_id: object, now: datetime) -> RemovalTask:
    """The image of a task is down (for register posts, the post is marked removed too); never twice. Commits."""
    task = await task_for(session, actor=actor, task_id=task_id)
    if task.done_at is not None:
        raise Outdated(f"Removal #{task.id} is already done: {await done_line(session, task)}. Nothing was changed.")
    if task.post_id is not None:
        await mark_removed(session, actor=actor, post_id=task.post_id, now=now)
    elif task.done_at is None:
        await close_task(session, task=task, actor=actor, now=now)
        await session.commit()
    return task


KEPT_REASON_LIMIT = 170  # fits the post register's "Kept up because" with "Removal #N kept: " before it


async def task_to_keep(session: AsyncSession, *, actor: Actor, task_id: object) -> RemovalTask:
    """An open removal task a DPO may keep up with a reason (else NotAllowed / DomainError saying how it was settled)."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can decide that an image stays up.")
    task = await task_for(session, actor=actor, task_id=task_id)
    if task.done_at is not None:
        how = "kept up" if task.kept_reason else "marked removed"
        raise DomainError(f"Removal #{task.id} is already settled: {how} on {format_uk(task.done_at).split(',')[0]}.")
    return task


async def keep_task(session: AsyncSession, *, actor: Actor, task_id: object, reason: object, now: datetime) -> RemovalTask:
    """DPO only: the image stays up for a stated reason (audited; in the post register); the task is settled. Commits."""
    task = await task_to_keep(session, actor=actor, task_id=task_id)
    task.kept_reason = clean_text(reason, what="the reason it stays up", limit=KEPT_REASON_LIMIT)
    await close_task(session, task=task, actor=actor, now=now, action="removal.kept")
    if task.assignee != actor.aad_id:
        await reminders.schedule(session, key=f"consent:task:{task.id}:kept", tenant_id=task.tenant_id, kind=KIND_REMOVAL_KEPT,
                                 recipient_aad_id=task.assignee, subject_type=TASK, subject_id=int(task.id or 0),
                                 due_at=now, now=now)
    post = await session.get(Post, task.post_id) if task.post_id is not None else None
    if post is not None and post.removed_at is None:
        post.extension_reason = f"Removal #{task.id} kept: {task.kept_reason}"
    await session.commit()
    log.info("removal task %s kept up with a reason", task.id)
    return task


async def open_tasks(session: AsyncSession, *, tenant_id: str, assignee: str | None = None) -> list[RemovalTask]:
    """Open removal tasks of a school (optionally one person's), oldest first."""
    still_open = col(RemovalTask.done_at).is_(None)
    query = select(RemovalTask).where(col(RemovalTask.tenant_id) == tenant_id, still_open)
    if assignee is not None:
        query = query.where(col(RemovalTask.assignee) == assignee)
    return list((await session.execute(query.order_by(col(RemovalTask.opened_at)))).scalars())


async def kept_tasks(session: AsyncSession, *, tenant_id: str, since: datetime) -> list[RemovalTask]:
    """A school's removal tasks settled by Keep with a reason since `since`, newest first."""
    query = select(RemovalTask).where(col(RemovalTask.tenant_id) == tenant_id, col(RemovalTask.kept_reason) != "",
                                      col(RemovalTask.done_at) >= since)
    return list((await session.execute(query.order_by(col(RemovalTask.done_at).desc()))).scalars())


async def kept_task(session: AsyncSession, *, tenant_id: str, subject_id: str) -> RemovalTask | None:
    """The task a kept-up notice is about (None unless it was kept up)."""
    task = await session.get(RemovalTask, int(subject_id))
    return task if task is not None and task.tenant_id == tenant_id and task.kept_reason else None


async def due_task(session: AsyncSession, *, tenant_id: str, subject_id: str) -> RemovalTask | None:
    """The open task a reminder is about (None once it is done)."""
    task = await any_task(session, tenant_id=tenant_id, subject_id=subject_id)
    return task if task is not None and task.done_at is None else None


async def any_task(session: AsyncSession, *, tenant_id: str, subject_id: str) -> RemovalTask | None:
    """The task a reminder is about, open or done."""
    task = await session.get(RemovalTask, int(subject_id))
    return task if task is not None and task.tenant_id == tenant_id else None


def task_summary(task: RemovalTask) -> str:
    """Non-identifying: 'Photo of 2 pupils published on School social media without valid consent'."""
    n = len(task.pupil_ids)
    return f"Photo of {n} pupil{'s' if n != 1 else ''} published on {PURPOSE_LABELS[Purpose(task.purpose)]} without valid consent"


async def breach_prefill(session: AsyncSession, *, actor: Actor, task_id: object, now: datetime) -> dict[str, Any]:
    """DPO only: the pre-filled breach report for an image that was (or stayed) up without valid consent."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can report that as a breach.")
    task = await task_for(session, actor=actor, task_id=task_id)
    if task.reason not in (RemovalReason.WITHDRAWN, RemovalReason.NEVER_PUBLISH, RemovalReason.PUBLISHED_WITHOUT_CONSENT):
        raise DomainError("That removal is about a leaver, which isn't a breach on its own.")
    unconsented = task.reason == RemovalReason.PUBLISHED_WITHOUT_CONSENT
    where, protected = await _where(session, task), await _protected_note(session, task)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="removal.breach_started", now=now,
                 subject_type=TASK, subject_id=int(task.id or 0))
    await session.commit()
    late = "" if unconsented else f"; consent changed on {task.opened_at:%d/%m/%Y} and the image was not taken down"
    return {
        "kind": "published",
        "what_happened": f"{task_summary(task)}{where}{late}.{protected}",
        "subjects": ["pupils"],
        "people_count": len(task.pupil_ids),
        "data_categories": ["basic", "safeguarding"] if protected else ["basic"],
        "happened_at": (task.published_at or task.opened_at).isoformat(),
        "aware_at": (task.opened_at if unconsented else now).isoformat(),
    }


async def _where(session: AsyncSession, task: RemovalTask) -> str:
    """The account and link the image went to (" (School Facebook page, https://…)"), when known."""
    post = await session.get(Post, task.post_id) if task.post_id is not None else None
    parts = [post.account, post.link] if post is not None and post.tenant_id == task.tenant_id else [task.place]
    shown = ", ".join(part for part in parts if part)
    return f" ({shown})" if shown else ""


async def _protected_note(session: AsyncSession, task: RemovalTask) -> str:
    """A sentence flagging pupils who must never be published (a higher risk), naming none of them."""
    if not task.pupil_ids:
        return ""
    rows = await session.execute(select(col(Pupil.never_publish_reason)).where(
        col(Pupil.tenant_id) == task.tenant_id, col(Pupil.id).in_(task.pupil_ids), col(Pupil.never_publish).is_(True)))
    reasons = list(rows.scalars())
    if not reasons:
        return ""
    why = " (looked-after, adopted or otherwise protected)" if any(_PROTECTED.search(r) for r in reasons) else ""
    who = "1 pupil" if len(reasons) == 1 else f"{len(reasons)} pupils"
    return f" {who} in it must never be published{why}: a higher risk to them."
