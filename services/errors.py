"""Errors whose text is safe to show a user."""


class DomainError(Exception):
    """A rule said no; `str(error)` is a friendly sentence for the user."""


class NotAllowed(DomainError):
    """The user may not see or do this (other school, not owner, not DPO)."""

    def __init__(self, message: str = "Sorry, you don't have access to that.") -> None:
        super().__init__(message)


class Outdated(DomainError):
    """A button on a card the item has moved on from: nothing was changed; `str(error)` says what happened."""
