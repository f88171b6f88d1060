"""Photo consent cards: the staff check (who, where, answer, checklist, record) and the DPO's imports and changes.

Pure functions -> dict.
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.kit.cards import Card, card, facts, heading, notifying, plain, submit, text
from services.accounts.register import ACCOUNT_PICK, OTHER
from services.consent.pupil_import import Preview
from services.consent.purposes import PURPOSE_LABELS
from services.consent.register import Change
from services.consent.rules import REASON_LABELS, CheckResult, Reason
from storage.account_models import SocialAccount
from storage.consent_models import Purpose

MAX_LISTED = 8  # a class check lists the pupils who are not OK, then counts the rest
MAX_ERRORS = 20
ASK_ADD = "consent.ask_add"  # the verdict's "Ask the DPO to add them"
IMPORT_APPLY, IMPORT_CANCEL = "consent.import_apply", "consent.import_cancel"
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("dressed", "Everyone is appropriately dressed"),
    ("background", "Nothing sensitive is in the background (screens, whiteboards, displays, documents)"),
    ("names", "No names are visible: certificates, badges, name labels, screens"),
    ("location", "Nothing gives the location away (uniform badges with addresses, street names, house numbers, live location)"),
)


def who_card(note: str = "") -> Card:
    """Who is in the photo: names, or a class or year."""
    body = [heading("Who is in the photo?")]
    if note:
        body.append(text(note, attention=True))
    body += [
        text("Type their names separated by commas or \u201cand\u201d, e.g. *Olivia Smith, Jack Jones and Amir Khan*. "
             "For a whole class or year type e.g. *4B* or *Year 4*. Add a class to tell two pupils apart: *Oliver Brown 5C*."),
        {"type": "Input.Text", "id": "who", "label": "Pupils, class or year", "isRequired": True,
         "errorMessage": "Please say who is in the photo.", "maxLength": 1000},
    ]
    return card(body, [submit("Check", {"step": "who"})])


def pick_card(said: str, options: Sequence[tuple[int, str]]) -> Card:
    """Several pupils have this exact name: which one is in the photo? Options are (pupil id, label)."""
    return card(
        [heading(f"Which \u201c{plain(said)}\u201d?"), text("More than one pupil matches. Choose the one in the photo:")],
        [*(submit(plain(label), {"pupil": pupil_id}) for pupil_id, label in options), submit("None of these", {"pupil": "none"})],
    )


def confirm_card(said: str, options: Sequence[tuple[int, str]]) -> Card:
    """The name typed only resembles a pupil (or several): ask, never substitute. Options are (pupil id, label)."""
    typed = text(f"You typed \u201c{plain(said)}\u201d, which isn't exactly a name on the register.", subtle=True)
    if len(options) == 1:
        pupil_id, label = options[0]
        return card([heading(f"Did you mean {plain(label)}?"), typed],
                    [submit("Yes", {"pupil": pupil_id}), submit("No", {"pupil": "none"})])
    return card([heading("Did you mean one of these?"), typed],
                [*(submit(plain(label), {"pupil": pupil_id}) for pupil_id, label in options),
                 submit("None of these", {"pupil": "none"})])


def unknown_card(said: str, note: str, *, allow_unknown: bool) -> Card:
    """A name that matches nobody (or too many; `note`, our wording with "{said}" where the name goes, says which):
    type it again, or (staff check) go on with it as not on the register."""
    body = [heading(note.replace("{said}", f"\u201c{plain(said)}\u201d")),
            text("Check the spelling and type the name again; add the class if you know it (e.g. *Oliver Brown 5C*).")]
    if allow_unknown:
        body.append(text("If they are in the photo but not on the register, press **Not on the register**: "
                         "the photo can't be used until your DPO adds them.", subtle=True))
    body.append({"type": "Input.Text", "id": "who", "label": "Name", "value": said, "maxLength": 200})
    actions = [submit("Check this name", {"step": "retype"})]
    if allow_unknown:
        actions.append(submit("Not on the register", {"pupil": "unknown"}))
    return card(body, actions)


def purpose_card(who: str) -> Card:
    """Where the photo will go."""
    return card(
        [heading("Where will the photo go?"), text(f"Pupils: {plain(who)}", subtle=True)],
        [submit(label, {"purpose": purpose.value}) for purpose, label in PURPOSE_LABELS.items()],
    )


def verdict_card(result: CheckResult) -> Card:
    """The answer per pupil (OK, or not OK with the reason category), and overall."""
    blocked = [v for v in result.verdicts if not v.ok]
    ok = [v for v in result.verdicts if v.ok]
    where = PURPOSE_LABELS[result.purpose]
    if result.allowed:
        whom = f"{plain(ok[0].name or ok[0].label)} has" if len(ok) == 1 else f"All {len(ok)} pupils have"
        body = [heading(f"\u2705 You may use this photo on {where}"), text(f"{whom} current consent for {where}.")]
    else:
        who = (f"{plain(blocked[0].name or blocked[0].label)} can't" if len(result.verdicts) == 1
               else f"{len(blocked)} of {len(result.verdicts)} pupils can't")
        body = [heading(f"\u26d4 Don't use this photo on {where}"),
                text(f"{who} appear. Retake or crop the photo without them, or choose another one.", attention=True)]
    listed = blocked + (ok if len(result.verdicts) <= MAX_LISTED else [])
    body.append(facts([(plain(v.label), "\u2705 OK" if v.ok else f"\u26d4 {REASON_LABELS[v.reason]}") for v in listed[:40]]))
    if len(listed) > 40:
        body.append(text(f"\u2026 and {len(listed) - 40} more not OK.", attention=True))
    if len(ok) > len([v for v in listed if v.ok]):
        body.append(text(f"The other {len(ok)} pupils are OK.", subtle=True))
    missing = any(v.reason is Reason.NOT_ON_REGISTER for v in blocked)
    if missing:
        body.append(text("A pupil who is not on the register can't be checked. Your DPO can add them; "
                         "then check again.", subtle=True))
    body.append(text(f"Check #{result.check_id} is kept as a record.", subtle=True))
    ask_dpo = submit("Ask the DPO to add them", {"cmd": ASK_ADD, "check": result.check_id})
    return card(body, [ask_dpo] if missing else ())


def add_pupil_card(names: Sequence[str], purpose: str, asked_by: str, check_id: int) -> Card:
    """To a DPO: a staff check named pupils who are not on the register (sent proactively: `fallbackText` is the
    notification text, with no name in it)."""
    result = card([
        heading("Please add to the pupil register"),
        text(f"{plain(asked_by) or 'A member of staff'} checked a photo for {PURPOSE_LABELS[Purpose(purpose)]} "
             f"(check #{check_id}) and named pupils who are not on the register:"),
        text("; ".join(plain(n) for n in names)),
        text("Until they are on the register with their consent, the photo can't be used. Send me the updated pupil "
             "CSV (type **import pupils**); if a name is misspelt, tell the member of staff.", subtle=True),
    ])
    notifying(result, f"Pupils to add to the register (check #{check_id})")
    return result


def checklist_card(note: str = "") -> Card:
    """The vetting checklist: all four must be ticked before posting."""
    body = [heading("Before you post: check the image itself")]
    if note:
        body.append(text(note, attention=True))
    body += [{"type": "Input.Toggle", "id": key, "title": label, "wrap": True, "valueOn": "true", "valueOff": "false",
              "value": "false"}
             for key, label in CHECKLIST]
    body.append(text("All four must be true. If one isn't, don't post this image (type **cancel**).", subtle=True))
    return card(body, [submit("All checked", {"step": "checklist"})])


def details_card(purpose: Purpose, note: str = "", accounts: Sequence[SocialAccount] = ()) -> Card:
    """Record the post: account or page (one of the school's registered `accounts`, or another), a short description,
    and the link if there is one yet."""
    body = [heading(f"Record the post ({PURPOSE_LABELS[purpose]})")]
    if note:
        body.append(text(note, attention=True))
    if accounts:
        choices = [{"title": plain(account.label), "value": str(account.number)} for account in accounts]
        body.append({"type": "Input.ChoiceSet", "id": ACCOUNT_PICK, "label": "Which account?", "style": "expanded",
                     "isRequired": True, "errorMessage": "Please pick the account, or Another account.",
                     "choices": [*choices, {"title": "Another account (not registered)", "value": OTHER}]})
    body += [
        {"type": "Input.Text", "id": "account", "label": "If another: which account or page?" if accounts
         else "Which account or page?", "isRequired": not accounts, "maxLength": 100,
         "errorMessage": "Please say where it is posted.",
         "placeholder": "e.g. school Facebook page, website news page, spring newsletter"},
        {"type": "Input.Text", "id": "description", "label": "Short description (what the photo shows)", "isRequired": True,
         "errorMessage": "Please describe the photo.", "maxLength": 200, "placeholder": "e.g. Year 4 sports day relay"},
        {"type": "Input.Text", "id": "link", "label": "Link (optional \u2014 you can add it later with add link)",
         "maxLength": 500, "style": "Url"},
    ]
    return card(body, [submit("Record the post", {"step": "details"})])


def report_card(note: str = "") -> Card:
    """DPO: when and where an image was published without consent."""
    body = [heading("When and where was it published?")]
    if note:
        body.append(text(note, attention=True))
    body += [
        {"type": "Input.Text", "id": "when", "label": "When (e.g. 03/11/2026, yesterday)", "isRequired": True,
         "errorMessage": "Please say when.", "maxLength": 60},
        {"type": "Input.Text", "id": "where", "label": "Where (link or account)", "maxLength": 500},
    ]
    return card(body, [submit("Record it", {"step": "published"})])


def import_preview_card(preview: Preview) -> Card:
    """What an import would change, or why it can't be applied; Apply only when there are no errors."""
    s = preview.summary
    body = [heading(f"Pupil import preview: {plain(preview.file_name) or 'CSV file'}"),
            text(f"{preview.rows:,} rows read. **Nothing has changed yet.**")]
    if preview.errors:
        body.append(text(f"\u26d4 {len(preview.errors):,} problem(s) \u2014 fix them in the file and send it again. "
                         "Nothing will be imported until the file has no errors.", attention=True))
        body.append(facts([(f"Line {e.line}", plain(e.message)) for e in preview.errors[:MAX_ERRORS]]))
        if len(preview.errors) > MAX_ERRORS:
            body.append(text(f"\u2026 and {len(preview.errors) - MAX_ERRORS:,} more.", subtle=True))
        return card(body, [submit("Cancel", {"cmd": IMPORT_CANCEL, "import": preview.import_id})])
    body.append(facts([
        ("New pupils", f"{s['new']:,}"), ("Updated", f"{s['updated']:,}"), ("Unchanged", f"{s['unchanged']:,}"),
        ("Leavers (marked left, not deleted)", f"{s['leavers']:,}"), ("Consents withdrawn", f"{s['withdrawals']:,}"),
        ("Never publish: newly set", f"{s['never_set']:,}"), ("Never publish: cleared", f"{s['never_cleared']:,}"),
    ]))
    if preview.leaver_labels:
        more = s["leavers"] - len(preview.leaver_labels)
        listed = "; ".join(plain(x) for x in preview.leaver_labels) + (f"; and {more:,} more" if more else "")
        body.append(text(f"Leavers: {listed}", subtle=True))
    if s["leavers"] * 2 > preview.register_size > 0:
        body.append(text(f"\u26a0 This marks {s['leavers']:,} of {preview.register_size:,} pupils as left. "
                         "Is this the whole school's file?", attention=True))
    if s["never_cleared"] or s["withdrawals"] or s["leavers"]:
        body.append(text("Photos already posted of pupils who are withdrawn, leaving or never-publish will get removal tasks.",
                         subtle=True))
    return card(body, [submit("Apply", {"cmd": IMPORT_APPLY, "import": preview.import_id}),
                       submit("Cancel", {"cmd": IMPORT_CANCEL, "import": preview.import_id})])


def import_done_card(summary: dict[str, int], tasks: int) -> Card:
    """The import was applied."""
    body = [heading("Pupil register updated"), facts([
        ("New pupils", f"{summary['new']:,}"), ("Updated", f"{summary['updated']:,}"), ("Marked left", f"{summary['leavers']:,}"),
    ])]
    if tasks:
        body.append(text(f"{tasks} posted image(s) must now come down: the people who posted them have been told.",
                         attention=True))
    return card(body)


def change_card(title: str, change: Change) -> Card:
    """A register change was recorded, and what it set off."""
    body = [heading(title), text(plain(change.pupil_label))]
    if change.tasks:
        body.append(text(f"{len(change.tasks)} live post(s) show this pupil and must come down. "
                         "Whoever posted them has been told, and will be reminded each school day until it's done.",
                         attention=True))
        body.append(facts([(f"Removal #{t.id}", f"post #{t.post_id}") for t in change.tasks]))
    else:
        body.append(text("No new removal tasks: no live post in the register shows this pupil for that use, "
                         "or its removal is already under way.", subtle=True))
    return card(body)

