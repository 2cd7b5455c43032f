"""Covers and drafts for the article tests: materials really uploaded to the sandbox, drafts saved through the service."""

import io

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from media_assets.models import Draft, Material
from media_assets.services import drafts as draft_services
from wechat.api import media as media_api
from wechat.models import SyncStatus


def png_bytes(size=(16, 9), colour=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def cover_material(account, *, name: str = "cover.png") -> Material:
    """An image material on WeChat (the sandbox) and in the library, with its local file."""
    content = png_bytes()
    added = media_api.material_add(
        account=account, kind="image", media=media_api.MediaFile(name=name, content=content, content_type="image/png")
    )
    material = Material(
        account=account,
        kind="image",
        name=name,
        size=len(content),
        media_id=added.media_id,
        url=added.url,
        sync_status=SyncStatus.SYNCED,
        synced_at=timezone.now(),
    )
    material.file.save(name, ContentFile(content), save=False)
    material.save()
    return material


def article_input(cover, **fields) -> draft_services.ArticleInput:
    values = {"title": "春季上新", "content": "<p>欢迎来到<strong>春季</strong>上新。</p>", "cover": cover, "author": "小编"}
    values.update(fields)
    return draft_services.ArticleInput(**values)


def saved_draft(account, cover, *, titles=("第一篇", "第二篇"), **fields) -> Draft:
    """A draft saved and synced to the sandbox (run inside django_capture_on_commit_callbacks(execute=True))."""
    return draft_services.draft_save(account=account, articles=[article_input(cover, title=t, **fields) for t in titles])
