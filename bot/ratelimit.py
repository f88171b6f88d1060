"""Per-person limit on inbound messages: a sliding one-minute window, in memory, bounded in size."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from botbuilder.core import TurnContext

from services.clock import Clock
from services.identity import Visit

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=1)
MAX_PEOPLE = 50_000  # people tracked at once; the least recently seen are forgotten first
SLOW_DOWN = "You're sending messages faster than I can keep up with. Please wait a minute, then try again."


class Verdict(StrEnum):
    """What to do with one message."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit: say "slow down" (at most once a minute) and drop it
    DROP = "drop"  # over the limit and already told: drop it quietly


@dataclass
class _Person:
    seen: datetime
    allowed: deque[datetime] = field(default_factory=deque)
    warned_at: datetime | None = None


class RateLimiter:
    """At most `per_minute` messages per person in any minute (0 = no limit)."""

    def __init__(self, per_minute: int, clock: Clock, max_people: int = MAX_PEOPLE) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._max_people = max_people
        self._people: dict[str, _Person] = {}  # least recently seen first

    def __len__(self) -> int:
        return len(self._people)

    def check(self, key: str) -> Verdict:
        """Count one message from `key` and say whether it may go on."""
        if self._per_minute <= 0:
            return Verdict.ALLOW
        now = self._clock()
        self._forget_idle(now)
        person = self._people.pop(key, None) or _Person(now)
        person.seen = now
        self._people[key] = person
        while person.allowed and now - person.allowed[0] >= WINDOW:
            person.allowed.popleft()
        if len(person.allowed) < self._per_minute:
            person.allowed.append(now)
            return Verdict.ALLOW
        if person.warned_at is None or now - person.warned_at >= WINDOW:
            person.warned_at = now
            return Verdict.WARN
        return Verdict.DROP

    def _forget_idle(self, now: datetime) -> None:
        """Drop people not seen for a whole window (their counts have expired) and any over the cap."""
        while self._people:
            key, oldest = next(iter(self._people.items()))
            if now - oldest.seen < WINDOW and len(self._people) < self._max_people:
                return
            del self._people[key]


async def admit(limiter: RateLimiter, context: TurnContext, visit: Visit) -> bool:
    """True when this message may be handled; otherwise asks the sender to slow down (once a minute)."""
    verdict = limiter.check(f"{visit.tenant_id}/{visit.aad_id}")
    if verdict is Verdict.WARN:
        log.warning("rate limit reached: tenant %s user %s", visit.tenant_id, visit.aad_id)
        await context.send_activity(SLOW_DOWN)
    return verdict is Verdict.ALLOW
