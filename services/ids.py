"""Ids from card buttons and typed commands: 1 to 18 ASCII digits, so always within a BIGINT id column."""

from __future__ import annotations

import re

ID = re.compile(r"[0-9]{1,18}")
MAX_ID = 10**18 - 1


def parse_id(value: object) -> int | None:
    """The id `value` names (an int, or a string of ASCII digits), or None when it names none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if isinstance(value, str) and ID.fullmatch(value):
        return int(value)
    return None
