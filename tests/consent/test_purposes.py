"""One table per concept: the photo purposes table and HOUSEKEEPING_MONTHS, and the ICO clock's stages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings
from services.consent.purposes import DEFAULT_MONTHS, PURPOSE_LABELS, parse_months
from services.consent.rules import purpose_in
from storage.consent_models import Purpose

ROOT = Path(__file__).resolve().parents[2]
OLD = ("HOUSEKEEPING_MONTHS_WEBSITE", "HOUSEKEEPING_MONTHS_SOCIAL_MEDIA", "HOUSEKEEPING_MONTHS_NEWSLETTER",
       "HOUSEKEEPING_MONTHS_PRESS", "HOUSEKEEPING_MONTHS_DISPLAYS")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process environment with no housekeeping setting of its own."""
    for name in (*OLD, "HOUSEKEEPING_MONTHS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_every_purpose_line_is_complete_and_names_itself() -> None:
    for purpose in Purpose:
        assert purpose.label and purpose.words and 1 <= purpose.months <= 120 and len(purpose.value) <= 20
        for said in (purpose.label, purpose.value.replace("_", " ")):  # its label and its value name it
            found = purpose_in(f"can I use it for {said}?")
            assert found is not None and found[0] is purpose
    assert len(set(PURPOSE_LABELS.values())) == len(Purpose)


def test_social_media_wins_over_the_press_media() -> None:
    assert purpose_in("on social media") == (Purpose.SOCIAL_MEDIA, "on")
    assert purpose_in("the local media") == (Purpose.PRESS, "the")


def test_the_setting_defaults_to_the_table(env: pytest.MonkeyPatch) -> None:
    loaded = settings()
    assert loaded.housekeeping_months == DEFAULT_MONTHS == {
        Purpose.WEBSITE: 24, Purpose.SOCIAL_MEDIA: 12, Purpose.NEWSLETTER: 24, Purpose.PRESS: 12, Purpose.DISPLAYS: 12}
    assert loaded.deprecated_settings() == []


def test_one_setting_names_some_purposes_and_the_rest_keep_their_default(env: pytest.MonkeyPatch) -> None:
    env.setenv("HOUSEKEEPING_MONTHS", " website:36, Social_Media : 6 ,")
    assert settings().housekeeping_months == {**DEFAULT_MONTHS, Purpose.WEBSITE: 36, Purpose.SOCIAL_MEDIA: 6}


def test_old_settings_are_still_read_named_as_deprecated_and_the_new_one_wins(env: pytest.MonkeyPatch) -> None:
    env.setenv("HOUSEKEEPING_MONTHS_PRESS", "3")
    env.setenv("HOUSEKEEPING_MONTHS_WEBSITE", "48")
    env.setenv("HOUSEKEEPING_MONTHS", "website:18")
    loaded = settings()
    assert loaded.housekeeping_months == {**DEFAULT_MONTHS, Purpose.PRESS: 3, Purpose.WEBSITE: 18}
    assert loaded.deprecated_settings() == ["HOUSEKEEPING_MONTHS_WEBSITE", "HOUSEKEEPING_MONTHS_PRESS"]


@pytest.mark.parametrize(("value", "says"), [
    ("posters:12", "'posters' is not a purpose (use website, social_media, newsletter, press, displays)"),
    ("website", "website: '' is not a whole number of months"),
    ("website:two", "website: 'two' is not a whole number of months"),
    ("website:1.5", "website: '1.5' is not a whole number of months"),
    ("website:\u0663", "is not a whole number of months"),
    ("website:-1", "is not a whole number of months"),
    ("website:0", "website: 0 months is outside 1 to 120"),
    ("press:121", "press: 121 months is outside 1 to 120"),
    ("press:12,press:6", "press is given twice"),
])
def test_a_bad_value_is_refused_saying_what_is_wrong(env: pytest.MonkeyPatch, value: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_months(value)
    env.setenv("HOUSEKEEPING_MONTHS", value)
    with pytest.raises(ValueError, match=re.escape(says)):
        settings()


@pytest.mark.parametrize("value", ["0", "121", "twelve"])
def test_a_bad_old_setting_is_refused(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("HOUSEKEEPING_MONTHS_DISPLAYS", value)
    with pytest.raises(ValueError, match="HOUSEKEEPING_MONTHS_DISPLAYS"):
        settings()


def test_the_app_refuses_to_start_on_a_bad_setting_with_a_clear_message(tmp_path: Path) -> None:
    started = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOUSEKEEPING_MONTHS": "website:24,posters:12",
             "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/never.db"})
    assert started.returncode == 1
    assert "Custodian did not start: a setting is wrong" in started.stderr
    assert "- HOUSEKEEPING_MONTHS: 'posters' is not a purpose" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "never.db").exists()

