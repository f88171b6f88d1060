"""Getting a pupil CSV's bytes and text: a Teams download URL or a data: URI, size-capped, UTF-8 only."""

from __future__ import annotations

import base64
from urllib.parse import unquote_to_bytes

import aiohttp

from services.errors import DomainError


def too_big(max_bytes: int) -> DomainError:
    """The friendly refusal for a file over the limit."""
    return DomainError(f"That file is too big (the limit is {max_bytes // 1024:,} KB). "
                       "Export only the columns needed and try again.")


def _data_uri(url: str, max_bytes: int) -> bytes:
    meta, _, payload = url[5:].partition(",")
    if len(payload) > max_bytes * 4 // 3 + 16:
        raise too_big(max_bytes)
    try:
        data = base64.b64decode(payload, validate=True) if meta.endswith(";base64") else unquote_to_bytes(payload)
    except ValueError as error:
        raise DomainError("I couldn't read that file. Please send it again.") from error
    if len(data) > max_bytes:
        raise too_big(max_bytes)
    return data


async def fetch_file(url: str, *, max_bytes: int, timeout: float = 20.0) -> bytes:
    """The bytes of an attachment (http(s) download or data: URI), refusing anything over `max_bytes`."""
    if url.startswith("data:"):
        return _data_uri(url, max_bytes)
    if not url.lower().startswith(("https://", "http://")):
        raise DomainError("I can only read files attached in this chat.")
    data = bytearray()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http, http.get(url) as response:
            if response.status != 200:
                raise DomainError(f"I couldn't download the file (HTTP {response.status}). Please attach it again.")
            if (response.content_length or 0) > max_bytes:
                raise too_big(max_bytes)
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise too_big(max_bytes)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DomainError("I couldn't download the file. Please attach it again.") from error
    return bytes(data)


def decode_csv(data: bytes) -> str:
    """The file as text: UTF-8 (with or without BOM) only; binary files (e.g. .xlsx) are refused."""
    if b"\x00" in data or data.startswith(b"PK\x03\x04"):
        raise DomainError("That isn't a CSV file (it looks like a spreadsheet or other binary file). "
                          "Save it as \u201cCSV UTF-8\u201d and send that.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError("That file isn't UTF-8 text. In Excel use Save As \u2192 \u201cCSV UTF-8 (Comma delimited)\u201d "
                          "and send it again.") from error
