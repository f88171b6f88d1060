"""The Teams app package: manifest template, schema validation, icon checks, zip and CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from manifest import make_icons
from manifest.build import (
    HERE,
    build_package,
    check_icons,
    load_settings,
    main,
    render_manifest,
    validate_manifest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_ID = "0d6a7a8e-5a3f-4c2b-9f1e-2b7c8d9e0f11"
TEAMS_APP_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
DOMAIN = "custodian.example-school.org.uk"
SETTINGS = {"MicrosoftAppId": APP_ID, "BOT_DOMAIN": DOMAIN}
COMMANDS = ["help", "report a breach", "check consent", "book training", "my bookings", "status", "cancel"]


def read_package(path: Path) -> tuple[list[str], dict[str, Any]]:
    """Names in the zip and its parsed manifest.json."""
    with zipfile.ZipFile(path) as package:
        return sorted(package.namelist()), json.loads(package.read("manifest.json"))


def icons_dir_with_outline(tmp_path: Path, outline: Image.Image) -> Path:
    """A copy of the real icons with outline.png replaced."""
    icons = tmp_path / "icons"
    icons.mkdir()
    shutil.copy(HERE / "color.png", icons / "color.png")
    outline.save(icons / "outline.png")
    return icons


def white_square_outline(size: int = 32, background: tuple[int, int, int, int] = (0, 0, 0, 0)) -> Image.Image:
    """A white square outline on `background`."""
    image = Image.new("RGBA", (size, size), background)
    ImageDraw.Draw(image).rectangle((4, 4, size - 5, size - 5), outline=(255, 255, 255, 255), width=2)
    return image


def test_builds_a_valid_package(tmp_path: Path) -> None:
    out = tmp_path / "build" / "custodian-teams-app.zip"

    assert build_package(SETTINGS, out) == []

    names, manifest = read_package(out)
    assert names == ["color.png", "manifest.json", "outline.png"]
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["id"] == APP_ID  # TEAMS_APP_ID defaults to the bot's app id
    bot = manifest["bots"][0]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "groupChat"]
    assert bot["supportsFiles"] is True
    assert manifest["validDomains"] == [DOMAIN]
    assert manifest["developer"]["privacyUrl"] == f"https://{DOMAIN}/privacy"
    assert "${{" not in json.dumps(manifest)
    for scope, command_list in zip(["personal", "groupChat"], bot["commandLists"], strict=True):
        assert command_list["scopes"] == [scope]
        assert [command["title"] for command in command_list["commands"]] == COMMANDS
        assert all(command["description"] for command in command_list["commands"])
    assert validate_manifest(manifest) == []


def test_optional_settings_are_used(tmp_path: Path) -> None:
    settings = {
        **SETTINGS,
        "TEAMS_APP_ID": TEAMS_APP_ID,
        "DEVELOPER_NAME": "Oak Trust Data Hub",
        "PRIVACY_URL": "https://oaktrust.example.org.uk/privacy-notice",
    }

    manifest = render_manifest(settings)

    assert manifest["id"] == TEAMS_APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["name"] == "Oak Trust Data Hub"
    assert manifest["developer"]["privacyUrl"] == "https://oaktrust.example.org.uk/privacy-notice"
    assert build_package(settings, tmp_path / "app.zip") == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({**SETTINGS, "MicrosoftAppId": "abc"}, "MicrosoftAppId 'abc' is not a GUID"),
        ({"BOT_DOMAIN": DOMAIN}, "MicrosoftAppId is not set"),
        ({**SETTINGS, "TEAMS_APP_ID": "my-app"}, "TEAMS_APP_ID 'my-app' is not a GUID"),
        ({"MicrosoftAppId": APP_ID}, "BOT_DOMAIN is not set"),
        ({**SETTINGS, "BOT_DOMAIN": f"https://{DOMAIN}/api"}, f"BOT_DOMAIN 'https://{DOMAIN}/api' must be a hostname"),
        (
            {**SETTINGS, "TERMS_URL": "http://example.org/terms"},
            "TERMS_URL 'http://example.org/terms' must be an https",
        ),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, settings: dict[str, str], message: str) -> None:
    out = tmp_path / "app.zip"

    problems = build_package(settings, out)

    assert any(problem.startswith(message) for problem in problems), problems
    assert not out.exists()


def test_settings_from_env_file_with_environment_winning(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"MicrosoftAppId={APP_ID}\nBOT_DOMAIN=old.example.org\n")

    settings = load_settings({"BOT_DOMAIN": DOMAIN}, env_file)

    assert render_manifest(settings)["validDomains"] == [DOMAIN]
    assert render_manifest(settings)["bots"][0]["botId"] == APP_ID


def test_schema_names_a_bad_bot_id() -> None:
    manifest = render_manifest(SETTINGS)
    manifest["bots"][0]["botId"] = "abc"

    assert validate_manifest(manifest) == ["manifest: bots[0].botId 'abc' is not a GUID"]


def test_schema_names_a_missing_required_field() -> None:
    manifest = render_manifest(SETTINGS)
    del manifest["name"]

    assert validate_manifest(manifest) == ["manifest: name is required"]


def test_manifest_version_const_is_enforced() -> None:
    # The schema is draft-04, which has no `const`: the builder adds it back.
    manifest = render_manifest(SETTINGS)
    manifest["manifestVersion"] = "1.30"

    assert validate_manifest(manifest) == ["manifest: manifestVersion must be '1.29', got '1.30'"]


def test_validation_never_touches_the_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def no_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$ref": "https://schemas.example.org/remote.json",
    }
    (tmp_path / "MicrosoftTeams.schema.v1.29.json").write_text(json.dumps(schema))

    assert validate_manifest(render_manifest(SETTINGS)) == []
    problems = validate_manifest(render_manifest(SETTINGS), schema_dir=tmp_path)

    assert len(problems) == 1
    assert problems[0].startswith("schema: ") and "not fetched" in problems[0]
    assert attempts == []


def test_wrong_outline_size_is_refused(tmp_path: Path) -> None:
    icons = icons_dir_with_outline(tmp_path, white_square_outline(48))
    out = tmp_path / "app.zip"

    problems = build_package(SETTINGS, out, icons_dir=icons)

    assert problems == ["outline.png must be 32x32, got 48x48"]
    assert not out.exists()


def test_outline_with_opaque_background_is_refused(tmp_path: Path) -> None:
    icons = icons_dir_with_outline(tmp_path, white_square_outline(background=(31, 78, 121, 255)))
    out = tmp_path / "app.zip"

    problems = build_package(SETTINGS, out, icons_dir=icons)

    assert problems[0] == "outline.png background must be transparent (pixel (0, 0) is not)"
    assert problems[1].startswith("outline.png must be white only:")
    assert not out.exists()


def test_outline_must_be_rgba(tmp_path: Path) -> None:
    icons = icons_dir_with_outline(tmp_path, white_square_outline().convert("RGB"))

    assert check_icons(icons) == ["outline.png must be RGBA with a transparent background, got mode RGB"]


def test_missing_colour_icon_is_refused(tmp_path: Path) -> None:
    icons = icons_dir_with_outline(tmp_path, white_square_outline())
    (icons / "color.png").unlink()

    assert check_icons(icons) == [f"color.png is missing from {icons}"]


def test_icon_generator_draws_valid_icons(tmp_path: Path) -> None:
    make_icons.make_color().save(tmp_path / "color.png")
    make_icons.make_outline().save(tmp_path / "outline.png")

    assert check_icons(tmp_path) == []
    assert check_icons(HERE) == []  # the committed icons


def test_main_reads_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("MicrosoftAppId", "MICROSOFT_APP_ID", "BOT_DOMAIN", "TEAMS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / "settings.env"
    env_file.write_text(f"MicrosoftAppId={APP_ID}\nBOT_DOMAIN={DOMAIN}\n")
    out = tmp_path / "app.zip"

    assert main(["--out", str(out), "--env-file", str(env_file)]) == 0

    assert read_package(out)[1]["validDomains"] == [DOMAIN]
    assert str(out) in capsys.readouterr().out


def run_cli(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m manifest.build` from the repo root with only `settings` set (no .env)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MicrosoftAppId", "MICROSOFT_APP_ID", "BOT_DOMAIN"}}
    args = ["--out", str(tmp_path / "out" / "app.zip"), "--env-file", str(tmp_path / "no.env")]
    return subprocess.run(
        [sys.executable, "-m", "manifest.build", *args],
        cwd=REPO_ROOT,
        env={**env, **settings},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_builds_with_good_settings(tmp_path: Path) -> None:
    result = run_cli(tmp_path, MicrosoftAppId=APP_ID, BOT_DOMAIN=DOMAIN)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "app.zip").is_file()


def test_cli_refuses_bad_settings(tmp_path: Path) -> None:
    result = run_cli(tmp_path, MicrosoftAppId="abc")

    assert result.returncode == 1
    assert "MicrosoftAppId 'abc' is not a GUID" in result.stderr.splitlines()
    assert "BOT_DOMAIN is not set" in result.stderr
    assert not (tmp_path / "out").exists()
