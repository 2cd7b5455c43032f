"""Reads of the media library: what pickers offer and what a typed media_id refers to."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Material, MaterialPullJob, TemporaryMedia


def materials_usable(*, account, kinds: Iterable[str] | None = None) -> QuerySet[Material]:
    """Materials on WeChat (a media_id, not removed there), newest first."""
    rows = Material.objects.filter(account=account, removed_on_wechat_at__isnull=True).exclude(media_id="")
    return rows.filter(kind__in=list(kinds)) if kinds is not None else rows


def temporary_media_usable(*, account, kinds: Iterable[str] | None = None) -> QuerySet[TemporaryMedia]:
    """Temporary media that can be sent: still valid on WeChat, or uploaded by us with a file to upload again."""
    now = timezone.now()
    rows = TemporaryMedia.objects.filter(account=account).filter(
        Q(expires_at__gt=now) & ~Q(media_id="") | Q(origin=TemporaryMedia.Origin.UPLOADED) & ~Q(file="")
    )
    return rows.filter(kind__in=list(kinds)) if kinds is not None else rows


def library_entry(*, account, media_id: str, kinds: Iterable[str] | None = None) -> Material | TemporaryMedia | None:
    """The library row a media_id names for this account (a material first), or None when the library lacks it."""
    if not media_id:
        return None
    material = materials_usable(account=account, kinds=kinds).filter(media_id=media_id).first()
    if material is not None:
        return material
    return temporary_media_usable(account=account, kinds=kinds).filter(media_id=media_id).first()


def material_pull_active(*, account) -> MaterialPullJob | None:
    return MaterialPullJob.objects.filter(account=account, status__in=MaterialPullJob.ACTIVE).first()


def material_pull_latest(*, account) -> MaterialPullJob | None:
    return MaterialPullJob.objects.filter(account=account).order_by("-created_at", "-id").first()
