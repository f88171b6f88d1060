"""`term dates`: anyone sees the school's closures ahead; its DPO changes them by typing ranges or attaching the local
authority's CSV or .ics file (read fully, or nothing changes), or goes back to England's typical dates."""

from __future__ import annotations

import re

from botbuilder.core import TurnContext

from dialogs.calendar.cards import calendar_card, saved_card
from dialogs.feature import Deps, Feature, Intent, actor_of
from dialogs.kit.attachments import CSV_TYPES, csv_attachment
from dialogs.kit.cards import notice_card
from dialogs.kit.commands import CommandDialog
from dialogs.kit.replies import card_activity
from services.consent.pupil_files import fetch_file
from services.dates import to_local
from services.school import calendar_dates
from services.school.calendar import calendar_for

INTENT = Intent("calendar.term_dates", ("term dates", "school calendar", "school holidays", "term dates clear"),
                (r"^(?:show |set |change |upload |update )?(?:the |our )?(?:school )?term dates\b",
                 r"^when(?: is|'s) (?:the )?(?:next )?(?:half term|school holidays?|holidays?|inset)\b"))
_REST = re.compile(r"^.*?\bterm dates\b[\s:,-]*", re.IGNORECASE)
_FILE_TYPES = (*CSV_TYPES, "text/calendar", "application/ics")
MAX_BYTES = 512 * 1024


class TermDates:
    """Shows or changes the school's term dates."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def run(self, context: TurnContext, utterance: str) -> None:
        """A file attached, `term dates clear`, typed ranges, or (nothing else) the calendar."""
        actor, now = actor_of(context), self._deps.clock()
        today, region = to_local(now, self._deps.settings.timezone).date(), self._deps.settings.bank_holiday_region
        after = _REST.match(utterance)
        rest = utterance[after.end():] if after else ""  # "when is half term?" only asks
        attached = csv_attachment(context.activity.attachments, types=_FILE_TYPES, suffixes=(".csv", ".ics"),
                                  unnamed="term-dates")
        if attached is not None or rest.strip():
            calendar_dates.dpo_only(actor)
        async with self._deps.sessions() as session:
            if attached is not None:
                data = await fetch_file(attached["url"], max_bytes=MAX_BYTES, policy=self._deps.files)
                reading = calendar_dates.read_file(attached["name"], data, today=today)
            elif rest.strip().lower() == "clear":
                await calendar_dates.clear(session, actor=actor, now=now)
                await context.send_activity(card_activity(notice_card(
                    "Back to typical term dates", "Your school's own dates are forgotten: England's typical term dates "
                    "apply again. Type **term dates** to see them.")))
                return
            elif rest.strip():
                reading = calendar_dates.read_typed(rest, today=today)
            else:
                calendar = await calendar_for(session, actor.tenant_id, region)
                await context.send_activity(card_activity(calendar_card(calendar, today, is_dpo=actor.is_dpo),
                                                          summary="School calendar"))
                return
            await calendar_dates.save(session, actor=actor, reading=reading, source="upload" if attached else "typed",
                                      now=now)
            calendar = await calendar_for(session, actor.tenant_id, region)
        await context.send_activity(card_activity(saved_card(reading, calendar, today), summary="Term dates saved"))


def calendar_feature(deps: Deps) -> Feature:
    """The `term dates` command."""
    return Feature(dialogs=(CommandDialog(INTENT.dialog_id, TermDates(deps).run),), intents=(INTENT,))
