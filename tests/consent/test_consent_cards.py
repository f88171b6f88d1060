"""Card builders: valid Adaptive Card 1.5, the right buttons, and no more personal detail than the reader needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialogs.consent.cards import (
    add_pupil_card,
    checklist_card,
    confirm_card,
    details_card,
    import_done_card,
    import_preview_card,
    pick_card,
    purpose_card,
    report_card,
    unknown_card,
    verdict_card,
    who_card,
)
from dialogs.consent.post_cards import (
    housekeeping_reminder,
    keep_form,
    overdue_reminder,
    pick_post_card,
    post_card,
    receipt_card,
    removal_reminder,
    task_card,
    unregistered_card,
)
from dialogs.kit.cards import plain
from services.consent.posts import PostView
from services.consent.pupil_csv import RowError
from services.consent.pupil_import import Preview
from services.consent.rules import CheckResult, PupilVerdict, Reason
from storage.consent_models import Post, Purpose, RemovalTask
from tests.support.consent import schema_errors
from tests.teams.client import card_actions

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
POST = Post(id=7, tenant_id="t", check_id=1, purpose="social_media", account="Facebook", description="Sports [day](http://x)",
            link="", posted_by="a", posted_at=NOW, remove_by=NOW + timedelta(days=365))
TASK = RemovalTask(id=3, tenant_id="t", post_id=7, purpose="social_media", reason="withdrawn", pupil_ids=[1, 2], assignee="a",
                   opened_at=NOW, opened_by="d")
UNREGISTERED = RemovalTask(id=4, tenant_id="t", purpose="press", reason="published_without_consent", pupil_ids=[5],
                           assignee="d", place="https://news.example/x", published_at=NOW, opened_at=NOW, opened_by="d")
PREVIEW = Preview(9, "pupils.csv", 40, [], {"new": 40, "updated": 0, "unchanged": 0, "leavers": 0, "withdrawals": 0,
                                            "never_set": 2, "never_cleared": 0}, [], 0)


def result(*reasons: Reason) -> CheckResult:
    verdicts = tuple(PupilVerdict(i, f"Pupil {i} (Year 4, 4B)", r) for i, r in enumerate(reasons))
    return CheckResult(5, Purpose.SOCIAL_MEDIA, verdicts)


def titles(content: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card_actions(content)]


CARDS = {
    "who": who_card("I couldn't find \u201cX\u201d."),
    "pick": pick_card("Oliver Brown", [(1, "Oliver Brown (Year 3, 3A)"), (2, "Ollie Brown (Year 5, 5C)")]),
    "purpose": purpose_card("Olivia Smith (Year 4, 4B)"),
    "verdict_ok": verdict_card(result(Reason.OK, Reason.OK)),
    "verdict_blocked": verdict_card(result(*[Reason.OK] * 20, Reason.REFUSED, Reason.NEVER_PUBLISH)),
    "checklist": checklist_card("Please tick all four."),
    "details": details_card(Purpose.WEBSITE),
    "report": report_card(),
    "preview": import_preview_card(PREVIEW),
    "preview_errors": import_preview_card(Preview(9, "x.csv", 5001, [RowError(n, "bad") for n in range(2, 40)], PREVIEW.summary,
                                                  [], 0)),
    "done": import_done_card(PREVIEW.summary, 2),
    "receipt": receipt_card(PostView(POST, "Megan", 2, None)),
    "post": post_card(PostView(POST, "Megan", 2, None)),
    "post_with_task": post_card(PostView(POST, "Megan", 2, TASK)),
    "pick_post": pick_post_card([POST]),
    "housekeeping": housekeeping_reminder(PostView(POST, "Megan", 2, None), reminder_id=1, for_owner=True, now=NOW),
    "removal": removal_reminder(TASK, PostView(POST, "Megan", 2, TASK), reminder_id=1, for_owner=True),
    "removal_dpo": removal_reminder(TASK, PostView(POST, "Megan", 2, TASK), reminder_id=1, for_owner=False),
    "keep": keep_form(TASK, error="Please say why it stays up, then press Keep it up."),
    "overdue": overdue_reminder(TASK, PostView(POST, "Megan", 2, TASK), reminder_id=1),
    "task": task_card(UNREGISTERED, None, is_dpo=True),
    "unregistered": unregistered_card(UNREGISTERED),
    "confirm_one": confirm_card("Emma Turner", [(35, "Ella Turner (Reception, RB)")]),
    "confirm_many": confirm_card("Olivr", [(11, "Oliver Brown (Year 3, 3A)"), (19, "Ollie Brown (Year 5, 5C)")]),
    "unknown": unknown_card("Zebedee", "I couldn't find {said} on the register.", allow_unknown=True),
    "unknown_dpo": unknown_card("Zebedee", "I couldn't find {said} on the register.", allow_unknown=False),
    "verdict_one": verdict_card(CheckResult(6, Purpose.WEBSITE, (PupilVerdict(1, "Olivia Smith (Year 4, 4B)", Reason.OK,
                                                                           "Olivia Smith"),))),
    "verdict_missing": verdict_card(CheckResult(8, Purpose.WEBSITE, (
        PupilVerdict(1, "Olivia Smith (Year 4, 4B)", Reason.OK, "Olivia Smith"),
        PupilVerdict(0, "Emma Turner", Reason.NOT_ON_REGISTER, "Emma Turner")))),
    "add_pupil": add_pupil_card(["Emma Turner", "Eva *Hughes*"], "social_media", "Megan Bowen", 8),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_card_is_valid_adaptive_card_1_5(name: str) -> None:
    assert schema_errors(CARDS[name]) == []


def test_verdict_cards() -> None:
    ok, blocked = json.dumps(CARDS["verdict_ok"]), json.dumps(CARDS["verdict_blocked"])
    assert "You may use this photo on School social media" in ok and "Pupil 0 (Year 4, 4B)" in ok
    assert "2 of 22 pupils" in blocked and "Consent refused" in blocked and "Must never be published" in blocked
    assert "Pupil 0 (Year" not in blocked and "The other 20 pupils are OK" in blocked


def test_one_pupil_reads_as_one_and_names_not_on_the_register_block_with_a_way_to_ask_the_dpo() -> None:
    one = json.dumps(CARDS["verdict_one"], ensure_ascii=False)
    assert "Olivia Smith has current consent for School website." in one and "All 1" not in one
    missing = json.dumps(CARDS["verdict_missing"], ensure_ascii=False)
    assert "Don't use this photo" in missing and "1 of 2 pupils can't appear" in missing
    assert "\u26d4 Not on the register" in missing and titles(CARDS["verdict_missing"]) == ["Ask the DPO to add them"]
    assert CARDS["verdict_missing"]["actions"][0]["data"] == {"cmd": "consent.ask_add", "check": 8}
    assert titles(CARDS["verdict_one"]) == [] and titles(CARDS["verdict_blocked"]) == []
    assert titles(CARDS["confirm_one"]) == ["Yes", "No"]
    assert "Did you mean Ella Turner (Reception, RB)?" in str(CARDS["confirm_one"])
    assert titles(CARDS["confirm_many"]) == ["Oliver Brown (Year 3, 3A)", "Ollie Brown (Year 5, 5C)", "None of these"]
    assert titles(CARDS["unknown"]) == ["Check this name", "Not on the register"]
    assert titles(CARDS["unknown_dpo"]) == ["Check this name"]
    asked = json.dumps(CARDS["add_pupil"], ensure_ascii=False)
    assert "Emma Turner; Eva \u2217Hughes\u2217" in asked and "School social media" in asked and "Megan Bowen" in asked


def test_import_preview_offers_apply_only_without_errors() -> None:
    assert titles(CARDS["preview"]) == ["Apply", "Cancel"]
    assert titles(CARDS["preview_errors"]) == ["Cancel"]
    shown = json.dumps(CARDS["preview_errors"])
    assert "5,001 rows read" in shown and "Line 21" in shown and "Line 22" not in shown and "and 18 more" in shown


def test_post_cards_offer_the_right_actions() -> None:
    assert titles(CARDS["receipt"]) == ["Add link"]
    assert titles(CARDS["post"]) == ["Mark removed", "Add link", "Keep 6 more months", "Keep 12 more months"]
    assert titles(CARDS["post_with_task"]) == ["Mark removed", "Add link"]  # must come down: no extension
    assert titles(CARDS["housekeeping"])[:4] == ["Mark removed", "Add link", "Keep 6 more months", "Keep 12 more months"]
    assert titles(CARDS["removal"]) == ["Mark removed"]  # the poster: only the DPO may keep it up
    assert titles(CARDS["removal_dpo"]) == ["Mark removed", "Keep with a reason", "Report a breach"]  # no generic "Done"
    assert "Report a breach" in titles(CARDS["overdue"]) and titles(CARDS["keep"]) == ["Keep it up"]
    assert {"cmd": "consent.report_breach", "task": 3, "school": "t"} in [a["data"] for a in card_actions(CARDS["overdue"])]
    assert titles(CARDS["unregistered"]) == ["Mark removed", "Keep with a reason", "Report a breach"]
    assert "[day](http" not in json.dumps(CARDS["post"])  # user text can't become a link


def test_plain_text_defuses_markdown() -> None:
    shown = "\uff3bevil\uff3d(https:\u2215\u2215x) \u2217\u2217bold\u2217\u2217 \u2039b\u203a"
    assert plain("[evil](https://x) **bold** <b>") == shown
