"""Temporary media (临时素材): upload from the admin or as part of a send; a media_id lives 3 days (API.md §5).

The local file is what we keep. ``media_id_for_use`` gives a media_id WeChat still holds, uploading the file again
(under a row lock, so concurrent senders upload once) when the last one has expired or is about to.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

from media_assets.files import base_name, content_type_for
from media_assets.models import TemporaryMedia
from wechat.api import media as wechat_media
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .limits import file_refusal

logger = logging.getLogger(__name__)

# A media_id this close to its expiry is replaced before use: the message that carries it must still find it.
EXPIRY_MARGIN = timedelta(minutes=10)


class MediaUnavailable(WeChatError):
    """The media cannot be sent: WeChat no longer holds it (40007) and there is no local file to upload again."""

    def __init__(self, errmsg: str = "temporary media expired and its file is gone"):
        super().__init__(40007, errmsg)


def temporary_media_create(*, account, kind: str, upload: File, user=None, send_now: bool = True) -> TemporaryMedia:
    """Save a file as temporary media and upload it. Raises ``ValidationError`` before anything is saved when WeChat
    would refuse the file; a WeChat error on upload is kept on the row (and raised)."""
    name = base_name(upload.name)
    if message := file_refusal(kind=kind, name=name, size=upload.size):
        raise ValidationError({"file": message})
    media = TemporaryMedia(
        account=account,
        kind=kind,
        name=name,
        size=upload.size,
        content_type=content_type_for(name),
        created_by=user if user is not None and user.is_authenticated else None,
    )
    media.file.save(name, upload, save=False)
    media.save()
    if send_now:
        temporary_media_upload(media=media)
    return media


def temporary_media_create_from_bytes(*, account, kind: str, name: str, content: bytes, user=None) -> TemporaryMedia:
    return temporary_media_create(account=account, kind=kind, upload=ContentFile(content, name=name), user=user)


def temporary_media_upload(*, media: TemporaryMedia) -> TemporaryMedia:
    """Upload the local file now and store the new media_id and expiry (3 days from WeChat's created_at)."""
    with media.file.open("rb") as handle:
        content = handle.read()
    upload = wechat_media.MediaFile(media.name or media.file.name, content, media.content_type or content_type_for(media.name))
    try:
        uploaded = wechat_media.media_upload(account=media.account, kind=media.kind, media=upload)
    except WeChatError as exc:
        TemporaryMedia.objects.filter(pk=media.pk).update(sync_status=SyncStatus.FAILED, last_error=exc.display[:255])
        media.sync_status, media.last_error = SyncStatus.FAILED, exc.display[:255]
        logger.warning("media_assets.temporary_upload_failed", extra={"media_id": media.pk, "errcode": exc.errcode})
        raise
    now = timezone.now()
    uploaded_at = uploaded.created_at or now
    fields = {
        "media_id": uploaded.media_id,
        "uploaded_at": uploaded_at,
        "expires_at": uploaded_at + TemporaryMedia.LIFETIME,
        "sync_status": SyncStatus.SYNCED,
        "synced_at": now,
        "last_error": "",
    }
    TemporaryMedia.objects.filter(pk=media.pk).update(**fields)
    for field, value in fields.items():
        setattr(media, field, value)
    logger.info("media_assets.temporary_uploaded", extra={"media_id": media.pk, "appid": media.account.appid})
    return media


def media_id_for_use(*, media: TemporaryMedia) -> str:
    """A media_id WeChat holds for this file now: the stored one, or a new upload when it expired (or soon will)."""
    if not media.is_expired(now=timezone.now() + EXPIRY_MARGIN):
        return media.media_id
    with transaction.atomic():
        locked = TemporaryMedia.objects.select_for_update().select_related("account").get(pk=media.pk)
        if not locked.is_expired(now=timezone.now() + EXPIRY_MARGIN):
            media.media_id, media.expires_at = locked.media_id, locked.expires_at
            return locked.media_id
        if not locked.file:
            raise MediaUnavailable()
        temporary_media_upload(media=locked)
    media.media_id, media.expires_at, media.uploaded_at = locked.media_id, locked.expires_at, locked.uploaded_at
    return locked.media_id


def media_id_for_send(*, account, media_id: str) -> str:
    """The media_id to put in a message that names ``media_id``: a temporary media's current one (uploaded again if it
    expired), any other id unchanged (permanent materials do not expire)."""
    media = TemporaryMedia.objects.select_related("account").filter(account=account, media_id=media_id).first()
    if media is None:
        return media_id
    return media_id_for_use(media=media)


MEDIA_KEYS = ("media_id", "thumb_media_id")


def payload_media_fresh(*, account, payload: dict) -> dict:
    """A customer-service payload (``{"msgtype": t, t: {...}}``) with its temporary media_ids made current."""
    msgtype = payload.get("msgtype")
    body = payload.get(msgtype) if msgtype else None
    if not isinstance(body, dict):
        return payload
    fresh = {key: media_id_for_send(account=account, media_id=body[key]) for key in MEDIA_KEYS if body.get(key)}
    if all(body[key] == value for key, value in fresh.items()):
        return payload
    return {**payload, msgtype: {**body, **fresh}}


def outgoing_media_fresh(*, account, message):
    """A ``wechat.outgoing`` value with the temporary media_ids it names made current (other ids unchanged)."""
    changes = {}
    for key in MEDIA_KEYS:
        value = getattr(message, key, "")
        if value:
            changes[key] = media_id_for_send(account=account, media_id=value)
    if getattr(message, "media_ids", None):
        changes["media_ids"] = tuple(media_id_for_send(account=account, media_id=m) for m in message.media_ids)
    return replace(message, **changes) if changes else message
