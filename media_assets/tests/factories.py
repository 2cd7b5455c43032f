"""Factories and small real files for media library tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from media_assets.models import Material, MediaKind, TemporaryMedia
from sandbox import images
from wechat.models import SyncStatus


def upload(name: str = "photo.png", content: bytes | None = None) -> ContentFile:
    return ContentFile(images.png() if content is None else content, name=name)


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material

    kind = MediaKind.IMAGE
    name = factory.Sequence(lambda n: f"picture-{n}.png")
    media_id = factory.Sequence(lambda n: f"material-{n:04d}")
    url = factory.Sequence(lambda n: f"http://mmbiz.qpic.cn/mmbiz_png/{n}/0?wx_fmt=png")
    sync_status = SyncStatus.SYNCED
    synced_at = factory.LazyFunction(timezone.now)


class TemporaryMediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemporaryMedia

    kind = MediaKind.IMAGE
    name = "photo.png"
    file = factory.LazyAttribute(lambda o: ContentFile(images.png(), name=o.name))
    media_id = factory.Sequence(lambda n: f"temporary-{n:04d}")
    uploaded_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=4))
    expires_at = factory.LazyAttribute(lambda o: o.uploaded_at + TemporaryMedia.LIFETIME)
    sync_status = SyncStatus.SYNCED
