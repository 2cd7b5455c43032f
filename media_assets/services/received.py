"""Files followers send (image, voice, video, short video): kept with the inbound message (API.md §5).

WeChat keeps them 3 days, so a task downloads each one (media/get) right after the message is stored.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

import jobs
from media_assets.files import sniff
from media_assets.models import MediaKind, TemporaryMedia
from wechat.api import media as wechat_media
from wechat.errors import WeChatError
from wechat.models import SyncStatus

logger = logging.getLogger(__name__)

# MsgType (lower case) → the kind of temporary media it carries in MediaId.
FOLLOWER_MEDIA_TYPES = {
    "image": MediaKind.IMAGE,
    "voice": MediaKind.VOICE,
    "video": MediaKind.VIDEO,
    "shortvideo": MediaKind.VIDEO,
}


def received_media_record(*, account, msg_type: str, media_id: str, sent_at=None) -> TemporaryMedia | None:
    """The temporary media row for a file a follower sent (one per media_id), its download enqueued after commit."""
    kind = FOLLOWER_MEDIA_TYPES.get((msg_type or "").lower())
    if kind is None or not media_id:
        return None
    sent_at = sent_at or timezone.now()
    media, created = TemporaryMedia.objects.get_or_create(
        account=account,
        media_id=media_id,
        defaults={
            "kind": kind,
            "origin": TemporaryMedia.Origin.RECEIVED,
            "uploaded_at": sent_at,
            "expires_at": sent_at + TemporaryMedia.LIFETIME,
            "sync_status": SyncStatus.PENDING,
        },
    )
    if created:
        task = jobs.task("media_assets.tasks.received_media_download")

        transaction.on_commit(lambda: task.delay(media.pk))
    return media


def received_media_download(*, media_pk: int, last_attempt: bool = True) -> TemporaryMedia | None:
    """Download one follower's file (claimed) and keep it with Django's storage; a video may come as a link."""
    if not TemporaryMedia.objects.filter(pk=media_pk, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    media = TemporaryMedia.objects.select_related("account").get(pk=media_pk)
    rows = TemporaryMedia.objects.filter(pk=media.pk, sync_status=SyncStatus.SYNCING)
    try:
        downloaded = wechat_media.media_get(account=media.account, media_id=media.media_id)
    except WeChatError as exc:
        status = SyncStatus.PENDING if exc.is_transient and not last_attempt else SyncStatus.FAILED
        rows.update(sync_status=status, last_error=exc.display[:255])
        logger.warning("media_assets.received_download_failed", extra={"media_id": media.pk, "errcode": exc.errcode})
        raise
    fields = {"sync_status": SyncStatus.SYNCED, "synced_at": timezone.now(), "last_error": ""}
    if downloaded.content:
        extension, content_type = sniff(downloaded.content, kind=media.kind)
        name = f"{media.media_id[:24]}.{extension}"
        media.file.save(name, ContentFile(downloaded.content), save=False)
        fields.update(file=media.file.name, name=name, size=len(downloaded.content), content_type=content_type)
    else:
        fields.update(video_url=downloaded.video_url, content_type="video/mp4")
    rows.update(**fields)
    media.refresh_from_db()
    return media
