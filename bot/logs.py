"""Structured logs (one JSON object per line) carrying ids only, never personal data."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime

# Libraries that log SQL parameters, request bodies or message text below WARNING: personal data.
_QUIET = (
    "msrest", "botbuilder", "botframework", "aiohttp", "apscheduler", "asyncio", "tzlocal",
    "aiosqlite", "sqlalchemy", "asyncpg", "urllib3", "requests_oauthlib", "msal", "dateparser",
)


def trace(error: BaseException) -> str:
    """Where an exception (and any it came from) was raised: frames and types, never the messages.

    Messages can quote data: msrest's quote the whole activity, database errors the row's values.
    """
    chain: list[BaseException] = []
    found: BaseException | None = error
    while found is not None and found not in chain:
        chain.append(found)
        found = found.__cause__ or found.__context__
    lines = []
    for link in reversed(chain):
        lines += traceback.format_tb(link.__traceback__)
        lines.append(f"{type(link).__module__}.{type(link).__qualname__}\n")
    return "".join(lines)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (and the exception type, with where it was raised)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = type(record.exc_info[1]).__name__
            entry["trace"] = trace(record.exc_info[1])
        return json.dumps(entry)


def quiet_libraries() -> None:
    """Keep libraries at WARNING whatever LOG_LEVEL says (their debug output holds personal data)."""
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()
