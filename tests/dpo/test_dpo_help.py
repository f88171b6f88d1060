"""The DPO's help lists every DPO command with an example, and every example does what it says."""

from __future__ import annotations

import pytest

from dialogs.kit.cards import DPO_COMMANDS, QUESTIONS
from tests.teams.client import TeamsClient, TeamsUser, texts

EXAMPLES = [said for _, commands in DPO_COMMANDS for said, _ in commands] + [said for said, _, _ in QUESTIONS]


async def test_a_dpos_help_lists_every_dpo_command_and_staff_help_does_not(
    teams: TeamsClient, dpo_a: TeamsUser, staff_a: TeamsUser,
) -> None:
    dpo_help = texts(await teams.say(dpo_a, "help"))
    for section in ("Breaches", "Photo consent register", "Roles and your school", "Questions and exports"):
        assert f"**{section}**" in dpo_help
    assert all(said in dpo_help for said in EXAMPLES)
    staff_help = texts(await teams.say(staff_a, "help"))
    assert "Report a breach" in staff_help and "As a DPO" not in staff_help and "mark reported to ICO" not in staff_help


@pytest.mark.parametrize("said", EXAMPLES)
async def test_every_example_in_the_dpos_help_is_understood(
    teams: TeamsClient, dpo_a: TeamsUser, said: str,
) -> None:
    """Recognised as the command it names (a breach example answers that there is no such breach)."""
    await teams.say(dpo_a, "hello")
    reply = texts(await teams.say(dpo_a, said))
    assert reply.strip() and "I'm not sure what you mean" not in reply and "Custodian can help you with" not in reply
