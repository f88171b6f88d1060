"""Sending files in a personal chat through Teams' file-consent flow (msteams-docs bots-filesv4).

The bot sends a FileConsentCard; the bytes wait in the database under an opaque id carried in the card's
context. Allow arrives as a `fileConsent/invoke` with an upload URL in the person's OneDrive: the bot PUTs the
bytes there and answers with a FileInfoCard. Decline, or 24 hours, and the bytes are gone.
"""

from __future__ import annotations

import logging

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCardResponse, FileUploadInfo

from dialogs.feature import Deps, actor_of
from dialogs.kit.replies import SEND_FAILURES
from services import held_files

log = logging.getLogger(__name__)

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60)
UPLOADED = frozenset({200, 201})  # an upload session answers 201 (or 200) once the last byte is in
EXPIRED = "That file has expired (files wait 24 hours for you to press Allow). Please ask for it again."


def consent_activity(file_id: str, name: str, size: int, description: str) -> Activity:
    """A FileConsentCard for a held file: name and size to show, the file's id as the context."""
    context = {"file": file_id}
    card = {"description": description, "sizeInBytes": size, "acceptContext": context, "declineContext": context}
    activity = MessageFactory.attachment(Attachment(content_type=FILE_CONSENT, name=name, content=card))
    activity.summary = f"File: {name}"
    return activity


def file_info_activity(upload: FileUploadInfo) -> Activity:
    """A FileInfoCard pointing at the uploaded file (what Teams shows as the file in the chat)."""
    card = {"uniqueId": upload.unique_id, "fileType": upload.file_type}
    activity = MessageFactory.attachment(Attachment(content_type=FILE_INFO, name=upload.name,
                                                    content_url=upload.content_url, content=card))
    activity.text = f"Uploaded: {upload.name}"
    return activity


async def offer_file(context: TurnContext, deps: Deps, *, name: str, content: bytes, description: str,
                     again: str, audit_action: str = "") -> None:
    """Hold `content` and send its consent card; if Teams won't take the card, say so plainly (never a failure
    of the work already saved) with how to ask `again`."""
    actor = actor_of(context)
    async with deps.sessions() as session:
        held = await held_files.hold(session, actor=actor, name=name, content=content, audit_action=audit_action,
                                     now=deps.clock())
    try:
        await context.send_activity(consent_activity(held.id, name, len(content), description))
    except SEND_FAILURES as error:
        log.warning("file consent card not delivered (%s) in conversation %s", type(error).__name__,
                    context.activity.conversation.id if context.activity.conversation else None)
        async with deps.sessions() as session:
            await held_files.drop(session, held.id)
        try:
            await context.send_activity(f"The file {name} couldn't be sent. {again}")
        except SEND_FAILURES as again_error:
            log.warning("could not say the file was not sent: %s", type(again_error).__name__)


def _file_id(response: FileConsentCardResponse) -> str:
    context = response.context if isinstance(response.context, dict) else {}
    value = context.get("file")
    return value if isinstance(value, str) else ""


async def upload(url: str, content: bytes) -> bool:
    """PUT the whole file to a Teams upload URL in one request; True when it is complete."""
    size = len(content)
    headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
    try:
        async with aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT) as http, \
                http.put(url, data=content, headers=headers) as response:
            return response.status in UPLOADED
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("file upload failed: %s", type(error).__name__)
        return False


async def accept(context: TurnContext, deps: Deps, response: FileConsentCardResponse) -> None:
    """Allow pressed: upload the held bytes, show the file, audit the export and forget the bytes."""
    actor, info = actor_of(context), response.upload_info
    async with deps.sessions() as session:
        held = await held_files.claim(session, file_id=_file_id(response), actor=actor, now=deps.clock())
        if held is None:
            await context.send_activity(EXPIRED)
            return
        if info is None or not isinstance(info.upload_url, str) or not await upload(info.upload_url, held.content):
            log.warning("file %s not uploaded for tenant %s", held.id[:6], actor.tenant_id)
            await context.send_activity(f"I couldn't put {held.name} in your OneDrive. Press Allow again, "
                                        "or ask for the file again later.")
            return
        await held_files.delivered(session, held, deps.clock())
    await context.send_activity(file_info_activity(info))


async def decline(context: TurnContext, deps: Deps, response: FileConsentCardResponse) -> None:
    """Decline pressed: forget the bytes and say so."""
    async with deps.sessions() as session:
        held = await held_files.claim(session, file_id=_file_id(response), actor=actor_of(context), now=deps.clock())
        if held is not None:
            await held_files.forget(session, held)
    name = held.name if held is not None else "the file"
    await context.send_activity(f"OK, I haven't sent {name}, and I haven't kept it. Ask again whenever you need it.")
