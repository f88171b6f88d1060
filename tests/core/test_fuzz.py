"""Hostile input: mutated real Teams activities and card submits never get a 5xx, never log a traceback,
and never leave the database half-written."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import col

from bot.runtime import Runtime
from config import Settings
from storage.consent_models import Pupil, PupilImport
from storage.models import BotStateRow, Organisation, Person
from tests.conftest import SCHOOL_A, SCHOOL_B
from tests.core.test_isolation import NO_PRIVATE_ID, TABLE
from tests.support.consent import LOCAL_HTTP, csv_message, rows
from tests.teams.client import TeamsClient, TeamsUser, all_activity_files, load_activity, texts

USERS = (
    TeamsUser("Megan Bowen", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", SCHOOL_A),
    TeamsUser("Dana Price", "d0d0d0d0-0000-4000-8000-0000000000a1", SCHOOL_A),
    TeamsUser("Ben Carter", "5c5c5c5c-0000-4000-8000-0000000000b2", SCHOOL_B),
)
FILES = tuple(path.name for path in all_activity_files())
COMMANDS = sorted({row.press["cmd"] for row in TABLE if row.press} | set(NO_PRIVATE_ID))
WORDS = ("report a breach", "check consent", "book training", "status", "help", "export breaches", "import pupils",
         "open breaches", "breach BR-2026-0001", "attendees 1", "make Dana Price a DPO", "cancel", "yes", "today 9:15")
NASTY_TEXT = st.sampled_from(["x" * 4001, "é" * 5000, "\u202e\u0000\ud800", "<at>Custodian</at>", "=cmd|' /C calc'!A0",
                              "' OR 1=1 --", "\r\n\t", "🙂" * 300, "{{card}}", "%s%s%n"])
TEXT = st.one_of(st.text(max_size=60), st.sampled_from(WORDS), NASTY_TEXT)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JUNK = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=10)
FIELDS = ("id", "school", "post", "task", "import", "booking_id", "session_id", "months", "for", "decision", "reason",
          "question", "lessons", "q", "answer", "nav", "purpose", "confirm", "who", "step", "role", "text")
SUBMIT = st.one_of(
    st.fixed_dictionaries({"cmd": st.sampled_from(COMMANDS)}, optional={key: JUNK for key in FIELDS}),
    st.dictionaries(st.sampled_from(FIELDS), JUNK, max_size=5),
    JUNK,
)
KEYS = ("type", "text", "value", "from", "conversation", "channelData", "entities", "attachments", "recipient", "id",
        "timestamp", "locale", "name", "action", "membersAdded", "membersRemoved", "replyToId", "textFormat", "channelId")
TYPES = ("message", "invoke", "event", "conversationUpdate", "installationUpdate", "messageReaction", "typing",
         "endOfConversation", "handoff", "nonsense", "")
MUTATION = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(KEYS), JUNK),
    st.tuples(st.just("del"), st.sampled_from(KEYS), st.none()),
    st.tuples(st.just("set"), st.just("type"), st.sampled_from(TYPES)),
    st.tuples(st.just("set"), st.just("value"), SUBMIT),
    st.tuples(st.just("set"), st.just("text"), TEXT),
    st.tuples(st.just("from"), st.sampled_from(("id", "aadObjectId", "name")), JUNK),
    st.tuples(st.just("tenant"), st.just("id"), JUNK),
)
ACTIVITY = st.tuples(
    st.sampled_from(USERS), st.one_of(st.sampled_from(FILES), st.none()), TEXT, st.one_of(st.none(), SUBMIT),
    st.lists(MUTATION, max_size=3),
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No rate limit: the fuzzer sends faster than any person."""
    return settings.model_copy(update={"rate_limit_per_minute": 0})


def build(teams: TeamsClient, spec: tuple[Any, ...]) -> dict[str, Any]:
    """A real activity (from a file, or a personal message with text / a card submit), then mutated."""
    user, file, text, submit, mutations = spec
    activity = teams.from_file(file, user) if file else teams.message(user, text, submit if isinstance(submit, dict) else None)
    if not file and submit is not None and not isinstance(submit, dict):
        activity["value"] = submit
    for op, key, value in mutations:
        if op == "set":
            activity[key] = value
        elif op == "del":
            activity.pop(key, None)
        else:
            data = activity.get("channelData")
            parent = activity.get("from") if op == "from" else data.get("tenant") if isinstance(data, dict) else None
            if isinstance(parent, dict):
                parent[key] = value
    activity["serviceUrl"] = teams.channel.url  # never let the bot call out anywhere but the fake channel
    return activity


async def consistent(runtime: Runtime) -> None:
    """Everyone belongs to a known school, and every stored conversation state decodes."""
    async with runtime.deps.sessions() as session:
        schools = set((await session.execute(select(col(Organisation.tenant_id)))).scalars())
        people = set((await session.execute(select(col(Person.tenant_id)))).scalars())
        states = list((await session.execute(select(col(BotStateRow.data)))).scalars())
    assert people <= schools
    for data in states:
        assert isinstance(json.loads(data), dict)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@hyp_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(ACTIVITY, min_size=1, max_size=4), raw=st.one_of(st.none(), JUNK))
async def test_hostile_activities_never_crash_the_server(
    teams: TeamsClient, runtime: Runtime, caplog: pytest.LogCaptureFixture, specs: list[tuple[Any, ...]], raw: Any,
) -> None:
    caplog.set_level(logging.WARNING)
    caplog.clear()  # one example at a time
    for spec in specs:
        activity = build(teams, spec)
        status, body = await teams.post(activity)
        assert status < 500, (status, body, activity)
    if raw is not None:
        status, body = await teams.post(json.dumps(raw))  # any JSON at all
        assert status < 500, (status, body, raw)
    assert tracebacks(caplog) == []
    await consistent(runtime)


async def test_real_payload_files_are_all_handled(teams: TeamsClient, caplog: pytest.LogCaptureFixture) -> None:
    for name in FILES:
        activity = load_activity(name)
        activity["serviceUrl"] = teams.channel.url
        status, body = await teams.post(activity)
        assert status < 500, (name, status, body)
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe\x00", b"[]", b"null", b'"message"', b'{"type": 5}',
                                  b'{"type": "message", "text": "\\ud800"}',
                                  b'{"type": "message", "from": "x", "conversation": 3}'])
async def test_malformed_bodies_get_a_4xx(teams: TeamsClient, body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    status, _ = await teams.post(body)
    assert 400 <= status < 500
    assert tracebacks(caplog) == []


async def test_free_text_over_the_limit_is_refused_inside_a_dialog_too(teams: TeamsClient, runtime: Runtime) -> None:
    megan = USERS[0]
    await teams.say(megan, "report a breach")
    assert "under 4,000" in texts(await teams.say(megan, "x" * 4001))
    assert "under 4,000" in texts(await teams.press(megan, {"text": "y" * 4001}))  # typed into a card's text box
    async with runtime.deps.sessions() as session:
        states = "".join((await session.execute(select(col(BotStateRow.data)))).scalars())
    assert "x" * 4001 not in states and "y" * 4001 not in states


async def test_a_ten_megabyte_pupil_file_is_refused_while_streaming(teams: TeamsClient, runtime: Runtime) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()  # chunked, no Content-Length: the size is only known by reading
        await response.prepare(request)
        line = b"Z1,=HYPERLINK(\"http://evil.example\"),Olivia\n" * 1000
        try:
            while sent < 10 * 1024 * 1024:
                await response.write(line)
                sent += len(line)
        except ConnectionError:
            pass  # the bot hung up, as it should
        return response

    app = web.Application()
    app.router.add_get("/big.csv", endless)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        dpo = USERS[1]
        runtime.deps.files = LOCAL_HTTP
        replies = await teams.send(csv_message(teams, dpo, str(server.make_url("/big.csv")), teams_file=True))
    finally:
        await server.close()
    assert "too big" in texts(replies)
    assert await rows(runtime, PupilImport) == [] and await rows(runtime, Pupil) == []


async def test_a_ten_megabyte_activity_is_refused_before_it_is_read(teams: TeamsClient) -> None:
    activity = teams.message(USERS[1], "import pupils")
    big = "data:text/csv;base64," + "A" * 10_000_000
    activity["attachments"] = [{"contentType": "text/csv", "name": "p.csv", "contentUrl": big}]
    status, _ = await teams.post(activity)
    assert status == 413


def _invoke(teams: TeamsClient, **changes: Any) -> dict[str, Any]:
    activity = teams.from_file("invoke_adaptiveCard_action_personal_teamsnet_capture.json", USERS[0])
    activity.update(changes)
    return activity


# Each crash the fuzzer found, kept as a plain example: (how the activity is changed, expected status range).
FOUND: dict[str, Any] = {
    "message without a conversation": lambda t: {**t.message(USERS[0], "help"), "conversation": None},
    "message without a channelId": lambda t: {**t.message(USERS[0], "help"), "channelId": None},
    "an id that is an object": lambda t: {**t.message(USERS[0], "report a breach"), "id": {"a": 1}},
    "a null entity": lambda t: {**t.message(USERS[0], "help"), "entities": [None]},
    "a tenant id too long for the database": lambda t: {**t.message(USERS[0], "help"),
                                                        "channelData": {"tenant": {"id": "t" * 65}}},
    "a sender id too long for the database": lambda t: {**t.message(USERS[0], "help"),
                                                        "from": {"id": "29:x", "aadObjectId": "a" * 4001}},
    "an invoke without a sender": lambda t: _invoke(t, **{"from": None}),
    "an invoke we don't offer": lambda t: _invoke(t, name="composeExtension/query"),
    "a card action that is refused": lambda t: _invoke(t, value={"action": {"type": "Action.Execute", "data": {
        "cmd": "reminder.done", "id": "not a number"}}}),
}


@pytest.mark.parametrize("case", FOUND)
async def test_crashes_the_fuzzer_found_stay_fixed(teams: TeamsClient, caplog: pytest.LogCaptureFixture, case: str) -> None:
    activity = FOUND[case](teams)
    activity["serviceUrl"] = teams.channel.url
    status, body = await teams.post(activity)
    assert status < 500, (status, body)
    assert tracebacks(caplog) == []
