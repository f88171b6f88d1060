"""No markdown, link, HTML or mention from user text in any card: every card builder is fed hostile text."""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.runtime import Runtime
from dialogs.accounts import cards as account_cards
from dialogs.breach import cards as breach_cards
from dialogs.breach import drill_cards, ico_cards
from dialogs.breach import forms as breach_forms
from dialogs.consent import cards as consent_cards
from dialogs.consent import post_cards as consent_post_cards
from dialogs.dpo import cards as dpo_cards
from dialogs.feature import StatusLine
from dialogs.kit import card_answers, cards
from dialogs.reminders import cards as reminder_cards
from dialogs.status import SchoolStatus, status_card
from dialogs.training import cards as training_cards
from dialogs.training import record_cards
from services.breach.ico_pack import Section, Training, build_pack
from services.consent.posts import PostView
from services.consent.pupil_csv import RowError
from services.consent.pupil_import import Preview
from services.consent.register import Change
from services.consent.rules import CheckResult, PupilVerdict, Reason
from services.dpo.digest import Digest
from services.dpo.overview import DueToday
from services.training.booking import Offer
from services.training.catalogue import Attendee
from services.training.record import Due
from storage.account_models import SocialAccount
from storage.breach_models import Breach, BreachEvent
from storage.consent_models import Post, Purpose, RemovalReason, RemovalTask
from storage.school_models import SchoolProfile
from storage.training_models import BookingStatus, TrainingBooking, TrainingFormat, TrainingSession
from tests.conftest import SCHOOL_A, START
from tests.support.breach import file_report
from tests.teams.client import TeamsClient, TeamsUser
from tests.teams.fake_channel import FakeTeamsChannel

EVIL = ("Eve [click me](https://evil.example/x) **b0ld** _1t_ <at>Head</at> @Head www.evil.example `c0de` ~~str1ke~~ "
        "# h3 &lt;at&gt;\n- l1st\n1. n0")
# What would come out live if EVIL reached a card as markdown.
LIVE = ("](", "https://evil", "**b0ld", "_1t_", "<at>", "@Head", "www.evil", "`c0de`", "~~str1ke", "# h3", "\n- l1st",
        "\n1. n0", "&lt;at")
BUILDER_MODULES = (cards, account_cards, breach_cards, breach_forms, card_answers, consent_cards, consent_post_cards,
                   dpo_cards, ico_cards, record_cards, reminder_cards, training_cards)
# Builders whose every string is our own wording (or that only prefill inputs): nothing from users to show.
OWN_WORDING = {
    "cards.card", "cards.notifying", "cards.help_card", "cards.dpo_commands_card", "cards.help_cards", "cards.welcome_card",
    "cards.notice_card", "cards.did_you_mean_card",
    "breach_forms.question_card",
    "breach_forms.pick_card", "breach_forms.decision_form", "breach_forms.reported_form", "breach_forms.ask_form",
    "breach_forms.close_form", "consent_cards.who_card", "consent_cards.checklist_card", "account_cards.account_form_card",
    "consent_cards.report_card", "consent_cards.import_done_card", "consent_post_cards.keep_form",
    "dpo_cards.questions_card", "dpo_cards.posts_card",
    "reminder_cards.reminder_card", "reminder_cards.notice_reminder_card", "training_cards.session_form_card",
    "ico_cards.pack_intro_card", "ico_cards.profile_card",
}
LATER = START + timedelta(days=30)


def breach(**extra: Any) -> Breach:
    return Breach(id=7, tenant_id=SCHOOL_A, reference="BR-2026-0007", reporter_aad_id="r", reporter_name=EVIL,
                  kind="wrong_person", what_happened=EVIL, how_discovered=EVIL, happened_at=START, aware_at=START,
                  deadline_at=START + timedelta(hours=72), subjects=["pupils"], people_count=3, records_count=None,
                  data_categories=["basic"], contained="no", actions_taken=EVIL, actions_planned=EVIL,
                  others_informed=["head"], suggested_risk="high", suggested_reasons=["Children's data."],
                  decision="not_notifiable",
                  decision_reason=EVIL, individuals="not_required", individuals_note=EVIL, decided_at=START,
                  ico_reported_at=START, ico_reference=EVIL, late_reason=EVIL, lessons_learned=EVIL, created_at=START,
                  updated_at=START, **extra)


def pack() -> list[Section]:
    profile = SchoolProfile(tenant_id=SCHOOL_A, name=EVIL, address=EVIL, ico_registration=EVIL, dpo_contact=EVIL)
    return build_pack(breach(), profile, Training(EVIL, EVIL, START), now=START)


def post() -> Post:
    return Post(id=3, tenant_id=SCHOOL_A, check_id=1, purpose=Purpose.WEBSITE, account=EVIL, description=EVIL, link=EVIL,
                posted_by="p", posted_at=START, remove_by=LATER, extension_reason=EVIL)


def task() -> RemovalTask:
    return RemovalTask(id=4, tenant_id=SCHOOL_A, post_id=None, purpose=Purpose.WEBSITE, reason=RemovalReason.WITHDRAWN,
                       pupil_ids=[1], assignee="p", place=EVIL, published_at=START, opened_at=START, opened_by="d")


def kept() -> RemovalTask:
    """A removal task a DPO kept up with a (hostile) reason."""
    settled = task()
    settled.done_at, settled.kept_reason = START, EVIL
    return settled


def view() -> PostView:
    return PostView(post(), EVIL, 2, None)


def training(fmt: str = TrainingFormat.IN_PERSON) -> TrainingSession:
    return TrainingSession(id=5, title=EVIL, description=EVIL, starts_at=LATER, ends_at=LATER + timedelta(hours=1),
                           booking_closes_at=LATER, format=fmt, join_url="https://teams.microsoft.com/l/meetup-join/1",
                           venue=EVIL, capacity=3, organiser_name=EVIL, organiser_email=EVIL, created_at=START,
                           updated_at=START)


def booking() -> TrainingBooking:
    return TrainingBooking(id=6, session_id=5, tenant_id=SCHOOL_A, aad_id="s", name=EVIL, role=EVIL,
                           status=BookingStatus.BOOKED, ical_uid="u", created_at=START)


def attendees() -> list[Attendee]:
    return [Attendee(EVIL, EVIL, EVIL, BookingStatus.BOOKED), Attendee(EVIL, EVIL, "governor", BookingStatus.WAITING)]


def offer() -> Offer:
    return Offer(training(), 1, 0)


def preview(errors: bool) -> Preview:
    summary = dict.fromkeys(("new", "updated", "unchanged", "leavers", "withdrawals", "never_set", "never_cleared"), 1)
    return Preview(1, EVIL, 2, [RowError(2, EVIL)] if errors else [], summary, [EVIL], 2)


def account() -> SocialAccount:
    return SocialAccount(tenant_id=SCHOOL_A, number=1, platform=EVIL, handle=EVIL, url=EVIL, owner=EVIL, access=EVIL,
                         backup_admin=EVIL, created_by="a", created_at=START, updated_at=START, retired_reason=EVIL)


BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "account_cards.register_card": lambda: account_cards.register_card([account()], is_dpo=True),
    "account_cards.register_card+staff": lambda: account_cards.register_card([account()], is_dpo=False),
    "account_cards.review_card": lambda: account_cards.review_card(account()),
    "account_cards.review_reminder": lambda: account_cards.review_reminder(account(), reminder_id=1, due="today"),
    "account_cards.leaver_reminder": lambda: account_cards.leaver_reminder(account(), name=EVIL, task_id=1, reminder_id=1),
    "consent_cards.details_card": lambda: consent_cards.details_card(Purpose.SOCIAL_MEDIA, accounts=[account()]),
    "breach_cards.dpo_alert_card": lambda: breach_cards.dpo_alert_card(breach(), START, title="New breach"),
    "breach_cards.receipt_card": lambda: breach_cards.receipt_card(breach(), dpos_told=1) | {"_": EVIL},
    "breach_cards.detail_card": lambda: breach_cards.detail_card(
        breach(), [BreachEvent(tenant_id=SCHOOL_A, breach_id=7, at=START, actor_aad_id="a", actor_name=EVIL, action="note",
                      detail=EVIL)],
        is_dpo=True, now=START),
    "breach_cards.list_card": lambda: breach_cards.list_card([breach()], START, is_dpo=True) | {"_": EVIL},
    "breach_cards.info_request_card": lambda: breach_cards.info_request_card(breach(), EVIL),
    "breach_cards.closed_card": lambda: breach_cards.closed_card(breach()),
    "breach_cards.outcome_card": lambda: breach_cards.outcome_card(breach(), EVIL),
    "cards.settled_card": lambda: cards.settled_card("Done", EVIL),
    "card_answers.settled": lambda: card_answers.settled(cards.card([cards.text("Asked")]), EVIL),
    "card_answers.answered_card": lambda: card_answers.answered_card(
        cards.card([{"type": "Input.Text", "id": "said", "label": "Say"}]), {"said": EVIL}),
    "consent_post_cards.settled_post_card": lambda: consent_post_cards.settled_post_card(view(), EVIL),
    "breach_forms.summary_card": lambda: breach_forms.summary_card([("What happened", EVIL)], back=True),
    "consent_cards.pick_card": lambda: consent_cards.pick_card(EVIL, [(1, EVIL)]),
    "consent_cards.purpose_card": lambda: consent_cards.purpose_card(EVIL),
    "consent_cards.confirm_card": lambda: consent_cards.confirm_card(EVIL, [(1, EVIL)]),
    "consent_cards.confirm_card+many": lambda: consent_cards.confirm_card(EVIL, [(1, EVIL), (2, EVIL)]),
    "consent_cards.unknown_card": lambda: consent_cards.unknown_card(EVIL, "I couldn't find {said}.", allow_unknown=True),
    "consent_cards.add_pupil_card": lambda: consent_cards.add_pupil_card([EVIL, EVIL], "website", EVIL, 3),
    "consent_cards.verdict_card+missing": lambda: consent_cards.verdict_card(
        CheckResult(1, Purpose.WEBSITE, (PupilVerdict(0, EVIL, Reason.NOT_ON_REGISTER, EVIL),))),
    "consent_cards.verdict_card": lambda: consent_cards.verdict_card(
        CheckResult(1, Purpose.WEBSITE, (PupilVerdict(1, EVIL, Reason.REFUSED), PupilVerdict(2, EVIL, Reason.OK)))),
    "consent_cards.import_preview_card": lambda: consent_cards.import_preview_card(preview(errors=False)),
    "consent_cards.import_preview_card+errors": lambda: consent_cards.import_preview_card(preview(errors=True)),
    "consent_cards.change_card": lambda: consent_cards.change_card("Consent withdrawn", Change(EVIL, (task(),))),
    "consent_post_cards.receipt_card": lambda: consent_post_cards.receipt_card(view()),
    "consent_post_cards.post_card": lambda: consent_post_cards.post_card(view()),
    "consent_post_cards.pick_post_card": lambda: consent_post_cards.pick_post_card([post()]),
    "consent_post_cards.housekeeping_reminder": lambda: consent_post_cards.housekeeping_reminder(
        view(), reminder_id=1, for_owner=True, now=START),
    "consent_post_cards.removal_reminder": lambda: consent_post_cards.removal_reminder(
        task(), None, reminder_id=1, for_owner=True),
    "consent_post_cards.overdue_reminder": lambda: consent_post_cards.overdue_reminder(task(), view(), reminder_id=1),
    "consent_post_cards.removals_summary": lambda: consent_post_cards.removals_summary([task()] * 12, for_owner=True)
    | {"_": EVIL},
    "consent_post_cards.task_card": lambda: consent_post_cards.task_card(task(), None, is_dpo=True),
    "consent_post_cards.task_card+kept": lambda: consent_post_cards.task_card(
        kept(), None, is_dpo=True),
    "consent_post_cards.unregistered_card": lambda: consent_post_cards.task_card(task(), None, is_dpo=True),
    "dpo_cards.breaches_card": lambda: dpo_cards.breaches_card("Open", [breach()], START) | {"_": EVIL},
    "dpo_cards.due_today_card": lambda: dpo_cards.due_today_card(
        DueToday([breach()], [], [task()], [post()]), START, is_dpo=True) | {"_": EVIL},
    "dpo_cards.consent_gaps_card": lambda: dpo_cards.consent_gaps_card(EVIL, [(EVIL, Purpose.PRESS, "refused")]),
    "dpo_cards.bookings_card": lambda: dpo_cards.bookings_card(START, [(booking(), training())], is_dpo=True),
    "dpo_cards.digest_card": lambda: dpo_cards.digest_card(EVIL, Digest(["BR-2026-0001"], 1, [], [1], [2], 3, 4), START),
    "reminder_cards.delivery_failed_card": lambda: reminder_cards.delivery_failed_card(
        reminder_id=1, who=EVIL, kind="breach.deadline", about="breach 7", due="today", problem="blocked"),
    "training_cards.catalogue_card": lambda: training_cards.catalogue_card([offer()]),
    "training_cards.role_card": lambda: training_cards.role_card(training()),
    "training_cards.confirm_card": lambda: training_cards.confirm_card(offer(), EVIL),
    "training_cards.booked_card": lambda: training_cards.booked_card(training(), booking()),
    "training_cards.bookings_card": lambda: training_cards.bookings_card([(booking(), training(), None)]),
    "training_cards.cancel_confirm_card": lambda: training_cards.cancel_confirm_card(booking(), training()),
    "training_cards.cancelled_card": lambda: training_cards.cancelled_card(training(), was_booked=True),
    "training_cards.reminder_card": lambda: training_cards.reminder_card(
        training(TrainingFormat.ONLINE), booking(), lead="tomorrow") | {"_": EVIL},
    "training_cards.promoted_card": lambda: training_cards.promoted_card(training(), booking()),
    "training_cards.changed_card": lambda: training_cards.changed_card(training(), booking(), ["title", "join link"]),
    "training_cards.session_cancelled_card": lambda: training_cards.session_cancelled_card(
        training(), booking(), had_seat=True),
    "training_cards.attendees_card": lambda: training_cards.attendees_card(training(), attendees()),
    "training_cards.admin_card": lambda: training_cards.admin_card([offer()]),
    "training_cards.cancel_session_confirm_card": lambda: training_cards.cancel_session_confirm_card(offer()),
    "training_cards.closing_card": lambda: training_cards.closing_card(training(), attendees()),
    "ico_cards.section_card": lambda: ico_cards.section_card(3, pack()[2], "BR-2026-0007"),
    "ico_cards.section_card+profile": lambda: ico_cards.section_card(1, pack()[0], "BR-2026-0007"),
    "ico_cards.section_card+training": lambda: ico_cards.section_card(13, pack()[-1], "BR-2026-0007"),
    "ico_cards.section_card+drill": lambda: ico_cards.section_card(3, pack()[2], "DRILL \u00b7 x",
                                                                     practice=drill_cards.PRACTICE),
    "ico_cards.section_card+untrained": lambda: ico_cards.section_card(
        13, build_pack(breach(), None, Training(EVIL, EVIL, START - timedelta(days=900)), now=START)[-1], "BR-2026-0007"),
    "record_cards.attendance_card": lambda: record_cards.attendance_card(training(), [(booking(), EVIL)]),
    "record_cards.record_card": lambda: record_cards.record_card([training()], valid_from=START, months=24),
    "record_cards.due_card": lambda: record_cards.due_card([Due("a", EVIL, START)], months=24, next_session=training()),
    "record_cards.invitation_card": lambda: record_cards.invitation_card(training(), months=24),
    "status.status_card": lambda: status_card(
        [SchoolStatus(EVIL, [StatusLine("Training", f"{cards.plain(EVIL)} \u2014 booked")]), SchoolStatus(EVIL, [])],
        is_dpo=True),
}


def shown_strings(node: Any) -> Iterator[str]:
    """Every string Teams renders from a card (not input values, button data or the builder's test marker)."""
    if isinstance(node, dict):
        hidden = ("data", "id", "url", "_", *(("value",) if str(node.get("type")).startswith("Input.") else ()))
        for name, value in node.items():
            if name not in hidden:
                yield from shown_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from shown_strings(item)
    elif isinstance(node, str):
        yield node


def card_builders() -> set[str]:
    """Every public function of the card modules that returns a card."""
    found = set()
    for module in BUILDER_MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_") and "Card" in str(fn.__annotations__.get("return")):
                found.add(f"{_label(module)}.{name}")
    return found


def _label(module: object) -> str:
    """The name this test imports a card module as (breach_cards, consent_cards, ...)."""
    return next(name for name, value in globals().items() if value is module and not name.startswith("_"))


def test_every_card_builder_is_walked_or_shows_only_our_wording() -> None:
    walked = {name.split("+")[0] for name in BUILDERS}
    assert card_builders() - walked - OWN_WORDING == set()
    assert importlib.import_module("dialogs.status").status_card is status_card


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_hostile_text_is_shown_as_plain_text(name: str) -> None:
    content = BUILDERS[name]()
    shown = list(shown_strings(content))
    assert any("Eve" in s for s in shown) or content.get("_") == EVIL, "the hostile text never reached the card"
    live = sorted({marker for s in shown for marker in LIVE if marker in s})
    assert live == [], (name, live)
    assert "entities" not in json.dumps(content)  # no mention can be created without msteams.entities


def test_plain_keeps_ordinary_text_as_it_is() -> None:
    for ordinary in ("Olivia O'Brien (Year 4, 4B)", "St. Mary's C of E: 3.5 hours, 10% off", "Amir Khan-Smith"):
        assert cards.plain(ordinary) == ordinary


async def test_a_breach_reported_with_markdown_reaches_the_dpo_as_plain_text(
    teams: TeamsClient, staff_a: TeamsUser, dpo_a: TeamsUser, runtime: Runtime, channel: FakeTeamsChannel
) -> None:
    await teams.say(dpo_a, "help")
    await file_report(teams, staff_a, what_happened=("say", EVIL.replace("\n", " ")), actions_taken=("say", EVIL))
    before = len(channel.to(dpo_a.conversation_id))
    await runtime.sweep_reminders()
    [alert] = channel.to(dpo_a.conversation_id)[before:]
    shown = [s for c in alert.cards for s in shown_strings(c)]
    assert any("Eve" in s for s in shown)
    assert sorted({marker for s in shown for marker in LIVE if marker in s}) == []
    detail = await teams.press(dpo_a, {"cmd": "breach.show", "id": 1})
    shown = [s for r in detail for c in r.cards for s in shown_strings(c)]
    assert any("Eve" in s for s in shown) and sorted({m for s in shown for m in LIVE if m in s}) == []
