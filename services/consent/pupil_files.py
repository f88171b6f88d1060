"""Getting a pupil CSV's bytes and text: a Teams download URL or a data: URI, size-capped, UTF-8 only.

A download URL comes from the message, so it is untrusted: only https, only the hosts in the policy (Teams files
live on SharePoint / OneDrive), no redirect off the list, and no private, loopback or link-local address after DNS.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from services.errors import DomainError

# Where Teams keeps a file sent in a chat (SharePoint / OneDrive for Business) and OneDrive's download hosts.
TEAMS_FILE_HOSTS = ("*.sharepoint.com", "*.sharepoint.us", "*.svc.ms", "*.1drv.com", "onedrive.live.com")
MAX_REDIRECTS = 5


def not_from_teams() -> DomainError:
    """The refusal for a link that isn't a Teams file download."""
    return DomainError("I can only read files attached to this chat in Teams. Please attach the file again.")


def not_downloaded() -> DomainError:
    """A download that failed; never says what the other server answered."""
    return DomainError("I couldn't download the file. Please attach it again.")


@dataclass(frozen=True)
class FilePolicy:
    """Where attachment files may be downloaded from."""

    hosts: tuple[str, ...] = TEAMS_FILE_HOSTS  # exact host names, or "*.example.com" for any host under it
    schemes: tuple[str, ...] = ("https",)
    public_only: bool = True  # refuse private, loopback, link-local ... addresses (checked after DNS)

    def allows(self, url: URL) -> bool:
        """True when the URL's scheme and host are on the list (and a literal address is public, if required)."""
        host = (url.host or "").lower().rstrip(".")
        if url.scheme not in self.schemes or not host or url.user or url.password:
            return False
        if self.public_only and _is_address(host) and not _public(host):
            return False
        return any(host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])) for allowed in self.hosts)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _Refused(OSError):
    """A name that resolves to an address the policy refuses."""


class PublicResolver(AbstractResolver):
    """DNS that refuses a name if any of its addresses is not public; the connection uses exactly these addresses."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not found or not all(_public(item["host"]) for item in found):
            raise _Refused(host)
        return found

    async def close(self) -> None:
        await self._inner.close()


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


async def fetch_file(url: str, *, max_bytes: int, policy: FilePolicy, timeout: float = 20.0) -> bytes:
    """The bytes of an attachment (a download the policy allows, or a data: URI), refusing anything over `max_bytes`."""
    if url.startswith("data:"):
        return _data_uri(url, max_bytes)
    try:
        target = URL(url)
    except ValueError as error:
        raise not_from_teams() from error
    connector = aiohttp.TCPConnector(resolver=PublicResolver()) if policy.public_only else aiohttp.TCPConnector()
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            for _ in range(MAX_REDIRECTS + 1):
                if not policy.allows(target):
                    raise not_from_teams()
                async with http.get(target, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                        target = response.url.join(URL(response.headers["Location"]))
                        continue
                    if response.status != 200:
                        raise not_downloaded()
                    return await _read(response, max_bytes)
            raise not_downloaded()
    except aiohttp.ClientConnectorError as error:
        raise (not_from_teams() if isinstance(error.os_error, _Refused) else not_downloaded()) from error
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise not_downloaded() from error


async def _read(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if (response.content_length or 0) > max_bytes:
        raise too_big(max_bytes)
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > max_bytes:
            raise too_big(max_bytes)
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
