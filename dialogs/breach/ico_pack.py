"""The ICO report pack in chat (`ico pack BR-…`, and when a DPO decides to notify) and the school profile form."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.breach import ico_cards as cards
from dialogs.feature import Deps, Feature, Intent, actor_of
from dialogs.kit.commands import CommandDialog
from dialogs.kit.files import offer_file
from dialogs.kit.replies import card_activity
from services.breach.ico_docx import pack_docx
from services.breach.ico_pack import Section, gaps, load_pack
from services.breach.records import REFERENCE_WORDS, reference_in
from services.errors import DomainError, NotAllowed
from services.identity import Actor
from services.school.profile import profile_of, save_profile
from storage.school_models import SchoolProfile

log = logging.getLogger(__name__)

PACK_INTENT = Intent("breach.ico_pack", ("ico pack", "ico report pack"),
                     (rf"^(the )?ico( report)? pack( for)?\s+{REFERENCE_WORDS}$",), private=True)
PROFILE_INTENT = Intent("school.profile", ("school profile", "edit school profile", "organisation details"), private=True)
PACK_EXPORTED = "breach.ico_pack_exported"


async def send_sections(context: TurnContext, reference: str, sections: Sequence[Section], *,
                        practice: str = "") -> None:
    """The pack's first card, then a card per section in the form's order (`practice`: a drill's, marked DRILL)."""
    await context.send_activity(card_activity(cards.pack_intro_card(reference, sections, gaps(sections),
                                                                    practice=practice),
                                              summary=f"ICO report pack {reference}"))
    for number, section in enumerate(sections, start=1):
        await context.send_activity(card_activity(cards.section_card(number, section, reference, practice=practice)))


async def send_pack(context: TurnContext, deps: Deps, *, reference: str | None = None, breach_id: int | None = None) -> None:
    """The pack as a card per section, then as a Word file through the file-consent flow (DPOs of the school only)."""
    actor, now = actor_of(context), deps.clock()
    async with deps.sessions() as session:
        breach, sections = await load_pack(session, actor=actor, reference=reference, breach_id=breach_id,
                                           months=deps.settings.training_valid_months, now=now)
        profile = await session.get(SchoolProfile, actor.tenant_id)
    await send_sections(context, breach.reference, sections)
    content = pack_docx(breach.reference, profile.name if profile else "", sections, now=now)
    log.info("ICO pack for breach %s sent in tenant %s (%s gaps)", breach.id, actor.tenant_id, gaps(sections))
    await offer_file(context, deps, name=f"ICO-report-{breach.reference}.docx", content=content,
                     audit_action=PACK_EXPORTED, description="The ICO breach report pack. It describes a personal-data "
                     "breach: keep it safe.", again=f"Ask for it again with **ico pack {breach.reference}**.")


def ico_pack_feature(deps: Deps) -> Feature:
    """`ico pack BR-…` and `school profile` (DPOs)."""

    async def pack(context: TurnContext, utterance: str) -> None:
        reference = reference_in(utterance)
        if reference is None:
            await context.send_activity("Which breach? Type **ico pack** and its reference, e.g. **ico pack BR-2026-0007**.")
            return
        await send_pack(context, deps, reference=reference)

    async def profile(context: TurnContext, utterance: str) -> None:
        async with deps.sessions() as session:
            found = await profile_of(session, actor_of(context))
        await context.send_activity(card_activity(cards.profile_card(found)))

    async def save(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        try:
            async with deps.sessions() as session:
                saved = await save_profile(session, actor=actor, values=data, now=deps.clock())
        except NotAllowed:
            raise
        except DomainError as error:
            typed = {name: str(data.get(name) or "") for name in ("name", "address", "ico_registration", "dpo_contact")}
            await dc.context.send_activity(card_activity(cards.profile_card(typed, error=str(error))))
            return
        await dc.context.send_activity(f"Saved the school profile for **{saved.name}**. It goes into every ICO report pack.")

    return Feature(
        dialogs=(CommandDialog(PACK_INTENT.dialog_id, pack), CommandDialog(PROFILE_INTENT.dialog_id, profile)),
        intents=(PACK_INTENT, PROFILE_INTENT),
        actions={cards.PROFILE_SAVE: save},
    )
