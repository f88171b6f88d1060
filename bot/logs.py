"""Structured logs (one JSON object per line) carrying ids only, never personal data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Libraries that would log request bodies or message text at lower levels.
_QUIET = ("msrest", "botbuilder", "botframework", "aiohttp.access", "apscheduler", "asyncio", "tzlocal")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (and the exception type, with traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["error"] = type(record.exc_info[1]).__name__
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr; keep chatty libraries at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
