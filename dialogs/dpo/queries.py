"""A DPO's follow-up questions in plain words ("breaches this month", "what's due today", "posts to remove",
"who has not got photo consent in 4B", "bookings for 14 May"), the DPO exports, and the weekly digest's renderer.

Staff may ask the questions that are naturally about their own items and get only those; the rest is DPO only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.dpo import cards
from dialogs.feature import Deps, Feature, Intent, ReminderKind, actor_of
from dialogs.intents import normalise
from dialogs.kit.commands import CommandDialog
from dialogs.kit.files import offer_file
from dialogs.kit.replies import card_activity
from services.breach.records import visible_breaches
from services.consent.posts import posts_past_remove_by
from services.consent.register import not_ok_in_group
from services.consent.rules import purpose_in
from services.dates import parse_uk_datetime, to_local
from services.dpo import digest
from services.dpo.exports import accounts_csv, audit_csv, consent_csv, exported, posts_csv, sars_csv
from services.dpo.overview import breaches_between, due_today, uk_day, uk_month
from services.identity import Actor, active_roles
from services.roles import schools_served
from services.training.booking import bookings_between
from storage.reminder_models import Reminder

log = logging.getLogger(__name__)

_OPEN = Intent("dpo.open_breaches", (), (r"^(show( me)?|list|what are)( the| all)? open breaches$",), private=True)
_MONTH = Intent("dpo.breaches_month", ("breaches this month", "this month's breaches"),
                (r"^((show( me)?|list|how many)( the| all)? )?breaches (this|in this|so far this) month$",), private=True)
_TODAY = Intent("dpo.due_today", ("what's due today", "whats due today", "what is due today", "due today"),
                (r"\bdue today\b",), private=True)
_POSTS = Intent("dpo.posts_to_remove", ("posts to remove", "posts to take down", "posts due for removal"),
                (r"\bposts? (to|due for|that need to) (remove|removal|come down|be removed|take down)\b",), private=True)
_GAPS = Intent("dpo.consent_gaps", (), (r"^(who|which (pupils?|children))\b.*\bconsent\b.*\b(in|for) \S+",), private=True)
_BOOKINGS = Intent("dpo.bookings_on", (), (r"^(training )?bookings? (for|on) \S+", r"^who is booked (for|on) \S+"), private=True)
_EXPORT_CONSENT = Intent("dpo.export_consent", ("export consent", "export consent register", "export the consent register"),
                         (r"^export (the )?(photo )?consents?( register)?$",), private=True)
_EXPORT_POSTS = Intent("dpo.export_posts", ("export posts", "export post register", "export the post register"),
                       (r"^export (the )?posts?( register)?$",), private=True)
_EXPORT_SARS = Intent("dpo.export_sars", ("export sars", "export sar log", "export the sar log", "sar log"),
                      (r"^export (the )?(sars?|subject access requests?)( log)?$",), private=True)
_EXPORT_AUDIT = Intent("dpo.export_audit", ("export audit", "export audit trail", "export the audit trail", "export audit log"),
                       (r"^export (the )?audit( trail| log)?$",), private=True)
_EXPORT_ACCOUNTS = Intent("dpo.export_accounts", ("export accounts", "export social media accounts", "export account register"),
                          (r"^export (the )?(social media )?accounts?( register)?$",), private=True)
# Questions we don't know: list what can be asked (words of other flows are left to them).
_QUESTIONS = Intent("dpo.questions", ("what can i ask", "questions", "dpo questions"),
                    (r"^(what about|show me|list|tell me( about)?|how many)\b"
                     r"(?!.*\b(breach(es)?|photos?|pictures?|images?|videos?|training|sessions?|courses?|consent|roles?|dpos?|br|book\w*"
                     r"|sars?)\b)",))
_GROUP = re.compile(r"\b(?:in|for) (?P<group>(?:year |class )?\S+)$")
_DAY = re.compile(r"^(?:training )?(?:bookings? (?:for|on)|who is booked (?:for|on)) (?P<day>.+)$")

Handler = Callable[[TurnContext, str], Awaitable[None]]


class DpoQueries:
    """One handler per question; each opens its own session and scopes everything to the actor's school."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def handlers(self) -> list[tuple[Intent, Handler]]:
        """Intents in the order they are tried, with their handlers."""
        return [(_OPEN, self.open_breaches), (_MONTH, self.breaches_month), (_TODAY, self.today), (_POSTS, self.posts),
                (_GAPS, self.consent_gaps), (_BOOKINGS, self.bookings), (_EXPORT_CONSENT, self.export_consent),
                (_EXPORT_POSTS, self.export_posts), (_EXPORT_SARS, self.export_sars), (_EXPORT_AUDIT, self.export_audit),
                (_EXPORT_ACCOUNTS, self.export_accounts),
                (_QUESTIONS, self.questions)]

    async def _card(self, context: TurnContext, content: dict[str, Any]) -> None:
        await context.send_activity(card_activity(content))

    async def open_breaches(self, context: TurnContext, utterance: str) -> None:
        """"show me open breaches" (the breach feature answers "open breaches" itself)."""
        await self._breaches(context, None, "Open breaches")

    async def breaches_month(self, context: TurnContext, utterance: str) -> None:
        """Breaches reported this UK calendar month (a DPO: the school's; staff: their own)."""
        await self._breaches(context, uk_month(self._deps.clock()), "Breaches this month")

    async def _breaches(self, context: TurnContext, period: tuple[datetime, datetime] | None, title: str) -> None:
        actor, now = actor_of(context), self._deps.clock()
        async with self._deps.sessions() as session:
            if period is None:
                found = await visible_breaches(session, actor=actor)
            else:
                found = await breaches_between(session, actor=actor, start=period[0], end=period[1])
        await self._card(context, cards.breaches_card(title + ("" if actor.is_dpo else " (your reports)"), found, now))

    async def today(self, context: TurnContext, utterance: str) -> None:
        """Deadlines, reminders, removals and posts due by tonight."""
        actor, now = actor_of(context), self._deps.clock()
        async with self._deps.sessions() as session:
            due = await due_today(session, actor=actor, now=now)
        await self._card(context, cards.due_today_card(due, now, is_dpo=actor.is_dpo))

    async def posts(self, context: TurnContext, utterance: str) -> None:
        """Live posts past their remove-by date (staff: their own)."""
        actor = actor_of(context)
        async with self._deps.sessions() as session:
            found = await posts_past_remove_by(session, tenant_id=actor.tenant_id, now=self._deps.clock(),
                                               posted_by=None if actor.is_dpo else actor.aad_id)
        await self._card(context, cards.posts_card(found, is_dpo=actor.is_dpo))

    async def consent_gaps(self, context: TurnContext, utterance: str) -> None:
        """DPO only: who in a class or year may not be published (for one purpose if named)."""
        said = normalise(utterance)
        match = _GROUP.search(said)
        group = match.group("group") if match else ""
        named = purpose_in(said[: match.start()] if match else said)
        async with self._deps.sessions() as session:
            gaps = await not_ok_in_group(session, actor=actor_of(context), group=group,
                                         purpose=named[0] if named else None, now=self._deps.clock())
        await self._card(context, cards.consent_gaps_card(group.upper() if len(group) <= 3 else group.title(), gaps))

    async def bookings(self, context: TurnContext, utterance: str) -> None:
        """Training places on one UK day (a DPO: the school's; staff: their own)."""
        actor, now = actor_of(context), self._deps.clock()
        match = _DAY.match(normalise(utterance))
        when = parse_uk_datetime(match.group("day") if match else "", now=now, prefer="future")
        start, end = uk_day(to_local(when).date())
        async with self._deps.sessions() as session:
            found = await bookings_between(session, tenant_id=actor.tenant_id, start=start, end=end)
        mine = found if actor.is_dpo else [(b, t) for b, t in found if b.aad_id == actor.aad_id]
        await self._card(context, cards.bookings_card(when, mine, is_dpo=actor.is_dpo))

    async def _export(self, context: TurnContext, build: Callable[..., Awaitable[bytes]], what: str, command: str) -> None:
        """Offer the export `what` ('consent_register') as a file; audited once delivered."""
        async with self._deps.sessions() as session:
            content = await build(session, actor=actor_of(context))
        label = what.replace("_", " ")
        await offer_file(context, self._deps, name=f"{what.replace('_', '-')}-{to_local(self._deps.clock()):%Y-%m-%d}.csv",
                         content=content, audit_action=exported(what),
                         description=f"Your school's {label}. It contains personal data: keep it safe.",
                         again=f"Ask for it again with **{command}**.")

    async def export_consent(self, context: TurnContext, utterance: str) -> None:
        """DPO only: the consent register CSV."""
        await self._export(context, consent_csv, "consent_register", "export consent")

    async def export_posts(self, context: TurnContext, utterance: str) -> None:
        """DPO only: the post register CSV."""
        await self._export(context, posts_csv, "post_register", "export posts")

    async def export_sars(self, context: TurnContext, utterance: str) -> None:
        """DPO only: the SAR log CSV."""
        await self._export(context, sars_csv, "sar_log", "export SARs")

    async def export_audit(self, context: TurnContext, utterance: str) -> None:
        """DPO only: the audit trail CSV."""
        await self._export(context, audit_csv, "audit_trail", "export audit")

    async def export_accounts(self, context: TurnContext, utterance: str) -> None:
        """DPO only: the social media account register CSV."""
        await self._export(context, accounts_csv, "account_register", "export accounts")

    async def questions(self, context: TurnContext, utterance: str) -> None:
        """What can be asked (staff see the questions about their own items)."""
        lead = "I can't answer that one yet." if normalise(utterance) not in _QUESTIONS.commands else ""
        await self._card(context, cards.questions_card(is_dpo=actor_of(context).is_dpo, lead=lead))


async def render_digest(
    session: AsyncSession, reminder: Reminder, now: datetime, *, review_months: int, training_months: int
) -> dict[str, Any] | None:
    """The weekly digest, built at send time; None when the recipient is no longer a DPO of that school."""
    roles = await active_roles(session, tenant_id=reminder.tenant_id, aad_id=reminder.recipient_aad_id)
    if not Actor(reminder.tenant_id, reminder.recipient_aad_id, roles=roles).is_dpo:
        return None
    since = datetime.fromisoformat(str(reminder.payload.get("since") or (reminder.due_at - digest.WEEK).isoformat()))
    summary = await digest.summarise(session, tenant_id=reminder.tenant_id, since=since, now=now,
                                     review_months=review_months, training_months=training_months)
    served = await schools_served(session, aad_id=reminder.recipient_aad_id)
    label = next((name for tenant, name in served if tenant == reminder.tenant_id), "") if len(served) > 1 else ""
    return cards.digest_card(label, summary, since)


def digest_time(deps: Deps) -> digest.DigestTime:
    """When the weekly digest goes, from settings."""
    s = deps.settings
    return digest.DigestTime(s.digest_weekday, s.digest_hour, s.timezone)


def dpo_queries_feature(deps: Deps) -> Feature:
    """The DPO's questions and exports, and the weekly digest's reminder kind."""
    pairs = DpoQueries(deps).handlers()
    render = partial(render_digest, review_months=deps.settings.account_review_months,
                     training_months=deps.settings.training_valid_months)
    return Feature(
        dialogs=tuple(CommandDialog(intent.dialog_id, handler) for intent, handler in pairs),
        intents=tuple(intent for intent, _ in pairs),
        reminder_kinds={digest.KIND: ReminderKind(render=render, urgent=False, snoozable=False)},
    )
