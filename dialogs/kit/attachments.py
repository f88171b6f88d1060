"""A file someone attached to a message: a Teams file (with its download URL) or a plain attachment."""

from __future__ import annotations

from botbuilder.schema import Attachment

TEAMS_FILE = "application/vnd.microsoft.teams.file.download.info"
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "text/comma-separated-values")


def csv_attachment(attachments: list[Attachment] | None, *, types: tuple[str, ...] = CSV_TYPES,
                   suffixes: tuple[str, ...] = (".csv",), unnamed: str = "pupils.csv") -> dict[str, str] | None:
    """The file in a message: a Teams file (download URL) or an attachment of these types (or file name endings)
    with a content URL."""
    for item in attachments or []:
        content = item.content if isinstance(item.content, dict) else {}
        if item.content_type == TEAMS_FILE and isinstance(content.get("downloadUrl"), str):
            return {"url": content["downloadUrl"], "name": item.name or unnamed}
        if item.content_url and (item.content_type in types or (item.name or "").lower().endswith(suffixes)):
            return {"url": item.content_url, "name": item.name or unnamed}
    return None
