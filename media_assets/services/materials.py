"""Permanent materials (永久素材): create locally and upload, re-upload, delete (API.md §5).

Limits WeChat states (size, format, a video's title, the library's size) are checked before the row is saved,
so a refused file leaves nothing behind and makes no call. The upload itself runs in a task after commit
(``material_sync``); its result is on the row: media_id and url, or the failed state with WeChat's errcode and
meaning. A material WeChat no longer has (deleted in its console) is marked ``removed_on_wechat_at``; syncing it
again uploads the local file as a new material.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone

import jobs
from media_assets.files import base_name, content_type_for, sniff
from media_assets.models import Material
from wechat.api import media as wechat_media
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .limits import count_refusal, file_refusal, video_refusal

logger = logging.getLogger(__name__)

REMOVED_ON_WECHAT = WeChatError(40007).display


def material_check(*, account, kind: str, name: str, size: int, title: str = "") -> dict[str, str]:
    """Field → message for everything WeChat would refuse about this upload; empty when it may go."""
    errors = {}
    if message := file_refusal(kind=kind, name=name, size=size):
        errors["file"] = message
    if message := video_refusal(kind=kind, title=title):
        errors["title"] = message
    if not errors and (message := count_refusal(account=account, kind=kind)):
        errors["kind"] = message
    return errors


def material_create(*, account, kind: str, upload: File, title: str = "", description: str = "", user=None) -> Material:
    """Save a new material and enqueue its upload. Raises ``ValidationError`` (by field) before anything is saved."""
    name = base_name(upload.name)
    errors = material_check(account=account, kind=kind, name=name, size=upload.size, title=title)
    if errors:
        raise ValidationError(errors)
    material = Material(
        account=account,
        kind=kind,
        name=name,
        size=upload.size,
        title=title.strip(),
        description=description.strip(),
        created_by=user if user is not None and user.is_authenticated else None,
        sync_status=SyncStatus.PENDING,
    )
    material.file.save(name, upload, save=False)
    material.save()
    _enqueue_sync(material.pk)
    return material


def _enqueue_sync(material_id: int) -> None:
    task = jobs.task("media_assets.tasks.material_sync")

    transaction.on_commit(lambda: task.delay(material_id))


def _read(material: Material) -> bytes:
    with material.file.open("rb") as handle:
        return handle.read()


def material_sync(*, material_id: int, last_attempt: bool = True) -> Material | None:
    """Upload one pending material (claimed, so two workers never upload it twice) and record WeChat's answer."""
    claimed = Material.objects.filter(pk=material_id, sync_status=SyncStatus.PENDING)
    if not claimed.update(sync_status=SyncStatus.SYNCING):
        return None
    material = Material.objects.select_related("account").get(pk=material_id)
    rows = Material.objects.filter(pk=material.pk, sync_status=SyncStatus.SYNCING)
    if material.media_id and material.removed_on_wechat_at is None:
        rows.update(sync_status=SyncStatus.SYNCED, synced_at=timezone.now(), last_error="")
        return material
    if not material.file:
        rows.update(sync_status=SyncStatus.FAILED, last_error=REMOVED_ON_WECHAT[:255])
        return material
    media = wechat_media.MediaFile(material.name or material.file.name, _read(material), content_type_for(material.name))
    try:
        added = wechat_media.material_add(
            account=material.account, kind=material.kind, media=media, title=material.title, introduction=material.description
        )
    except WeChatError as exc:
        status = SyncStatus.PENDING if exc.is_transient and not last_attempt else SyncStatus.FAILED
        rows.update(sync_status=status, last_error=exc.display[:255])
        logger.warning("media_assets.material_upload_failed", extra={"material_id": material.pk, "errcode": exc.errcode})
        raise
    now = timezone.now()
    rows.update(
        media_id=added.media_id,
        url=added.url,
        wechat_update_time=now,
        removed_on_wechat_at=None,
        sync_status=SyncStatus.SYNCED,
        synced_at=now,
        last_error="",
    )
    material.refresh_from_db()
    return material


def materials_sync(*, materials) -> int:
    """Bulk "sync": upload again every selected material that is not on WeChat (failed, pending or removed there)."""
    ids = []
    for material in materials.exclude(sync_status=SyncStatus.SYNCING):
        if material.media_id and material.removed_on_wechat_at is None and material.sync_status == SyncStatus.SYNCED:
            continue
        if not material.file:
            continue
        ids.append(material.pk)
    Material.objects.filter(pk__in=ids).update(sync_status=SyncStatus.PENDING, last_error="")
    for material_id in ids:
        _enqueue_sync(material_id)
    return len(ids)


def material_delete(*, material: Material) -> None:
    """Delete on WeChat, then here. 40007 (already gone) counts as deleted; another refusal (48005: used by a menu
    or auto-reply) stays on the row and is raised."""
    if material.media_id and material.removed_on_wechat_at is None:
        try:
            wechat_media.material_delete(account=material.account, media_id=material.media_id)
        except WeChatError as exc:
            if exc.errcode != 40007:
                Material.objects.filter(pk=material.pk).update(last_error=exc.display[:255])
                raise
    if material.file:
        material.file.delete(save=False)
    material.delete()


def material_mark_removed(*, account, media_ids) -> int:
    """WeChat no longer has these materials (a pull did not list them, or a call answered 40007)."""
    return (
        Material.objects.filter(account=account, media_id__in=list(media_ids), removed_on_wechat_at__isnull=True)
        .exclude(media_id="")
        .update(removed_on_wechat_at=timezone.now(), sync_status=SyncStatus.FAILED, last_error=REMOVED_ON_WECHAT[:255])
    )


def material_file_fetch(*, material_id: int) -> bool:
    """Download the bytes of a pulled image or voice material that has no local file (for thumbnails and players);
    for a video, its title and description."""
    material = Material.objects.select_related("account").get(pk=material_id)
    if material.file or not material.media_id:
        return False
    content = wechat_media.material_get(account=material.account, media_id=material.media_id)
    if isinstance(content, wechat_media.VideoMaterial):
        # A video comes as its title, description and a download link; the title is what the grid shows.
        Material.objects.filter(pk=material.pk).update(
            title=material.title or content.title[:64], description=material.description or content.description[:255]
        )
        return True
    if not isinstance(content, bytes):
        return False
    extension, _ = sniff(content, kind=material.kind)
    name = material.name or f"{material.media_id[:16]}.{extension}"
    material.file.save(name, ContentFile(content), save=False)
    Material.objects.filter(pk=material.pk).update(file=material.file.name, size=len(content), name=name)
    return True
