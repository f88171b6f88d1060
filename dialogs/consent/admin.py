"""The DPO's register in chat: `import pupils` (CSV attached), consent withdrawn/granted, never publish, pupil left,
and `record published without consent`. Staff are told politely that these are for the DPO."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from botbuilder.dialogs import ComponentDialog, DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import AttachmentPrompt, ConfirmPrompt, PromptValidatorContext
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.consent.cards import IMPORT_APPLY, IMPORT_CANCEL, change_card, import_done_card, import_preview_card, report_card
from dialogs.consent.post_cards import unregistered_card
from dialogs.consent.who import PURPOSE_PROMPT, WHO_DIALOG, PupilsDialog, ask, purpose_prompt, valid_purpose
from dialogs.consent.words import read_change
from dialogs.feature import Deps, Feature, Intent, actor_of
from dialogs.kit.attachments import csv_attachment
from dialogs.kit.card_updates import replace_pressed
from dialogs.kit.cards import notice_card, plain, settled_card
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import ask_again, refusal
from dialogs.kit.replies import card_activity
from services.consent import register
from services.consent.posts import to_id
from services.consent.pupil_csv import parse_date
from services.consent.pupil_files import decode_csv, fetch_file
from services.consent.pupil_import import apply_import, cancel_import, preview_import
from services.consent.purposes import PURPOSE_LABELS
from services.consent.removals import record_unregistered
from services.consent.rules import purpose_in
from services.dates import EXAMPLES, format_uk, parse_uk_datetime
from services.errors import DomainError
from services.identity import Actor
from storage.consent_models import ConsentState, Purpose

ADMIN_DIALOG, IMPORT_DIALOG = "consent.admin", "consent.import"
ADMIN_INTENT = Intent(
    ADMIN_DIALOG,
    ("consent withdrawn", "consent granted", "never publish", "pupil left", "record published without consent"),
    (r"^consent (withdrawn|refused|granted|given)\b", r"^(never|do not|don't) publish\b", r"^pupil (has )?left\b",
     r"\bpublished without consent\b"), private=True)
IMPORT_INTENT = Intent(IMPORT_DIALOG, ("import pupils", "import pupil list", "import consents"),
                       (r"^import\b.*\b(pupils?|consents?|csv|register)\b",), private=True)
_STEPS, _IMPORT_STEPS = f"{ADMIN_DIALOG}.steps", f"{IMPORT_DIALOG}.steps"
_TEXT, _CONFIRM, _WHEN, _FILE = f"{ADMIN_DIALOG}.text", f"{ADMIN_DIALOG}.confirm", f"{ADMIN_DIALOG}.when", f"{IMPORT_DIALOG}.file"
_CHANGE = re.compile(r"^consent (?P<state>withdrawn|refused|granted|given)\b(?:\s+for\b)?(?P<rest>.*)$", re.IGNORECASE)
_NEVER = re.compile(r"^(?:never|do not|don't) publish\b(?P<rest>.*)$", re.IGNORECASE)
_LEFT = re.compile(r"^pupil (?:has )?left\b(?P<rest>.*)$", re.IGNORECASE)
_UNTIL = re.compile(r"\s+(?:until|review(?:ed)?(?:\s+(?:on|by))?)\s+(?P<until>\S+)\s*$", re.IGNORECASE)
_BY = re.compile(r"\s+by\s+(?P<by>.+)$", re.IGNORECASE)
_REASON = re.compile(r"\s+(?:-|\u2013|because|reason:?)\s+|\s*[:;,]\s+", re.IGNORECASE)
UNKNOWN = ("I couldn't tell what changed. Please say it like this: **consent withdrawn for Olivia Smith social media**, "
           "**consent granted for Olivia Smith website**, **never publish Olivia Smith - court order** or "
           "**pupil left Olivia Smith**.")
_CONFIRM_FIRST = ("withdrawn", "granted", "never")
NOT_DPO = "Only your school's DPO can change the consent register. To check a photo before posting, type **check consent**."


@dataclass(frozen=True)
class Command:
    """A register command as typed: what, for whom, and whatever details were given."""

    action: str  # withdrawn | granted | never | left | published | unknown
    pupil: str = ""
    purpose: str | None = None
    given_by: str = ""
    until: str = ""
    reason: str = ""
    natural: bool = False  # read from everyday words: confirmed before it is recorded


def parse_command(text: str) -> Command:
    """Read `consent withdrawn for Olivia Smith social media`, `never publish Amy Lee - court order`, `pupil left Jo Bloggs`."""
    said = " ".join(text.split())
    if match := _CHANGE.match(said):
        rest, until, given_by = match["rest"], "", ""
        if found := _UNTIL.search(rest):
            rest, until = rest[: found.start()], found["until"]
        if found := _BY.search(rest):
            rest, given_by = rest[: found.start()], found["by"].strip()
        purpose = purpose_in(rest)
        action = "granted" if match["state"].lower() in ("granted", "given") else "withdrawn"
        pupil = (purpose[1] if purpose else rest).strip(" ,.-")
        return Command(action, pupil, purpose[0].value if purpose else None, given_by, until)
    if match := _NEVER.match(said):
        parts = _REASON.split(match["rest"].strip(), maxsplit=1)
        return Command("never", parts[0].strip(" ,.-"), reason=parts[1].strip() if len(parts) > 1 else "")
    if match := _LEFT.match(said):
        return Command("left", match["rest"].strip(" ,.-"))
    if read := read_change(said):
        return Command(read["action"], read["pupil"], read["purpose"] or None, read["given_by"], reason=read["reason"],
                       natural=True)
    return Command("unknown")


def _reading(command: Command, values: dict[str, Any]) -> str:
    """What was read from everyday words, to confirm before recording it."""
    who = plain(values["who"])
    if command.action == "never":
        return f"{who} must never be published ({plain(values['detail'].get('text') or '')})."
    label = PURPOSE_LABELS[Purpose(values["detail"]["purpose"])]
    return f"{who}: consent **{command.action}** for {label}" + (f", given by {plain(command.given_by)}." if command.given_by
                                                               else ".")


async def _refuse_staff(step: WaterfallStepContext) -> DialogTurnResult | None:
    if actor_of(step.context).is_dpo:
        return None
    await step.context.send_activity(NOT_DPO)
    return await step.end_dialog()


class ImportDialog(ComponentDialog):
    """`import pupils` with the CSV attached (or attached when asked): preview with Apply / Cancel."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(IMPORT_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_IMPORT_STEPS, [self.file_step, self.preview_step]))
        self.add_dialog(AttachmentPrompt(_FILE, self._has_csv))
        self.initial_dialog_id = _IMPORT_STEPS

    @staticmethod
    async def _has_csv(prompt: PromptValidatorContext) -> bool:
        return prompt.recognized.succeeded and csv_attachment(prompt.recognized.value) is not None

    async def file_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if refused := await _refuse_staff(step):
            return refused
        attached = csv_attachment(step.context.activity.attachments)
        if attached:
            return await step.next(attached)
        attach = "Attach the CSV file exported from your MIS (saved as CSV UTF-8) and send it. Nothing changes until you Apply."
        return await step.prompt(_FILE, ask(notice_card("Import pupils", attach)))

    async def preview_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        attached = step.result if isinstance(step.result, dict) else csv_attachment(step.result) or {}
        try:
            limit = self._deps.settings.pupil_import_max_bytes
            text = decode_csv(await fetch_file(attached["url"], max_bytes=limit, policy=self._deps.files))
            async with self._deps.sessions() as session:
                preview = await preview_import(session, actor=actor_of(step.context), file_name=attached["name"], text=text,
                                               now=self._deps.clock())
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        await step.context.send_activity(card_activity(import_preview_card(preview), summary="Pupil import preview"))
        return await step.end_dialog()


class AdminDialog(ComponentDialog):
    """One pupil-targeted register command: who, the missing detail, then record it."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(ADMIN_DIALOG)
        self._deps = deps
        self.add_dialog(WaterfallDialog(_STEPS, [self.who_step, self.detail_step, self.when_step, self.apply_step]))
        self.add_dialog(PupilsDialog(deps))
        self.add_dialog(CardPrompt(PURPOSE_PROMPT, valid_purpose))
        self.add_dialog(CardPrompt(_TEXT, self._some_text))
        self.add_dialog(CardPrompt(_WHEN, self._when_ok))
        self.add_dialog(ConfirmPrompt(_CONFIRM))
        self.initial_dialog_id = _STEPS

    @staticmethod
    async def _some_text(prompt: PromptValidatorContext) -> bool:
        return prompt.recognized.succeeded and 0 < len(str(prompt.recognized.value.get("text") or "")) <= 200

    async def _when_ok(self, prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value if prompt.recognized.succeeded else {}
        now = self._deps.clock()
        try:
            published = parse_uk_datetime(str(value.get("when") or value.get("text") or ""), now=now)
            if published > now:
                raise DomainError(f"That's in the future ({format_uk(published)}). When was it published? Try {EXAMPLES}.")
        except DomainError as error:
            return await ask_again(prompt, error)  # why, with an example, then the same card
        return True

    async def who_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if refused := await _refuse_staff(step):
            return refused
        command = parse_command(str((step.options or {}).get("utterance") or ""))
        if command.action == "unknown":
            await step.context.send_activity(UNKNOWN)
            return await step.end_dialog()
        step.values["command"] = asdict(command)
        return await step.begin_dialog(WHO_DIALOG, {"said": command.pupil, "single": command.action != "published"})

    async def detail_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["ids"], step.values["who"] = step.result["ids"], step.result["who"]
        command = Command(**step.values["command"])
        who = plain(step.result["who"])
        if command.action == "never" and not command.reason:
            why = f"Why must {who} never be published? (e.g. looked-after child, adopted, court order)"
            return await step.prompt(_TEXT, ask(notice_card("Never publish", why)))
        if command.action == "left":
            return await step.prompt(_CONFIRM, ask(notice_card(
                "Mark as left?", f"{who} will be kept on the register as left. Any photos of them in the post register "
                                 "will get removal tasks.")))
        if command.action != "never" and command.purpose is None:
            return await step.prompt(PURPOSE_PROMPT, purpose_prompt(step.result["who"]))
        return await step.next({"purpose": command.purpose, "text": command.reason})

    async def when_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["detail"] = step.result if isinstance(step.result, dict) else {"confirmed": bool(step.result)}
        command = Command(**step.values["command"])
        if command.natural and command.action in _CONFIRM_FIRST:
            return await step.prompt(_CONFIRM, ask(notice_card("Is this right?", _reading(command, step.values))))
        if command.action != "published":
            return await step.next(None)
        return await step.prompt(_WHEN, ask(report_card(), report_card("Please give a date, e.g. 03/11/2026 or yesterday.")))

    async def apply_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        command, detail = Command(**step.values["command"]), step.values["detail"]
        actor, now, pupil_id = actor_of(step.context), self._deps.clock(), step.values["ids"][0]
        try:
            async with self._deps.sessions() as session:
                if command.action == "published":
                    when = step.result or {}
                    task = await record_unregistered(
                        session, actor=actor, pupil_ids=step.values["ids"], purpose=Purpose(detail["purpose"]),
                        place=str(when.get("where") or ""), now=now,
                        published_at=parse_uk_datetime(str(when.get("when") or when.get("text")), now=now))
                    await step.context.send_activity(card_activity(unregistered_card(task)))
                elif (command.action == "left" and not detail.get("confirmed")) or (
                        command.natural and command.action in _CONFIRM_FIRST and step.result is not True):
                    await step.context.send_activity("OK, nothing changed.")
                else:
                    title, change = await self._change(session, actor, command, pupil_id, detail)
                    await step.context.send_activity(card_activity(change_card(title, change)))
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        self._deps.wake_reminders()
        return await step.end_dialog()

    async def _change(self, session: AsyncSession, actor: Actor, command: Command, pupil_id: int,
                      detail: dict[str, Any]) -> tuple[str, register.Change]:
        """Never publish, left, or a consent granted/withdrawn (the purpose was asked for when missing)."""
        now = self._deps.clock()
        if command.action == "never":
            return "Never publish recorded", await register.set_never_publish(session, actor=actor, pupil_id=pupil_id,
                                                                              reason=str(detail.get("text") or ""), now=now)
        if command.action == "left":
            return "Marked as left", await register.mark_left(session, actor=actor, pupil_id=pupil_id, now=now)
        granted = command.action == "granted"
        try:
            review_on = parse_date(command.until) if command.until else None
        except ValueError:
            raise DomainError(f"\u201c{command.until}\u201d isn't a date: use dd/mm/yyyy, e.g. 01/09/2027.") from None
        purpose = Purpose(detail["purpose"])
        change = await register.change_consent(
            session, actor=actor, pupil_id=pupil_id, purpose=purpose,
            state=ConsentState.GRANTED if granted else ConsentState.REFUSED, given_by=command.given_by, review_on=review_on,
            now=now)
        label = PURPOSE_LABELS[purpose]
        return (f"Consent granted: {label}" if granted else f"Consent withdrawn: {label}"), change


class ImportActions:
    """The preview card's Apply and Cancel buttons (DPO of the same school only)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def apply(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Apply the whole import in one transaction."""
        async with self._deps.sessions() as session:
            summary, tasks = await apply_import(session, actor=actor, import_id=to_id(data.get("import")), now=self._deps.clock())
        await self._settle(dc, f"Applied by {actor.name} on {format_uk(self._deps.clock())}.")
        await dc.context.send_activity(card_activity(import_done_card(summary, tasks)))
        if tasks:
            self._deps.wake_reminders()

    async def cancel(self, dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """Drop the import; nothing changed."""
        async with self._deps.sessions() as session:
            await cancel_import(session, actor=actor, import_id=to_id(data.get("import")), now=self._deps.clock())
        await self._settle(dc, f"Cancelled by {actor.name} on {format_uk(self._deps.clock())}: nothing changed.")
        await dc.context.send_activity("Import cancelled: nothing changed, and the file has been deleted.")

    @staticmethod
    async def _settle(dc: DialogContext, line: str) -> None:
        """The pressed preview shows what became of the import, with no Apply or Cancel left."""
        await replace_pressed(dc.context, settled_card("Pupil import", line))


def admin_feature(deps: Deps) -> Feature:
    """The DPO's register dialogs and the import buttons."""
    actions = ImportActions(deps)
    return Feature(
        dialogs=(ImportDialog(deps), AdminDialog(deps)),
        intents=(IMPORT_INTENT, ADMIN_INTENT),
        actions={IMPORT_APPLY: actions.apply, IMPORT_CANCEL: actions.cancel},
    )
