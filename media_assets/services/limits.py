"""What WeChat would refuse, told before any upload, in words for the operator (API.md §5)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from media_assets.selectors import materials_usable
from wechat.api import media as wechat_media

# Permanent material caps: the doc pages disagree (API.md §5); the larger published figures are enforced locally
# and WeChat's own answer covers the rest.
MATERIAL_CAPS = {"image": 100_000, "voice": 1_000, "video": 1_000}


def _size(value: int) -> str:
    return f"{value // (1024 * 1024)} MB" if value >= 1024 * 1024 else f"{value // 1024} KB"


def file_refusal(*, kind: str, name: str, size: int) -> str | None:
    """Why WeChat would refuse this file as ``kind``, as a message for the form; None when it is acceptable."""
    refusal = wechat_media.media_refusal(kind=kind, name=name, size=size)
    if refusal is None:
        return None
    limit = wechat_media.LIMITS.get(kind)
    if limit is None:
        return _("Unknown media type.")
    if refusal.errcode == wechat_media.TYPE_ERRCODE:
        return _("WeChat accepts %(kind)s files only as %(formats)s; “%(name)s” is not one.") % {
            "kind": kind,
            "formats": limit.formats,
            "name": name,
        }
    if refusal.errcode == wechat_media.SIZE_ERRCODE:
        return _("“%(name)s” is %(size)s; WeChat takes %(kind)s files up to %(limit)s.") % {
            "name": name,
            "size": _size(size) if size >= 1024 else f"{size} B",
            "kind": kind,
            "limit": _size(limit.max_bytes),
        }
    return _("The file is empty.")


def video_refusal(*, kind: str, title: str) -> str | None:
    if kind != "video":
        return None
    if not title.strip():
        return _("A video material needs a title.")
    if len(title) > wechat_media.VIDEO_TITLE_MAX:
        return _("The title is longer than %(max)s characters.") % {"max": wechat_media.VIDEO_TITLE_MAX}
    return None


def count_refusal(*, account, kind: str) -> str | None:
    """The library is full for this type (counted locally, as last synced)."""
    cap = MATERIAL_CAPS.get(kind)
    if cap is None:
        return None
    if materials_usable(account=account, kinds=[kind]).count() >= cap:
        return _("The account already holds %(cap)s %(kind)s materials, WeChat's limit; delete some first.") % {
            "cap": cap,
            "kind": kind,
        }
    return None
