"""Cards answering a DPO's plain-words questions, and the weekly digest. Pure functions -> dict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs.breach.cards import clock_text, show_button, time_left
from dialogs.consent.post_cards import SHOW_POST, SHOW_TASK
from dialogs.kit.cards import QUESTIONS, Card, card, heading, notifying, plain, say, submit, tap_item, text
from dialogs.training.cards import SHOW_DUE
from services.breach.records import status_of
from services.consent.purposes import PURPOSE_LABELS
from services.dates import format_uk, format_uk_day
from services.dpo.digest import Digest
from services.dpo.overview import DueToday
from storage.breach_models import Breach
from storage.consent_models import Post, Purpose
from storage.training_models import TrainingBooking, TrainingSession

_AREAS = {"breach": "Breach", "consent": "Photo consent", "training": "Training", "dpo": "Weekly digest"}


def questions_card(*, is_dpo: bool, lead: str = "") -> Card:
    """What can be asked, with a button per question."""
    shown = [q for q in QUESTIONS if is_dpo or not q[2]]
    body: list[dict[str, Any]] = [heading("You can ask me:")]
    if lead:
        body.insert(0, text(lead, subtle=True))
    body += [text(f"**{said}** \u2014 {what}") for said, what, _ in shown]
    return card(body, [say(said, said) for said, _, _ in shown[:5]])


def breaches_card(title: str, breaches: Sequence[Breach], now: datetime) -> Card:
    """Breaches, each opening with a tap."""
    body: list[dict[str, Any]] = [heading(f"{title} ({len(breaches)})")]
    if not breaches:
        body.append(text("None."))
    for breach in breaches:
        line = f"**{breach.reference}** \u00b7 reported {format_uk_day(breach.created_at)} \u00b7 {status_of(breach).value}"
        if breach.closed_at is None and breach.ico_reported_at is None:
            line += f" \u00b7 {time_left(breach.deadline_at, now)}"
        body.append(tap_item(line, show_button(breach)))
    return card(body)


def _post_line(post: Post) -> dict[str, Any]:
    line = f"**Post #{post.id}** \u00b7 {PURPOSE_LABELS[Purpose(post.purpose)]} \u00b7 remove by {format_uk_day(post.remove_by)}"
    return tap_item(line, submit("Open", {"cmd": SHOW_POST, "post": post.id, "school": post.tenant_id}))


def posts_card(posts: Sequence[Post], *, is_dpo: bool) -> Card:
    """Live posts past their remove-by date."""
    title = "Posts to remove" + (" (your school)" if is_dpo else " (yours)")
    body: list[dict[str, Any]] = [heading(f"{title} ({len(posts)})")]
    body += [_post_line(p) for p in posts] or [text("Nothing is past its remove-by date.")]
    return card(body)


def due_today_card(due: DueToday, now: datetime, *, is_dpo: bool) -> Card:
    """Everything due by tonight, by section."""
    body: list[dict[str, Any]] = [heading(f"Due today, {format_uk_day(now)} ({due.total})")]
    if not due.total:
        body.append(text("Nothing is due today."))
    if due.deadlines:
        body.append(text("**ICO deadlines**"))
        body += [tap_item(f"**{b.reference}** \u00b7 {clock_text(b, now)}", show_button(b)) for b in due.deadlines]
    if due.reminders:
        body.append(text("**Reminders going out today**"))
        body += [tap_item(f"{_AREAS.get(r.kind.split('.')[0], 'Reminder')} \u00b7 {format_uk(r.due_at).split(', ')[1]}")
                 for r in due.reminders]
    if due.removals:
        body.append(text("**Removal tasks open**"))
        body += [tap_item(f"Removal #{t.id} \u00b7 opened {format_uk_day(t.opened_at)}",
                       submit("Open", {"cmd": SHOW_TASK, "task": t.id, "school": t.tenant_id}))
                 for t in due.removals]
    if due.posts:
        body.append(text("**Posts to take down**"))
        body += [_post_line(p) for p in due.posts]
    if not is_dpo:
        body.append(text("Only your own items are shown.", subtle=True))
    return card(body)


# Pupils listed on one card: each line lists every purpose, so fewer fit as purposes are added (12 with five).
GAPS_SHOWN = 60 // len(Purpose)


def consent_gaps_card(group: str, gaps: Sequence[tuple[str, Purpose, str]]) -> Card:
    """Pupils of a class or year who may not be published, per purpose (for the DPO's own chat)."""
    body: list[dict[str, Any]] = [heading(f"Without photo consent in {plain(group)} ({len({g[0] for g in gaps})} pupils)")]
    if not gaps:
        body.append(text("Everyone in that group has consent for every purpose asked about."))
    by_pupil: dict[str, list[str]] = {}
    for label, purpose, reason in gaps:
        by_pupil.setdefault(label, []).append(f"{PURPOSE_LABELS[purpose]}: {reason}")
    rows = [text(f"**{plain(label)}** \u2014 " + "; ".join(lines)) for label, lines in by_pupil.items()]
    body += rows[:GAPS_SHOWN]
    if len(rows) > GAPS_SHOWN:  # a longer card is scrolled past, not read
        body.append(text(f"\u2026 and {len(rows) - GAPS_SHOWN:,} more, not shown: **export consent** has them all.",
                         subtle=True))
    return card(body)


def bookings_card(day: datetime, bookings: Sequence[tuple[TrainingBooking, TrainingSession]], *, is_dpo: bool) -> Card:
    """Training places on one day (a DPO: the school's; staff: their own)."""
    title = f"Training bookings on {format_uk_day(day)}" + ("" if is_dpo else " (yours)")
    body: list[dict[str, Any]] = [heading(f"{title} ({len(bookings)})")]
    if not bookings:
        body.append(text("No one from your school is booked that day." if is_dpo else "You have no booking that day."))
    for booking, training in bookings:
        who = f"{plain(booking.name) or 'a colleague'} \u00b7 " if is_dpo else ""
        at = format_uk(training.starts_at).split(", ")[1]
        body.append(text(f"{who}**{plain(training.title)}** \u00b7 {at} \u00b7 {booking.status}"))
    return card(body)


def digest_card(label: str, digest: Digest, since: datetime) -> Card:
    """The weekly digest: counts and references only."""
    def refs(items: Sequence[object], prefix: str = "") -> str:
        shown = ", ".join([f"{prefix}{i}" for i in items[:10]] + (["\u2026"] if len(items) > 10 else []))
        return f"{len(items)} ({shown})" if items else "0"
    rows = [
        ("New breaches", refs(digest.new_breaches)),
        ("Breach decisions recorded", str(digest.decisions)),
        ("Overdue: past the ICO deadline", refs(digest.overdue_breaches)),
        ("Overdue: removal tasks open", refs(digest.open_removals, "#")),
        ("Overdue: posts past remove-by", refs(digest.posts_overdue, "#")),
        ("New subject access requests", refs(digest.new_sars)),
        ("Overdue: subject access requests", refs(digest.overdue_sars)),
        ("Consents changed", str(digest.consents_changed)),
        ("Posts removed", str(digest.posts_removed)),
        ("Overdue: social media account reviews", refs(digest.reviews_overdue, "account ")),
        ("Staff due data-protection training", str(digest.training_due)),
    ]
    title = "Your weekly digest" + (f" \u2014 {plain(label)}" if label else "")
    body = [heading(title), text(f"Since {format_uk(since)}", subtle=True),
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in rows]}]
    due = [submit("Training due", {"cmd": SHOW_DUE})] if digest.training_due else []
    result = card(body, [say("Status", "status"), say("What's due today", "what's due today"), *due])
    notifying(result, "Your weekly data protection digest")
    return result
