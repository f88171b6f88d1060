"""Injected time: production reads the system clock, tests move a settable one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until moved (for tests, benchmarks and the chat demo)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("clock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward and return the new now."""
        self.now += delta
        return self.now

    def set(self, when: datetime) -> None:
        """Jump to an absolute instant."""
        self.now = when.astimezone(UTC)
