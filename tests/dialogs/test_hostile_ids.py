"""Ids that are not plain ASCII digits, or beyond any id column, get a polite answer: never a 5xx or "something went wrong"."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from tests.core.test_isolation import DPO_A, TABLE
from tests.support.training import ORGANISER, training_settings
from tests.teams.client import TeamsClient, texts

# Arabic-Indic and superscript digits pass str.isdigit(); 10 and 18 digits overflow PostgreSQL's integer.
BAD_IDS: tuple[Any, ...] = ("\u0661\u0662", "\u00b2", "\uff11", "9" * 10, "9" * 18, "9" * 19, 2**31, 2**63, -1, "-1", "1.0",
                            " 1", "0x1", 1.5, True, None, [], {})
BROKEN = ("sorry, something went wrong", "please try again in a moment")


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return training_settings(settings, tmp_path)


def problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("row", [row for row in TABLE if row.press], ids=lambda row: row.name)
async def test_a_card_button_with_a_bad_id_gets_a_polite_answer(
    teams: TeamsClient, caplog: pytest.LogCaptureFixture, row: Any
) -> None:
    assert row.press is not None
    for user in (DPO_A, ORGANISER):
        await teams.say(user, "help")
        for bad in BAD_IDS:
            data = {key: bad if isinstance(value, str) and value.startswith("$") else value for key, value in row.press.items()}
            status, _ = await teams.post(teams.message(user, value=data))
            said = texts(teams.channel.to(user.conversation_id)[-1:])
            assert status < 500 and not any(b in said.lower() for b in BROKEN), (bad, said)
    assert problems(caplog) == []


@pytest.mark.parametrize("command", ["breach BR-2026-{id}", "update BR-2026-{id}", "attendees {id}", "edit session {id}",
                                     "cancel session {id}", "add link #{id}"])
async def test_a_typed_command_with_a_bad_id_gets_a_polite_answer(
    teams: TeamsClient, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    for user in (DPO_A, ORGANISER):
        await teams.say(user, "help")
        for bad in ("\u0661\u0662", "\u00b2", "9" * 10, "9" * 18, "9" * 19, "9" * 40):
            said = texts(await teams.say(user, command.format(id=bad)))
            assert said and not any(b in said.lower() for b in BROKEN), (bad, said)
            await teams.say(user, "cancel")
    assert problems(caplog) == []
