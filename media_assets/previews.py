"""How a library file is shown: a thumbnail, an audio or a video player, served through the admin (account-scoped)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .models import Material, MediaKind, TemporaryMedia

IMAGE_KINDS = (MediaKind.IMAGE, MediaKind.THUMB)


def file_url(entry: Material | TemporaryMedia) -> str:
    """The admin address that serves the entry's local file (checked against the operator's accounts)."""
    if not entry.file:
        return ""
    name = "admin:media_assets_material_file" if isinstance(entry, Material) else "admin:media_assets_temporarymedia_file"
    return reverse(name, args=[entry.pk])


def preview(entry: Material | TemporaryMedia | None, *, size: int = 120):
    """HTML for the entry: an <img>, <audio> or <video>, or a labelled placeholder when there is no local file."""
    if entry is None:
        return ""
    url = file_url(entry)
    if entry.kind in IMAGE_KINDS and url:
        return format_html(
            '<img class="media-preview" src="{}" alt="{}" loading="lazy" style="max-width:{}px;max-height:{}px;object-fit:cover">',
            url,
            entry.name,
            size,
            size,
        )
    if entry.kind == MediaKind.VOICE and url:
        return format_html(
            '<audio class="media-preview" controls preload="none" src="{}" style="width:{}px"></audio>', url, max(size, 200)
        )
    if entry.kind == MediaKind.VIDEO and (url or getattr(entry, "video_url", "")):
        if url:
            return format_html(
                '<video class="media-preview" controls preload="metadata" src="{}" style="max-width:{}px"></video>',
                url,
                max(size, 200),
            )
        return format_html(
            '<a class="media-preview" href="{}" target="_blank" rel="noopener">{}</a>',
            entry.video_url,
            _("Video (link from WeChat)"),
        )
    if entry.kind in IMAGE_KINDS and getattr(entry, "url", ""):
        # Pulled image whose bytes are not here yet: WeChat's URL works only on Tencent pages, so name it instead.
        return format_html('<span class="media-preview media-missing">{} {}</span>', "🖼", entry.name or entry.media_id[:12])
    return format_html('<span class="media-preview media-missing">{}</span>', entry.get_kind_display())
