"""DPO commands: grant and revoke DPO / organiser roles, list roles, name the school."""

from __future__ import annotations

import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext
from sqlalchemy import select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dialogs.feature import Deps, Feature, Intent, actor_of
from dialogs.kit.activity import in_group
from dialogs.kit.cards import card, facts, heading, plain, say, submit, text
from dialogs.kit.commands import CommandDialog
from dialogs.kit.membership import sign_in_name
from dialogs.kit.replies import card_activity
from services import roles
from services.breach.alerts import LATE_APPOINTED, catch_up
from services.errors import DomainError, NotAllowed
from services.identity import Actor, holders_of
from services.ids import parse_id
from storage.models import Person, Role

_ROLE = r"(?P<role>dpo|data protection officer|organi[sz]er)"
_GRANT = (
    re.compile(rf"^(?:make|appoint)\s+(?P<name>.+?)\s+(?:an?\s+|the\s+)?{_ROLE}$"),
    re.compile(rf"^(?:grant|give)\s+(?:the\s+)?{_ROLE}\s+(?:role\s+)?to\s+(?P<name>.+)$"),
    re.compile(rf"^give\s+(?P<name>.+?)\s+the\s+{_ROLE}\s+role$"),
)
_REVOKE = (
    re.compile(rf"^(?:remove|revoke|take)\s+(?:the\s+)?{_ROLE}\s+(?:role\s+)?(?:from|off)\s+(?P<name>.+)$"),
    re.compile(rf"^(?:remove|revoke)\s+(?P<name>.+?)\s+as\s+(?:an?\s+|the\s+)?{_ROLE}$"),
)
# "make Sam Jones a governor": a role Custodian doesn't have, answered with the ones it has.
_OTHER_ROLE = re.compile(r"^(?:make|appoint)\s+(?P<name>.+?)\s+(?:an?|the)\s+(?P<role>[a-z][a-z -]{1,40}?)(?:\s+role)?$")
_SCHOOL_NAME = re.compile(r"^school name\s+(?:is\s+)?(?P<name>.+)$", re.IGNORECASE)

ROLES_INTENT = Intent(
    "roles.change", (), (rf"^(make|appoint|grant|give)\b.*\b{_ROLE}\b", rf"^(remove|revoke|take)\b.*\b{_ROLE}\b",
                         r"^(make|appoint)\b.*\b(role|governor|head|headteacher|admin|administrator|officer|lead|manager)$"),
)
LIST_INTENT = Intent("roles.list", ("roles", "who are the dpos", "list roles"))
CONFIRM_GRANT = "roles.confirm_grant"
SCHOOL_INTENT = Intent("roles.school_name", (), (r"^school name\b",))


def _clean(text: str) -> str:
    return " ".join(re.sub(r"</?at>", "", text).split()).strip(" .!?").lower()


def parse_change(text: str) -> tuple[bool, str, str] | None:
    """(grant?, role word, name) from e.g. 'make Sam Jones a DPO' or 'revoke organiser from Sam'."""
    said = _clean(text)
    for grant, patterns in ((True, _GRANT), (False, _REVOKE)):
        for pattern in patterns:
            match = pattern.match(said)
            if match:
                return grant, match["role"], match["name"].strip()
    return None


def roles_feature(deps: Deps) -> Feature:
    """Role and school-name commands for DPOs."""

    async def change(context: TurnContext, utterance: str) -> None:
        parsed = parse_change(utterance)
        if parsed is None:
            other = _OTHER_ROLE.match(_clean(utterance))
            name = other["name"].title() if other else "Sam Jones"
            lead = f"Custodian has no \u201c{other['role']}\u201d role. " if other else ""
            await context.send_activity(f"{lead}The roles I can give are **DPO** and **training organiser**: type "
                                        f"**make {name} a DPO** or **make {name} an organiser** "
                                        f"(or **remove organiser from {name}**).")
            return
        granting, role_word, name = parsed
        actor = actor_of(context)
        async with deps.sessions() as session:
            mentioned = await _mentioned(session, context)
            person = mentioned or await roles.find_colleague(session, tenant_id=actor.tenant_id, name=name)
            role = roles.parse_role(role_word)
            if granting and mentioned is None and not roles.same_name(name, person.name):
                # A near match: show who was found and grant only when the DPO confirms (checked again then).
                roles.require_dpo(actor, person)
                if in_group(context.activity):  # the card names them and how they sign in: not for the whole chat
                    raise DomainError("I'm not sure who you mean. @mention them, or give their full name exactly.")
                upn = await sign_in_name(session, tenant_id=person.tenant_id, aad_id=person.aad_id)
                await context.send_activity(card_activity(_confirm_card(person, upn, role)))
                return
            if granting:
                reply = await _grant(session, actor, person, role)
            else:
                done = await roles.revoke(session, actor=actor, person=person, role=role, now=deps.clock())
                reply = f"**{person.name}** is no longer {_label(role)}." if done else f"**{person.name}** wasn't {_label(role)}."
        await context.send_activity(reply)

    async def _grant(session: AsyncSession, actor: Actor, person: Person, role: Role) -> str:
        done = await roles.grant(session, actor=actor, person=person, role=role, now=deps.clock(),
                                 hub_tenant_id=deps.settings.hub_tenant_id)
        if not done:
            return f"**{person.name}** is already {_label(role)}."
        reply = f"**{person.name}** is now {_label(role)}."
        if role == Role.DPO:  # open breaches reach the new DPO too
            if await catch_up(session, tenant_id=person.tenant_id, aad_id=person.aad_id, now=deps.clock(), why=LATE_APPOINTED):
                reply += " They will get an alert for each open breach that needs a decision."
            await session.commit()
            deps.wake_reminders()
        return reply

    async def confirm(dc: DialogContext, actor: Actor, data: dict[str, Any]) -> None:
        """The DPO confirmed the near match: grant, with every check made again."""
        person_id, role_word = parse_id(data.get("person")), data.get("role")
        if person_id is None or not isinstance(role_word, str):
            raise DomainError("Sorry, that button is no longer valid. Type the command again.")
        async with deps.sessions() as session:
            person = await session.get(Person, person_id)
            if person is None or person.tenant_id != actor.tenant_id:
                raise NotAllowed()
            reply = await _grant(session, actor, person, roles.parse_role(role_word))
        await dc.context.send_activity(reply)

    async def list_roles(context: TurnContext, _: str) -> None:
        actor = actor_of(context)
        async with deps.sessions() as session:
            dpos = await holders_of(session, tenant_id=actor.tenant_id, role=Role.DPO)
            organisers = await holders_of(session, tenant_id=actor.tenant_id, role=Role.ORGANISER)
        lines = [f"**DPOs:** {', '.join(p.name or 'one who has not opened Custodian yet' for p in dpos) or 'none yet'}",
                 f"**Training organisers:** {', '.join(p.name or 'unnamed' for p in organisers) or 'none'}"]
        await context.send_activity("\n\n".join(lines))

    async def school_name(context: TurnContext, utterance: str) -> None:
        match = _SCHOOL_NAME.match(" ".join(utterance.split()))
        async with deps.sessions() as session:
            await roles.name_school(session, actor=actor_of(context), name=match["name"] if match else "", now=deps.clock())
        await context.send_activity("Thanks, I'll use that name for your school.")

    return Feature(
        dialogs=(CommandDialog(ROLES_INTENT.dialog_id, change), CommandDialog(LIST_INTENT.dialog_id, list_roles),
                 CommandDialog(SCHOOL_INTENT.dialog_id, school_name)),
        intents=(ROLES_INTENT, LIST_INTENT, SCHOOL_INTENT),
        actions={CONFIRM_GRANT: confirm},
    )


async def _mentioned(session: AsyncSession, context: TurnContext) -> Person | None:
    """The colleague @mentioned in a group chat (not the bot), if any."""
    activity = context.activity
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") if entity.type == "mention" else None
        if isinstance(mentioned, dict) and mentioned.get("id") and mentioned.get("id") != bot_id:
            actor = actor_of(context)
            query = select(Person).where(col(Person.tenant_id) == actor.tenant_id, col(Person.teams_user_id) == mentioned["id"])
            person = (await session.execute(query)).scalar_one_or_none()
            if person is None:
                raise DomainError("I don't know that colleague yet: they need to say hello to me in Teams first.")
            return person
    return None


def _confirm_card(person: Person, upn: str, role: Role) -> dict[str, Any]:
    """"Did you mean ...?" for a name that matched only nearly."""
    return card(
        [heading("Is this the right person?"),
         facts([("Name", plain(person.name) or "unnamed"), ("Signs in as", plain(upn) or "not known yet")]),
         text(f"I'll make them {_label(role)} only if you confirm.", subtle=True)],
        [submit(f"Yes, make them {_label(role)}", {"cmd": CONFIRM_GRANT, "person": person.id, "role": role.value}),
         say("No", "cancel")],
    )


def _label(role: Role) -> str:
    return "a DPO" if role == Role.DPO else "a training organiser"
