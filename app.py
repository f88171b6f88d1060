"""Start Custodian: `python app.py` (what `make run` does)."""

from __future__ import annotations

from aiohttp import web

from bot.logs import configure_logging
from bot.server import create_app
from config import Settings


def main() -> None:
    """Read settings, build the app, serve until stopped."""
    settings = Settings()
    configure_logging(settings.log_level)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None)


if __name__ == "__main__":
    main()
