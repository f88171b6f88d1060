"""The post register: what was posted after a check, its housekeeping date, links, removal and extension."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.accounts.register import live_account
from services.consent.purposes import PURPOSE_LABELS
from services.consent.rules import lock_pupils, verdicts_for
from services.errors import DomainError, NotAllowed
from services.identity import Actor, dpo_ids
from services.ids import parse_id
from services.reminders import ledger as reminders
from services.school.calendar import calendar_for
from storage.account_models import SocialAccount
from storage.consent_models import ConsentCheck, Post, PostPupil, Purpose, RemovalTask
from storage.models import Person
from storage.reminder_models import Reminder

log = logging.getLogger(__name__)

KIND_HOUSEKEEPING = "consent.housekeeping"
POST = "consent_post"
TASK = "consent_task"
CHECK_VALID_FOR = timedelta(hours=24)
HOUSEKEEPING_REPEATS = 10  # school mornings after the remove-by date; then the post stays in `status`
EXTEND_MONTHS = (6, 12)


@dataclass(frozen=True)
class PostView:
    """A post with what its cards show."""

    post: Post
    poster_name: str
    pupil_count: int
    open_task: RemovalTask | None
    account_url: str = ""  # the registered account's address

    @property
    def purpose_label(self) -> str:
        """E.g. 'School social media'."""
        return PURPOSE_LABELS[Purpose(self.post.purpose)]


def to_id(value: object) -> int:
    """An id from card data; anything else is refused."""
    found = parse_id(value)
    if found is None:
        raise NotAllowed()
    return found


def clean_text(value: object, *, what: str, limit: int, required: bool = True) -> str:
    """Trimmed single-line text within `limit` characters."""
    cleaned = " ".join(str(value or "").split())
    if required and not cleaned:
        raise DomainError(f"Please give {what}.")
    if len(cleaned) > limit:
        raise DomainError(f"Please keep {what} under {limit} characters.")
    return cleaned


def clean_link(value: object) -> str:
    """An http(s) link, or '' for none."""
    link = clean_text(value, what="the link", limit=500, required=False)
    if link and (not link.lower().startswith(("https://", "http://")) or " " in link):
        raise DomainError("That doesn't look like a link. Paste the full address, starting with https://")
    return link


async def recipients(session: AsyncSession, tenant_id: str, owner: str) -> list[str]:
    """The owner first, then every DPO (no one twice)."""
    return list(dict.fromkeys([owner, *await dpo_ids(session, tenant_id)]))


async def post_for(session: AsyncSession, *, actor: Actor, post_id: object) -> Post:
    """A post the actor may act on: their own, or any of their school's for a DPO."""
    post = await session.get(Post, to_id(post_id))
    if post is None or post.tenant_id != actor.tenant_id or not (actor.is_dpo or post.posted_by == actor.aad_id):
        raise NotAllowed()
    return post


async def open_task_for_post(session: AsyncSession, post_id: int) -> RemovalTask | None:
    """The open removal task of a post, if any."""
    rows = await session.execute(
        select(RemovalTask).where(col(RemovalTask.post_id) == post_id, col(RemovalTask.done_at).is_(None))
    )
    return rows.scalars().first()


async def view_of(session: AsyncSession, post: Post) -> PostView:
    """The post with its poster's name, pupil count and open removal task."""
    name = (await session.execute(
        select(col(Person.name)).where(col(Person.tenant_id) == post.tenant_id, col(Person.aad_id) == post.posted_by)
    )).scalar_one_or_none()
    count = (await session.execute(select(func.count()).where(col(PostPupil.post_id) == post.id))).scalar_one()
    account = await session.get(SocialAccount, post.account_id) if post.account_id else None
    return PostView(post, name or "a colleague", int(count), await open_task_for_post(session, int(post.id or 0)),
                    account.url if account else "")


async def schedule_chain(
    session: AsyncSession, *, base: str, tenant_id: str, recipient: str, subject_type: str, subject_id: int,
    first: tuple[str, datetime] | None, daily: tuple[str, int], after: datetime, now: datetime,
) -> None:
    """A first reminder (kind, when), then one each school morning of the school's calendar (kind, how many): the engine
    has no repeats.
    Each renderer returns None once its item is done, and the caller cancels the rest. Does not commit."""
    calendar = await calendar_for(session, tenant_id)
    due = [(first[0], first[1])] if first else []
    due += [(daily[0], when) for when in calendar.school_mornings(after, daily[1])]
    for n, (kind, when) in enumerate(due, 0 if first else 1):
        await reminders.schedule(
            session, key=f"{base}:{n}:{recipient}", tenant_id=tenant_id, kind=kind, recipient_aad_id=recipient,
            subject_type=subject_type, subject_id=subject_id, due_at=when, now=now, payload={"n": n},
        )


async def _schedule_housekeeping(session: AsyncSession, post: Post, now: datetime) -> None:
    base = f"consent:post:{post.id}:hk:{post.remove_by:%Y%m%d%H%M}"
    for aad in await recipients(session, post.tenant_id, post.posted_by):
        await schedule_chain(session, base=base, tenant_id=post.tenant_id, recipient=aad, subject_type=POST,
                             subject_id=int(post.id or 0), first=(KIND_HOUSEKEEPING, post.remove_by),
                             daily=(KIND_HOUSEKEEPING, HOUSEKEEPING_REPEATS), after=post.remove_by, now=now)


async def record_post(
    session: AsyncSession, *, actor: Actor, check_id: int, account: str, description: str, link: str,
    months: Mapping[Purpose, int], now: datetime, account_number: int | None = None, other: bool = False,
) -> Post:
    """Record a post made after an allowed check (re-checked now) with its remove-by date. Commits.

    `account_number`: a registered account, whose name is used and whose housekeeping months (if set) win;
    `other`: an account that isn't registered (shown to the DPO)."""
    check = await session.get(ConsentCheck, check_id)
    if check is None or check.tenant_id != actor.tenant_id or check.checked_by != actor.aad_id:
        raise NotAllowed()
    if check.post_id is not None:
        raise DomainError(f"That post is already recorded (post #{check.post_id}).")
    if not check.allowed or now - check.at > CHECK_VALID_FOR:
        raise DomainError("That check can't be used to post. Type **check consent** to check again.")
    await lock_pupils(session, tenant_id=actor.tenant_id, pupil_ids=check.pupil_ids)  # against a consent change's reconcile
    verdicts = await verdicts_for(session, tenant_id=actor.tenant_id, pupil_ids=check.pupil_ids, purpose=Purpose(check.purpose),
                                  now=now)
    if not all(v.ok for v in verdicts):
        raise DomainError("Consent has changed since you checked: please don't post this photo. "
                          "Type **check consent** to check again.")
    registered = await live_account(session, actor=actor, number=account_number) if account_number else None
    stays_up = registered.housekeeping_months if registered and registered.housekeeping_months else months[Purpose(check.purpose)]
    post = Post(
        tenant_id=actor.tenant_id, check_id=check_id, purpose=check.purpose,
        account=registered.label if registered else clean_text(account, what="the account or page", limit=100),
        account_id=registered.id if registered else None, account_other=other and registered is None,
        description=clean_text(description, what="a short description", limit=200), link=clean_link(link),
        posted_by=actor.aad_id, posted_at=now,
        remove_by=(await calendar_for(session, actor.tenant_id)).on_school_day(now + relativedelta(months=stays_up)),
    )
    session.add(post)
    await session.flush()
    session.add_all([PostPupil(post_id=int(post.id or 0), pupil_id=i, tenant_id=actor.tenant_id) for i in check.pupil_ids])
    check.post_id = post.id
    await _schedule_housekeeping(session, post, now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="post.recorded", now=now,
                 subject_type=POST, subject_id=int(post.id or 0))
    await session.commit()
    log.info("post %s recorded from check %s", post.id, check_id)
    return post


async def add_link(session: AsyncSession, *, actor: Actor, post_id: object, link: str, now: datetime) -> Post:
    """Add or change the link of a post. Commits."""
    post = await post_for(session, actor=actor, post_id=post_id)
    post.link = clean_link(link) or post.link
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="post.link_added", now=now,
                 subject_type=POST, subject_id=int(post.id or 0))
    await session.commit()
    return post


async def mark_removed(session: AsyncSession, *, actor: Actor, post_id: object, now: datetime) -> Post:
    """The image is down: close the post, its removal task and their reminders. Commits."""
    post = await post_for(session, actor=actor, post_id=post_id)
    task = await open_task_for_post(session, int(post.id or 0))
    if task is not None:
        await close_task(session, task=task, actor=actor, now=now)
    if post.removed_at is None:
        post.removed_at, post.removed_by = now, actor.aad_id
        await reminders.cancel(session, tenant_id=post.tenant_id, subject_type=POST, subject_id=int(post.id or 0))
        audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="post.removed", now=now,
                     subject_type=POST, subject_id=int(post.id or 0))
    await session.commit()
    log.info("post %s marked removed", post.id)
    return post


async def close_task(session: AsyncSession, *, task: RemovalTask, actor: Actor, now: datetime,
                     action: str = "removal.done") -> None:
    """Settle a removal task (done, or kept: `action`) and cancel its reminders (the caller commits)."""
    task.done_at, task.done_by = now, actor.aad_id
    await reminders.cancel(session, tenant_id=task.tenant_id, subject_type=TASK, subject_id=int(task.id or 0))
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action=action, now=now,
                 subject_type=TASK, subject_id=int(task.id or 0))


async def extend_post(
    session: AsyncSession, *, actor: Actor, post_id: object, months: object, reason: str, now: datetime
) -> Post:
    """Keep a post up for 6 or 12 more months, with a reason. Commits."""
    post = await post_for(session, actor=actor, post_id=post_id)
    if post.removed_at is not None:
        raise DomainError(f"Post #{post.id} is already marked removed.")
    if await open_task_for_post(session, int(post.id or 0)) is not None:
        raise DomainError(f"Post #{post.id} must come down (consent changed), so it can't be extended.")
    if str(months) not in {str(m) for m in EXTEND_MONTHS}:
        raise DomainError("A post can be extended by 6 or 12 months.")
    post.extension_reason = clean_text(reason, what="a reason for keeping it up", limit=200)
    calendar = await calendar_for(session, post.tenant_id)
    post.remove_by = calendar.on_school_day(max(post.remove_by, now) + relativedelta(months=int(str(months))))
    await reminders.cancel(session, tenant_id=post.tenant_id, subject_type=POST, subject_id=int(post.id or 0),
                           kinds=[KIND_HOUSEKEEPING])
    await _schedule_housekeeping(session, post, now)
    audit.record(session, tenant_id=actor.tenant_id, actor_aad_id=actor.aad_id, action="post.extended", now=now,
                 subject_type=POST, subject_id=int(post.id or 0))
    await session.commit()
    return post


async def posts_past_remove_by(
    session: AsyncSession, *, tenant_id: str, now: datetime, posted_by: str | None = None
) -> list[Post]:
    """Live posts whose remove-by date has come (optionally one poster's), oldest first."""
    live = col(Post.removed_at).is_(None)
    query = select(Post).where(col(Post.tenant_id) == tenant_id, live, col(Post.remove_by) <= now)
    if posted_by is not None:
        query = query.where(col(Post.posted_by) == posted_by)
    return list((await session.execute(query.order_by(col(Post.remove_by)))).scalars())


async def post_register(session: AsyncSession, *, actor: Actor) -> list[PostView]:
    """DPO only: every post of the school, newest first, with poster names, pupil counts and open removal tasks."""
    if not actor.is_dpo:
        raise NotAllowed("Only your school's DPO can see the post register.")
    tenant = actor.tenant_id
    newest_first = col(Post.posted_at).desc()
    posts = list((await session.execute(select(Post).where(col(Post.tenant_id) == tenant).order_by(newest_first))).scalars())
    people = await session.execute(select(col(Person.aad_id), col(Person.name)).where(col(Person.tenant_id) == tenant))
    names: dict[str, str] = dict(people.tuples().all())
    shown = await session.execute(select(col(PostPupil.post_id), func.count()).where(col(PostPupil.tenant_id) == tenant)
                                  .group_by(col(PostPupil.post_id)))
    counts: dict[int, int] = dict(shown.tuples().all())
    open_tasks = {t.post_id: t for t in (await session.execute(select(RemovalTask).where(
        col(RemovalTask.tenant_id) == tenant, col(RemovalTask.done_at).is_(None)))).scalars()}
    return [PostView(p, names.get(p.posted_by) or "a colleague", int(counts.get(p.id, 0)), open_tasks.get(p.id)) for p in posts]


async def posts_without_link(session: AsyncSession, *, actor: Actor, limit: int = 5) -> list[Post]:
    """The actor's most recent live posts that have no link yet."""
    rows = await session.execute(
        select(Post).where(col(Post.tenant_id) == actor.tenant_id, col(Post.posted_by) == actor.aad_id, col(Post.link) == "",
                           col(Post.removed_at).is_(None))
        .order_by(col(Post.posted_at).desc()).limit(limit)
    )
    return list(rows.scalars())


async def due_housekeeping(session: AsyncSession, reminder: Reminder, now: datetime) -> Post | None:
    """The post a housekeeping reminder is about, if it is still live and due."""
    post = await session.get(Post, int(reminder.subject_id))
    if post is None or post.tenant_id != reminder.tenant_id or post.removed_at is not None or post.remove_by > now:
        return None
    return post

