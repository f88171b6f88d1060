"""A pupil file is downloaded only from Teams: https, listed hosts, no redirect off the list, no private addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from bot.runtime import Runtime
from services.consent.pupil_files import FilePolicy
from storage.consent_models import PupilImport
from tests.support.consent import LOCAL_HTTP, SAMPLE, csv_message, rows
from tests.teams.client import TeamsClient, TeamsUser, texts

REFUSED = "I can only read files attached to this chat in Teams"


class Intranet:
    """A server on 127.0.0.1 standing for something inside the school's network; counts what it is asked."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        app = web.Application()
        app.router.add_get("/{name}", self._get)
        self.server = TestServer(app, host="127.0.0.1")

    async def _get(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        name = request.match_info["name"]
        if name == "hop":
            raise web.HTTPFound(str(request.query["to"]))
        if name == "broken":
            return web.Response(status=503, text="SECRET-INTERNAL stack trace at db01.school.local")
        return web.Response(body=SAMPLE.read_bytes(), content_type="text/csv")

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return str(self.server.make_url(path).with_host(host))


@pytest.fixture
async def intranet() -> AsyncIterator[Intranet]:
    served = Intranet()
    await served.server.start_server()
    yield served
    await served.server.close()


async def send_file(teams: TeamsClient, dpo: TeamsUser, url: str) -> str:
    return texts(await teams.send(csv_message(teams, dpo, url, teams_file=True)))


def test_only_https_to_a_listed_host_is_allowed() -> None:
    policy = FilePolicy()
    assert policy.allows(URL("https://contoso-my.sharepoint.com/personal/x/_layouts/15/download.aspx?UniqueId=1"))
    for url in ("http://contoso-my.sharepoint.com/f.csv", "https://sharepoint.com.evil.example/f.csv",
                "https://evilsharepoint.com/f.csv", "https://user:pw@contoso.sharepoint.com/f.csv",
                "file:///etc/passwd", "ftp://contoso.sharepoint.com/f.csv", "https://169.254.169.254/latest/meta-data",
                "https://127.0.0.1/f.csv"):
        assert not policy.allows(URL(url)), url
    assert not FilePolicy(("127.0.0.1", "::1")).allows(URL("https://127.0.0.1/f.csv"))  # listed, but loopback
    assert not FilePolicy(("::1",)).allows(URL("https://[::1]/f.csv"))


async def test_a_local_server_is_refused_without_being_asked(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, intranet: Intranet
) -> None:
    for url in (intranet.url("/f.csv"), intranet.url("/f.csv", "localhost")):
        shown = await send_file(teams, dpo_a, url)
        assert REFUSED in shown and "Pupil import preview" not in shown
    assert intranet.hits == [] and await rows(runtime, PupilImport) == []


async def test_a_listed_name_that_resolves_to_a_private_address_is_refused_after_dns(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, intranet: Intranet
) -> None:
    runtime.deps.files = FilePolicy(("localhost",), ("http", "https"))  # the name is listed; its address is loopback
    for scheme in ("http", "https"):
        shown = await send_file(teams, dpo_a, str(URL(intranet.url("/f.csv", "localhost")).with_scheme(scheme)))
        assert REFUSED in shown
    assert intranet.hits == [] and await rows(runtime, PupilImport) == []


async def test_a_redirect_off_the_list_is_not_followed(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, intranet: Intranet
) -> None:
    runtime.deps.files = LOCAL_HTTP
    off_list = intranet.url("/f.csv", "localhost")
    shown = await send_file(teams, dpo_a, str(URL(intranet.url("/hop")).with_query(to=off_list)))
    assert REFUSED in shown and intranet.hits == ["/hop"]
    on_list = intranet.url("/f.csv")
    shown = await send_file(teams, dpo_a, str(URL(intranet.url("/hop")).with_query(to=on_list)))
    assert "Pupil import preview" in shown and intranet.hits == ["/hop", "/hop", "/f.csv"]


async def test_a_failed_download_does_not_echo_the_other_servers_answer(
    teams: TeamsClient, runtime: Runtime, dpo_a: TeamsUser, intranet: Intranet
) -> None:
    runtime.deps.files = LOCAL_HTTP
    shown = await send_file(teams, dpo_a, intranet.url("/broken"))
    assert "I couldn't download the file" in shown
    assert "503" not in shown and "SECRET" not in shown and "db01" not in shown
