"""QR scenes: checked against WeChat's limits, created on WeChat by a task, rendered to PNG locally."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import qrcode
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M

import jobs
from messaging.enqueue import task_enqueue_on_commit
from qrcodes.models import QRKind, QRScene
from wechat.api import qrcodes as wechat_qrcodes
from wechat.errors import WeChatError
from wechat.models import SyncStatus

logger = logging.getLogger(__name__)

MAX_EXPIRE_SECONDS = wechat_qrcodes.MAX_EXPIRE_SECONDS
PERMANENT_SCENE_ID_MAX = wechat_qrcodes.PERMANENT_SCENE_ID_MAX
TEMPORARY_SCENE_ID_MAX = wechat_qrcodes.TEMPORARY_SCENE_ID_MAX
SCENE_STR_MAX_CHARS = wechat_qrcodes.SCENE_STR_MAX_CHARS
DEFAULT_EXPIRE_SECONDS = 2_592_000
LOGO_SHARE = 0.22  # the logo's width as a share of the code's; error correction H restores up to 30 %


def scene_clean(*, scene: QRScene) -> None:
    """WeChat's limits (API.md §7) and one scene value per account; raises ValidationError by field."""
    errors: dict[str, list[str]] = {}
    has_id, has_str = scene.scene_id is not None, bool(scene.scene_str)
    if has_id == has_str:
        errors.setdefault("scene_id", []).append(_("Give either a scene id or a scene string, not both."))
    elif has_id:
        high = PERMANENT_SCENE_ID_MAX if scene.permanent else TEMPORARY_SCENE_ID_MAX
        if not 1 <= scene.scene_id <= high:
            errors.setdefault("scene_id", []).append(
                _("A %(kind)s code's scene id must be between 1 and %(max)s.")
                % {"kind": scene.get_kind_display(), "max": f"{high:,}"}
            )
    elif len(scene.scene_str) > SCENE_STR_MAX_CHARS:
        errors.setdefault("scene_str", []).append(_("A scene string has at most 64 characters."))
    if scene.permanent:
        scene.expire_seconds = None
    elif scene.expire_seconds is None or not 1 <= scene.expire_seconds <= MAX_EXPIRE_SECONDS:
        errors.setdefault("expire_seconds", []).append(_("A temporary code expires after 1 to 2,592,000 seconds (30 days)."))
    scene.scene_key = str(scene.scene_id) if has_id else scene.scene_str
    if not errors and scene.scene_key:
        taken = QRScene.objects.filter(account_id=scene.account_id, scene_key=scene.scene_key).exclude(pk=scene.pk)
        if taken.exists():
            field = "scene_id" if has_id else "scene_str"
            errors.setdefault(field, []).append(_("This account already has a QR code for scene “%s”.") % scene.scene_key)
    if errors:
        raise ValidationError(errors)


def _sync_enqueue(scene_id: int) -> None:
    qr_scene_sync = jobs.task("qrcodes.tasks.qr_scene_sync")

    # A broker outage leaves the scene pending; "Create again on WeChat" in the admin queues it again.
    task_enqueue_on_commit(qr_scene_sync, scene_id)


def scene_save(*, scene: QRScene) -> QRScene:
    """Save a new scene (or a changed name, logo or actions) locally; a new scene is created on WeChat by a task."""
    creating = scene.pk is None
    if not creating:
        # Kind, scene and expiry are WeChat's once the code exists: a changed one would not match the printed code.
        stored = QRScene.objects.get(pk=scene.pk)
        scene.kind, scene.scene_id, scene.scene_str = stored.kind, stored.scene_id, stored.scene_str
        scene.expire_seconds = stored.expire_seconds
    scene_clean(scene=scene)
    scene.full_clean(exclude=["tags", "reply_rule", "campaign", "logo"])
    with transaction.atomic():
        if creating:
            scene.sync_status = SyncStatus.PENDING
        scene.save()
        if creating:
            _sync_enqueue(scene.pk)
    return scene


def scene_create(
    *,
    account,
    name: str,
    kind: str = QRKind.TEMPORARY,
    scene_id: int | None = None,
    scene_str: str = "",
    expire_seconds: int | None = DEFAULT_EXPIRE_SECONDS,
    tags=(),
    reply_rule=None,
    campaign=None,
) -> QRScene:
    scene = QRScene(
        account=account,
        name=name,
        kind=kind,
        scene_id=scene_id,
        scene_str=scene_str,
        expire_seconds=None if kind == QRKind.PERMANENT else expire_seconds,
        reply_rule=reply_rule,
        campaign=campaign,
    )
    with transaction.atomic():
        scene_save(scene=scene)
        if tags:
            scene.tags.set(tags)
    return scene


def scene_renew(*, scene: QRScene) -> bool:
    """Ask WeChat for a new ticket for an expired (or failed) temporary code. Returns whether one was queued."""
    if scene.permanent and scene.sync_status == SyncStatus.SYNCED:
        return False
    if (
        not QRScene.objects.filter(pk=scene.pk)
        .exclude(sync_status=SyncStatus.SYNCING)
        .update(sync_status=SyncStatus.PENDING, last_error="")
    ):
        return False
    _sync_enqueue(scene.pk)
    return True


def scene_sync(*, scene_id: int, last_attempt: bool = True) -> QRScene | None:
    """Create one pending scene's code on WeChat and store ticket, url and expiry. Only a pending row is claimed."""
    if not QRScene.objects.filter(pk=scene_id, sync_status=SyncStatus.PENDING).update(sync_status=SyncStatus.SYNCING):
        return None
    scene = QRScene.objects.select_related("account").get(pk=scene_id)
    started = timezone.now()
    try:
        code = wechat_qrcodes.qrcode_create(
            account=scene.account,
            permanent=scene.permanent,
            scene_id=scene.scene_id,
            scene_str=scene.scene_str,
            expire_seconds=scene.expire_seconds,
        )
    except WeChatError as exc:
        status = SyncStatus.PENDING if exc.is_transient and not last_attempt else SyncStatus.FAILED
        QRScene.objects.filter(pk=scene_id, sync_status=SyncStatus.SYNCING).update(
            sync_status=status, last_error=exc.display[:255]
        )
        logger.warning("qrcodes.create_failed", extra={"scene_id": scene_id, "errcode": exc.errcode, "status": status})
        raise
    expires_at = None if code.expire_seconds is None else started + timedelta(seconds=code.expire_seconds)
    QRScene.objects.filter(pk=scene_id, sync_status=SyncStatus.SYNCING).update(
        ticket=code.ticket,
        url=code.url,
        expires_at=expires_at,
        sync_status=SyncStatus.SYNCED,
        synced_at=timezone.now(),
        last_error="",
    )
    logger.info("qrcodes.created", extra={"scene_id": scene_id, "appid": scene.account.appid})
    scene.refresh_from_db()
    return scene


def qr_png(*, content: str, logo=None, box_size: int = 10, border: int = 4) -> bytes:
    """A PNG of ``content`` (the code's url), with an optional logo in the middle (error correction H then)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H if logo else ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(content)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    if logo:
        mark = Image.open(logo).convert("RGBA")
        side = int(image.width * LOGO_SHARE)
        mark.thumbnail((side, side))
        pad = max(4, side // 12)
        backing = Image.new("RGBA", (mark.width + 2 * pad, mark.height + 2 * pad), "white")
        backing.alpha_composite(mark, (pad, pad))
        image.paste(backing, ((image.width - backing.width) // 2, (image.height - backing.height) // 2), backing)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def scene_png(*, scene: QRScene, box_size: int = 10) -> bytes:
    """The scene's code as a PNG, rendered from WeChat's url; ValueError before WeChat created it."""
    if not scene.url:
        raise ValueError("the code has no url yet")
    logo = None
    if scene.logo:
        scene.logo.open("rb")
        logo = io.BytesIO(scene.logo.read())
        scene.logo.close()
    return qr_png(content=scene.url, logo=logo, box_size=box_size)
