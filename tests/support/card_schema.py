"""The one Adaptive Card 1.5 schema check every card test uses."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator

SCHEMA = Path(__file__).resolve().parents[1] / "adaptive_cards" / "adaptive-card.schema.v1.5.json"


@cache
def _validator() -> Draft6Validator:
    return Draft6Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_errors(content: dict[str, Any]) -> list[str]:
    """Adaptive Card 1.5 schema violations of one card (empty when valid)."""
    return sorted(error.message for error in _validator().iter_errors(content))


def assert_valid_card(content: dict[str, Any]) -> None:
    """Fail with every violation listed."""
    errors = schema_errors(content)
    assert not errors, errors
