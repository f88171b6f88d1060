"""`log a SAR`: one form, the pupil picked from the register (never guessed), a summary with the due date, then saved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext

from dialogs.feature import Deps, Intent, actor_of, quiet_hours
from dialogs.kit.prompts import CardPrompt
from dialogs.kit.refusals import refusal
from dialogs.kit.replies import card_activity
from dialogs.sar.cards import day, log_form, pupil_pick_card, receipt_card, summary_card
from services.consent.pupil_search import load_index
from services.dates import parse_uk_datetime, to_local
from services.errors import DomainError
from services.ids import parse_id
from services.sar.requests import CHANNELS, REQUESTERS, Rules, SarDetails, check_details, due_for, log_request

_STEPS, _PROMPT = "sar.log.steps", "sar.log.prompt"


def rules_of(deps: Deps) -> Rules:
    """The clock's calendar from the settings."""
    return Rules(deps.settings.timezone, deps.settings.bank_holiday_region)


def read_form(value: dict[str, Any], *, now: datetime, rules: Rules) -> dict[str, Any]:
    """The submitted form as JSON-safe details (the received date parsed the UK way), or a DomainError saying why not."""
    if "text" in value:
        raise DomainError("Please fill in the form above and press **Next** (or type **cancel**).")
    received = parse_uk_datetime(str(value.get("received") or ""), now=now, tz=rules.tz, prefer="past")
    details = {
        "requester_type": str(value.get("requester_type") or ""), "requester_name": str(value.get("requester_name") or ""),
        "subject_kind": str(value.get("subject_kind") or ""), "subject_name": str(value.get("subject_name") or ""),
        "received_on": to_local(received, rules.tz).date().isoformat(), "channel": str(value.get("channel") or ""),
        "id_verified": value.get("id_verified") == "yes", "educational_record": value.get("educational") == "yes",
        "pupil_id": None,
    }
    check_details(to_details(details), today=rules.today(now))
    return details


def to_details(values: dict[str, Any]) -> SarDetails:
    """Details from the dialog's JSON state."""
    return SarDetails(**{**values, "received_on": datetime.fromisoformat(values["received_on"]).date()})


class SarLogDialog(ComponentDialog):
    """Form, pupil, summary, save."""

    def __init__(self, deps: Deps, intent: Intent) -> None:
        super().__init__(intent.dialog_id)
        self._deps = deps
        self.add_dialog(CardPrompt(_PROMPT, self._validate))
        self.add_dialog(WaterfallDialog(_STEPS, [self.form_step, self.pupil_step, self.summary_step, self.save_step]))
        self.initial_dialog_id = _STEPS

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt(_PROMPT, PromptOptions(prompt=card_activity(log_form()), validations={"at": "form"}))

    async def pupil_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        details = step.values["details"] = step.result
        if details["subject_kind"] != "pupil":
            return await step.next({})
        async with self._deps.sessions() as session:
            found = (await load_index(session, tenant_id=actor_of(step.context).tenant_id)).lookup(details["subject_name"])
        matches = [] if found.group else list(found.matches[:5])
        step.values["pupils"] = {str(m.id): m.label for m in matches}
        card = pupil_pick_card(details["subject_name"], matches)
        return await step.prompt(_PROMPT, PromptOptions(prompt=card_activity(card),
                                                        validations={"at": "pupil", "ids": list(step.values["pupils"])}))

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        details = step.values["details"]
        picked = str(step.result.get("pupil", "none"))
        if picked in step.values.get("pupils", {}):
            details["pupil_id"], details["subject_name"] = int(picked), step.values["pupils"][picked]
        logged = to_details(details)
        received, due = logged.received_on, due_for(logged, rules_of(self._deps))
        pairs = [("Who asked", f"{details['requester_name']} \u00b7 {REQUESTERS[details['requester_type']]}"),
                 ("About", details["subject_name"] + (" (pupil on the register)" if details["pupil_id"] else "")),
                 ("Received", f"{day(received)} \u00b7 {CHANNELS[details['channel']]}"),
                 ("Identity verified", "yes" if details["id_verified"] else "not yet"),
                 ("Due", day(due) + (" (15 school days)" if details["educational_record"] else " (one calendar month)"))]
        return await step.prompt(_PROMPT, PromptOptions(prompt=card_activity(summary_card(pairs)),
                                                        validations={"at": "summary"}))

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        now = self._deps.clock()
        try:
            async with self._deps.sessions() as session:
                sar, told = await log_request(session, actor=actor_of(step.context), details=to_details(step.values["details"]),
                                              now=now, rules=rules_of(self._deps))
        except DomainError as error:
            await step.context.send_activity(refusal(error))
            return await step.end_dialog()
        self._deps.wake_reminders()
        quiet = quiet_hours(self._deps)
        when = f"when quiet hours end ({quiet.end_hour:02d}:00 on a weekday)" if quiet.holds(now) else "now"
        await step.context.send_activity(card_activity(receipt_card(sar, dpos_told=told, when=when), summary=sar.reference))
        return await step.end_dialog({"sar_id": sar.id, "reference": sar.reference})

    async def _validate(self, prompt: PromptValidatorContext) -> bool:
        if not prompt.recognized.succeeded:
            return False
        rules, value = prompt.options.validations, prompt.recognized.value
        try:
            if rules["at"] == "form":
                prompt.recognized.value = read_form(value, now=self._deps.clock(), rules=rules_of(self._deps))
            else:
                check_press(rules["at"], value, rules.get("ids", []))
        except DomainError as error:
            await prompt.context.send_activity(refusal(error))
            return False
        return True


def check_press(at: str, value: dict[str, Any], ids: list[str]) -> None:
    """The pupil picked must be one offered; the summary needs **Log it**."""
    if at == "pupil":
        picked = value.get("pupil")
        if value.get("q") != "pupil" or (picked != "none" and str(parse_id(picked)) not in ids):
            raise DomainError("Please press the button for the right pupil (or type **cancel**).")
    elif value.get("nav") != "confirm" and str(value.get("text", "")).lower() not in ("yes", "log it", "confirm"):
        raise DomainError("Press **Log it** to save the request, or type **cancel**.")
