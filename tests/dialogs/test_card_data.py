"""Card data is read one way: the id a button carries and the texts typed into a card."""

from __future__ import annotations

import pytest

from dialogs.kit.card_data import card_id, card_text
from services.errors import DomainError, NotAllowed


def test_card_id_reads_the_id_or_refuses_with_the_message_given() -> None:
    assert card_id({"id": 7}, "gone") == 7
    assert card_id({"id": "12"}, "gone") == 12
    for forged in ({}, {"id": "1; drop"}, {"id": True}, {"id": -1}, {"id": "9" * 19}):
        with pytest.raises(NotAllowed, match="gone"):
            card_id(forged, "gone")
    with pytest.raises(DomainError, match="no drill") as raised:
        card_id({}, "no drill", error=DomainError)
    assert not isinstance(raised.value, NotAllowed)


def test_card_text_is_the_typed_text_or_empty() -> None:
    assert card_text({"note": "kept"}, "note") == "kept"
    assert card_text({"note": ["a"]}, "note") == "" and card_text({}, "note") == ""
