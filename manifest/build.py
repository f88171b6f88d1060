"""Build the Teams app package: `python -m manifest.build [--out PATH] [--env-file PATH]`.

Fills manifest.json from settings (environment variables over `.env`), validates it against the
official Teams manifest schema (offline), checks the icons and writes a zip with manifest.json,
color.png and outline.png at its root. Any problem refuses the build and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from jsonschema import Draft4Validator, Draft6Validator, ValidationError, validators
from jsonschema.protocols import Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
TEMPLATE = HERE / "manifest.json"
DEFAULT_OUT = REPO_ROOT / "build" / "custodian-teams-app.zip"
DEFAULT_ENV_FILE = REPO_ROOT / ".env"
DEFAULT_SCHEMA_DIR = HERE / "schema"
SCHEMA_FILE = "MicrosoftTeams.schema.v1.29.json"
ICON_SIZES = {"color.png": 192, "outline.png": 32}
WHITE = bytes((255, 255, 255))

GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
HOSTNAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
WILDCARD_HOSTNAME = re.compile(r"(?:\*\.)?" + HOSTNAME.pattern)
PLACEHOLDER = re.compile(r"\$\{\{(\w+)\}\}")
REQUIRED_PROPERTY = re.compile(r"'(.+)' is a required property")

# Setting -> names accepted for it, first found wins; matched case-insensitively like config.py.
ALIASES: dict[str, tuple[str, ...]] = {
    "MicrosoftAppId": ("MicrosoftAppId", "MICROSOFT_APP_ID"),
    "BOT_DOMAIN": ("BOT_DOMAIN",),
    "TEAMS_APP_ID": ("TEAMS_APP_ID",),
    "APP_VERSION": ("APP_VERSION",),
    "DEVELOPER_NAME": ("DEVELOPER_NAME",),
    "DEVELOPER_WEBSITE_URL": ("DEVELOPER_WEBSITE_URL",),
    "PRIVACY_URL": ("PRIVACY_URL",),
    "TERMS_URL": ("TERMS_URL",),
    "TEAMS_SCHEMA_DIR": ("TEAMS_SCHEMA_DIR",),
}
URL_SETTINGS = ("DEVELOPER_WEBSITE_URL", "PRIVACY_URL", "TERMS_URL")


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = DEFAULT_ENV_FILE) -> dict[str, str]:
    """Settings from `env_file` (if it exists) overridden by `environ` (default: os.environ)."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def _setting(settings_map: Mapping[str, str], name: str) -> str:
    """The stripped value of setting `name` (any of its aliases, any case), or ""."""
    lowered = {key.lower(): value for key, value in settings_map.items()}
    for alias in ALIASES[name]:
        value = (lowered.get(alias.lower()) or "").strip()
        if value:
            return value
    return ""


def resolve_settings(settings_map: Mapping[str, str]) -> dict[str, str]:
    """Values for the template's `${{NAME}}` placeholders, defaults filled in."""
    app_id = _setting(settings_map, "MicrosoftAppId")
    domain = _setting(settings_map, "BOT_DOMAIN").lower()
    defaults = {
        "TEAMS_APP_ID": app_id,
        "APP_VERSION": "1.0.0",
        "DEVELOPER_NAME": "Custodian",
        "DEVELOPER_WEBSITE_URL": f"https://{domain}/",
        "PRIVACY_URL": f"https://{domain}/privacy",
        "TERMS_URL": f"https://{domain}/terms",
    }
    values = {name: _setting(settings_map, name) or default for name, default in defaults.items()}
    return {"MicrosoftAppId": app_id, "BOT_DOMAIN": domain, **values}


def check_settings(settings_map: Mapping[str, str]) -> list[str]:
    """Problems with the settings themselves, one line each (no secrets are echoed)."""
    problems = []
    app_id = _setting(settings_map, "MicrosoftAppId")
    if not app_id:
        problems.append("MicrosoftAppId is not set (the bot's Microsoft App ID, a GUID)")
    elif not GUID.fullmatch(app_id):
        problems.append(f"MicrosoftAppId {app_id!r} is not a GUID")
    teams_app_id = _setting(settings_map, "TEAMS_APP_ID")
    if teams_app_id and not GUID.fullmatch(teams_app_id):
        problems.append(f"TEAMS_APP_ID {teams_app_id!r} is not a GUID")
    domain = _setting(settings_map, "BOT_DOMAIN")
    if not domain:
        problems.append("BOT_DOMAIN is not set (the bot's public hostname, e.g. custodian.example-school.org.uk)")
    elif not HOSTNAME.fullmatch(domain.lower()):
        problems.append(
            f"BOT_DOMAIN {domain!r} must be a hostname only, e.g. custodian.example-school.org.uk (no https://, port or path)"
        )
    for name in URL_SETTINGS:
        url = _setting(settings_map, name)
        parts = urlsplit(url)
        if url and (parts.scheme != "https" or not parts.hostname):
            problems.append(f"{name} {url!r} must be an https:// URL")
    return problems


def _fill(node: Any, values: Mapping[str, str]) -> Any:
    """`node` with every string that is exactly a known `${{NAME}}` replaced by its value."""
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, str) and (match := PLACEHOLDER.fullmatch(node)):
        return values.get(match.group(1), node)
    return node


def render_manifest(settings_map: Mapping[str, str], template: Path = TEMPLATE) -> dict[str, Any]:
    """The manifest template with its placeholders filled from `settings_map`."""
    manifest: dict[str, Any] = _fill(json.loads(template.read_text("utf-8")), resolve_settings(settings_map))
    return manifest


def find_schema_dir(settings_map: Mapping[str, str]) -> Path:
    """Where the Teams schemas are: TEAMS_SCHEMA_DIR, else the copy vendored in manifest/schema/."""
    return Path(_setting(settings_map, "TEAMS_SCHEMA_DIR") or DEFAULT_SCHEMA_DIR)


def _refuse_remote(uri: str) -> Resource[Any]:
    """Never fetch a referenced schema over the network: validation stays on this machine."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class mypy cannot see through


@lru_cache(maxsize=4)
def _validator(schema_file: Path) -> Validator:
    """A validator for the schema file; draft-04 plus `const`, which the Teams schema uses."""
    schema = json.loads(schema_file.read_text("utf-8"))
    base = validators.validator_for(schema, default=Draft4Validator)
    # Draft 4 has no `const`, so a plain Draft4Validator silently accepts any manifestVersion.
    cls = validators.extend(base, {"const": Draft6Validator.VALIDATORS["const"]})
    # No check_schema(): the v1.29 schema has `\p{L}` patterns Python's `re` can't compile.
    offline: Registry[Any] = Registry(retrieve=_refuse_remote)  # type: ignore[call-arg]
    validator: Validator = cls(schema, registry=offline, format_checker=base.FORMAT_CHECKER)
    return validator


def _path(parts: Iterable[str | int]) -> str:
    """JSON path like `bots[0].botId`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _describe(error: ValidationError, guid_pattern: str) -> str:
    """One readable line for a schema error."""
    path = _path(error.absolute_path)
    value = error.instance
    if error.validator == "required" and (match := REQUIRED_PROPERTY.fullmatch(error.message)):
        return f"manifest: {_path([*error.absolute_path, match.group(1)])} is required"
    if error.validator == "pattern" and error.validator_value == guid_pattern:
        return f"manifest: {path} {value!r} is not a GUID"
    if error.validator == "maxLength":
        limit = error.validator_value
        return f"manifest: {path} is {len(value)} characters, at most {limit} allowed"
    if error.validator == "maxItems":
        return f"manifest: {path} has {len(value)} items, at most {error.validator_value} allowed"
    if error.validator == "const":
        return f"manifest: {path} must be {error.validator_value!r}, got {value!r}"
    return f"manifest: {path or '(top level)'}: {error.message}"


def _strings(node: Any, parts: tuple[str | int, ...] = ()) -> Iterable[tuple[str, str]]:
    """Every string in `node` with its JSON path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*parts, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings(item, (*parts, index))
    elif isinstance(node, str):
        yield _path(parts), node


def _teams_rules(manifest: Mapping[str, Any], semver_pattern: str) -> list[str]:
    """Rules Teams applies that the v1.29 schema doesn't check."""
    problems = [f"manifest: {path} still holds the placeholder {text!r}" for path, text in _strings(manifest) if "${{" in text]
    version = manifest.get("version")
    if isinstance(version, str) and not re.search(semver_pattern, version):
        problems.append(f"manifest: version {version!r} is not a version like 1.0.0")
    for index, domain in enumerate(manifest.get("validDomains") or []):
        if not isinstance(domain, str):
            continue  # the schema has already said so
        if "${{" not in domain and not WILDCARD_HOSTNAME.fullmatch(domain):
            problems.append(f"manifest: validDomains[{index}] {domain!r} is not a hostname")
    return problems


def validate_manifest(manifest: Mapping[str, Any], *, schema_dir: Path | None = None) -> list[str]:
    """Problems with `manifest` against the Teams v1.29 schema and Teams' own rules."""
    schema_file = (schema_dir or find_schema_dir(os.environ)) / SCHEMA_FILE
    try:
        validator = _validator(schema_file)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        return [f"schema: cannot read {schema_file} ({reason}); set TEAMS_SCHEMA_DIR"]
    definitions = validator.schema.get("definitions", {})
    guid_pattern = definitions.get("guid", {}).get("pattern", GUID.pattern)
    semver_pattern = definitions.get("semver", {}).get("pattern", r"^\d+\.\d+\.\d+$")
    try:
        errors = sorted(validator.iter_errors(manifest), key=lambda e: _path(e.absolute_path))
    except Unresolvable as exc:
        return [f"schema: cannot resolve {exc.ref} (remote schema references are not fetched)"]
    problems = [_describe(error, guid_pattern) for error in errors]
    problems += _teams_rules(manifest, semver_pattern)
    return list(dict.fromkeys(problems))


def _outline_problems(image: Image.Image) -> list[str]:
    """The outline icon must be white on a transparent background."""
    if image.mode != "RGBA":
        return [f"outline.png must be RGBA with a transparent background, got mode {image.mode}"]
    width, height = image.size
    problems = []
    corners = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
    alpha = image.getchannel("A")
    opaque = [xy for xy in corners if alpha.getpixel(xy)]
    if opaque:
        problems.append(f"outline.png background must be transparent (pixel {opaque[0]} is not)")
    data = image.tobytes()
    visible = [
        (index % width, index // width)
        for index in range(width * height)
        if data[4 * index + 3] and data[4 * index : 4 * index + 3] != WHITE
    ]
    if visible:
        problems.append(f"outline.png must be white only: {len(visible)} visible pixels are not white (first at {visible[0]})")
    if alpha.getbbox() is None:
        problems.append("outline.png is fully transparent: draw the outline in white")
    return problems


def check_icons(icons_dir: Path = HERE) -> list[str]:
    """Problems with color.png (192x192) and outline.png (32x32, white on transparent)."""
    problems: list[str] = []
    for name, size in ICON_SIZES.items():
        try:
            with Image.open(icons_dir / name) as image:
                image.load()
                if image.format != "PNG":
                    problems.append(f"{name} must be a PNG, got {image.format}")
                if image.size != (size, size):
                    got = f"{image.width}x{image.height}"
                    problems.append(f"{name} must be {size}x{size}, got {got}")
                if name == "outline.png":
                    problems += _outline_problems(image)
        except FileNotFoundError:
            problems.append(f"{name} is missing from {icons_dir}")
        except OSError as exc:
            problems.append(f"{name} cannot be read as an image ({exc})")
    return problems


def _write_zip(out_path: Path, manifest: Mapping[str, Any], icons_dir: Path) -> None:
    """Write the package atomically, entries at the zip root with fixed timestamps."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    entries = {"manifest.json": text.encode("utf-8")}
    entries.update({name: (icons_dir / name).read_bytes() for name in ICON_SIZES})
    with tempfile.NamedTemporaryFile(dir=out_path.parent, suffix=".zip.tmp", delete=False) as tmp:
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as package:
                for name, data in entries.items():
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    package.writestr(info, data)
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
    os.chmod(tmp.name, 0o644)  # mkstemp makes it 0600; the package holds no secrets
    os.replace(tmp.name, out_path)


def build_package(
    settings_map: Mapping[str, str],
    out_path: Path = DEFAULT_OUT,
    *,
    icons_dir: Path = HERE,
    template: Path = TEMPLATE,
) -> list[str]:
    """Build the Teams app zip at `out_path`; on any problem write nothing and return them."""
    problems = check_settings(settings_map)
    manifest: dict[str, Any] = {}
    if not problems:  # a bad setting would only repeat itself as manifest errors
        manifest = render_manifest(settings_map, template)
        problems += validate_manifest(manifest, schema_dir=find_schema_dir(settings_map))
    problems += check_icons(icons_dir)
    if problems:
        return problems
    try:
        _write_zip(out_path, manifest, icons_dir)
    except OSError as exc:
        return [f"cannot write {out_path} ({exc.strerror or exc})"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the package or print why not (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m manifest.build", description="Build the Custodian Teams app package.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write (default: %(default)s)")
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE, help="settings file (default: %(default)s)")
    args = parser.parse_args(argv)
    problems = build_package(load_settings(env_file=args.env_file), args.out)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"Refused to build {args.out}: fix the problems above.", file=sys.stderr)
        return 1
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
