"""A card handed to botbuilder is never copied.

Upstream defect (botbuilder-core 4.17.1): `TurnContext.send_activities` deep-copies every outgoing activity,
card and all (~0.2 ms a message), although nothing changes it afterwards. A `SentCard` returns itself from
`copy`/`deepcopy`. The Bot Connector client (bot/compat/connector.py) sends it as the JSON it already is and
the state codec (bot/compat/state_codec.py) stores it as a plain dict (STORE_AS_DICT).
"""

from __future__ import annotations

from typing import Any


class SentCard(dict[str, Any]):
    """A card's JSON once handed to botbuilder: never changed again, so never copied.

    botbuilder deep-copies every outgoing activity, card and all (~0.2 ms a message).
    Dialog state stores it as the plain dict it is.
    """

    STORE_AS_DICT = True

    def __copy__(self) -> SentCard:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> SentCard:
        return self
