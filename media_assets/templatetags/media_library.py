"""Template tags for showing library files: ``{% media_preview entry 150 %}``, ``{% media_sync_badge entry %}``."""

from django import template

from accounts.admin_base import sync_badge
from media_assets.previews import preview

register = template.Library()


@register.simple_tag
def media_preview(entry, size: int = 120):
    return preview(entry, size=int(size))


@register.simple_tag
def media_sync_badge(entry):
    return sync_badge(entry.sync_status, entry.get_sync_status_display(), entry.last_error)
