"""A process-wide version of the pupil register: it moves on when a transaction that changed pupils commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from storage.consent_models import Pupil

_CHANGED = "pupils_changed"
_version = 0


def current() -> int:
    """Read it before loading pupils; a cache built from that load is stale once this differs."""
    return _version


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    if any(isinstance(obj, Pupil) for group in (session.new, session.dirty, session.deleted) for obj in group):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)  # bulk insert / update / delete statements
    if (state.is_insert or state.is_update or state.is_delete) and getattr(table, "name", None) == Pupil.__tablename__:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    global _version
    if session.info.pop(_CHANGED, False):
        _version += 1


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
