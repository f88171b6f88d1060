"""What a pressed card sends back (`Action.Submit` data): the item's id and the typed texts, read one way everywhere."""

from __future__ import annotations

from collections.abc import Mapping

from services.errors import DomainError, NotAllowed
from services.ids import parse_id


def card_id(data: Mapping[str, object], missing: str, *, key: str = "id", error: type[DomainError] = NotAllowed) -> int:
    """The id a card button carries under `key`; `error(missing)` when it names none (a forged or damaged card)."""
    found = parse_id(data.get(key))
    if found is None:
        raise error(missing)
    return found


def card_text(data: Mapping[str, object], key: str) -> str:
    """A typed answer from the card ("" when missing or not text)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""
