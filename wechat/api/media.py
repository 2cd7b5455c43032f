"""Temporary media (临时素材) and permanent materials (永久素材) (API.md §5).

Uploads are multipart (field ``media``; a video material also sends ``description`` as a JSON form field). The
limits WeChat states are checked here before any request: a file over its size or of a format WeChat refuses,
or a video material without a title, raises ``MediaRefused`` carrying the errcode WeChat itself would answer
(45001 size, 40004 type, 40035 parameter), so a stored row shows the same error whether WeChat or we refused it.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

KINDS = ("image", "voice", "video", "thumb")
# batchget_material knows these types (thumbs are listed with images; news is the retired 图文 material).
LIST_KINDS = ("image", "voice", "video", "news")
BATCHGET_MAX = 20

MB = 1024 * 1024


@dataclass(frozen=True)
class MediaLimit:
    max_bytes: int
    extensions: tuple[str, ...]

    @property
    def formats(self) -> str:
        return "/".join(ext.upper() for ext in self.extensions)


# API.md §5 (sources disagree on the image size: the smaller, 2 MB, is enforced). The same limits hold for
# permanent materials, whose documented limits are no smaller.
LIMITS: dict[str, MediaLimit] = {
    "image": MediaLimit(2 * MB, ("png", "jpeg", "jpg", "gif")),
    "voice": MediaLimit(2 * MB, ("amr", "mp3")),
    "video": MediaLimit(10 * MB, ("mp4",)),
    "thumb": MediaLimit(64 * 1024, ("jpg", "jpeg")),
}
# Voice is also limited to 60 s; its length is not read locally, so WeChat's answer (45007) is what tells.
VIDEO_TITLE_MAX = 64
# What WeChat answers for a file it refuses (API.md §12): size, type, a missing parameter.
SIZE_ERRCODE = 45001
TYPE_ERRCODE = 40004
PARAMETER_ERRCODE = 40035


class MediaRefused(WeChatError):
    """Refused before any request, with the errcode WeChat would have answered."""

    def __init__(self, errcode: int, errmsg: str, *, endpoint: str = ""):
        super().__init__(errcode, errmsg, endpoint=endpoint)


@dataclass(frozen=True)
class MediaFile:
    """A file to upload: its name (the extension tells the format), bytes and MIME type."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"

    @property
    def extension(self) -> str:
        return posixpath.splitext(self.name)[1].lstrip(".").lower()


@dataclass(frozen=True)
class UploadedMedia:
    kind: str
    media_id: str
    created_at: datetime


@dataclass(frozen=True)
class DownloadedMedia:
    """media/get: the bytes of an image, voice or thumb; a video comes as a link instead."""

    content: bytes = b""
    video_url: str = ""


@dataclass(frozen=True)
class AddedMaterial:
    media_id: str
    url: str = ""  # images only


@dataclass(frozen=True)
class VideoMaterial:
    title: str
    description: str
    down_url: str


@dataclass(frozen=True)
class MaterialCount:
    image: int
    voice: int
    video: int
    news: int


@dataclass(frozen=True)
class RemoteMaterial:
    media_id: str
    update_time: datetime | None
    name: str = ""
    url: str = ""
    news_item: list = field(default_factory=list)


@dataclass(frozen=True)
class MaterialPage:
    total_count: int
    item_count: int
    items: list[RemoteMaterial]


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


def media_refusal(*, kind: str, name: str, size: int) -> MediaRefused | None:
    """Why WeChat would refuse this file for ``kind`` (type or size), or None when it is within the limits."""
    limit = LIMITS.get(kind)
    if limit is None:
        return MediaRefused(TYPE_ERRCODE, f"unknown media type {kind!r}")
    extension = posixpath.splitext(name)[1].lstrip(".").lower()
    if extension not in limit.extensions:
        return MediaRefused(TYPE_ERRCODE, f"{kind} must be {limit.formats}, not {extension.upper() or 'unknown'}")
    if size > limit.max_bytes:
        return MediaRefused(SIZE_ERRCODE, f"{kind} is {size} bytes, over the limit of {limit.max_bytes}")
    if size <= 0:
        return MediaRefused(41005, "empty file")
    return None


def _refuse_unless_acceptable(kind: str, media: MediaFile, endpoint: Endpoint) -> None:
    refusal = media_refusal(kind=kind, name=media.name, size=len(media.content))
    if refusal is not None:
        refusal.endpoint = endpoint.path
        raise refusal


def _files(media: MediaFile) -> dict:
    # Bytes, not a stream: the gateway may send the request twice (a rejected access_token is retried once).
    return {"media": (media.name, media.content, media.content_type)}


def media_upload(*, account, kind: str, media: MediaFile) -> UploadedMedia:
    """media/upload: a temporary media, valid 3 days from ``created_at``."""
    _refuse_unless_acceptable(kind, media, Endpoint.MEDIA_UPLOAD)
    result = gateway.call(account, Endpoint.MEDIA_UPLOAD, params={"type": kind}, files=_files(media))
    media_id = result.get("media_id") or result.get("thumb_media_id")  # thumbs answer thumb_media_id
    return UploadedMedia(
        kind=str(result.get("type") or kind), media_id=str(media_id), created_at=_timestamp(result.get("created_at"))
    )


def media_get(*, account, media_id: str) -> DownloadedMedia:
    """media/get: a temporary media's bytes (or a video's link). An expired or unknown media_id is 40007."""
    result = gateway.call(account, Endpoint.MEDIA_GET, params={"media_id": media_id})
    if isinstance(result, bytes):
        return DownloadedMedia(content=result)
    if result.get("video_url"):
        return DownloadedMedia(video_url=str(result["video_url"]))
    raise WeChatError(-1003, "media/get answered JSON without a file", endpoint=Endpoint.MEDIA_GET.path, response=result)


def material_add(*, account, kind: str, media: MediaFile, title: str = "", introduction: str = "") -> AddedMaterial:
    """material/add_material: a permanent material. A video needs a title (and may have an introduction)."""
    _refuse_unless_acceptable(kind, media, Endpoint.MATERIAL_ADD)
    data = None
    if kind == "video":
        if not title.strip():
            raise MediaRefused(PARAMETER_ERRCODE, "a video material needs a title", endpoint=Endpoint.MATERIAL_ADD.path)
        if len(title) > VIDEO_TITLE_MAX:
            raise MediaRefused(PARAMETER_ERRCODE, "video title too long", endpoint=Endpoint.MATERIAL_ADD.path)
        data = {"description": json.dumps({"title": title, "introduction": introduction}, ensure_ascii=False)}
    result = gateway.call(account, Endpoint.MATERIAL_ADD, params={"type": kind}, files=_files(media), data=data)
    return AddedMaterial(media_id=str(result["media_id"]), url=str(result.get("url") or ""))


def material_get(*, account, media_id: str) -> bytes | VideoMaterial | dict:
    """material/get_material: an image, voice or thumb's bytes, a video's title/description/down_url, or news JSON."""
    result = gateway.call(account, Endpoint.MATERIAL_GET, json={"media_id": media_id})
    if isinstance(result, bytes):
        return result
    if "down_url" in result:
        return VideoMaterial(
            title=str(result.get("title") or ""),
            description=str(result.get("description") or ""),
            down_url=str(result["down_url"]),
        )
    return result


def material_delete(*, account, media_id: str) -> None:
    """material/del_material. 48005: used by an auto-reply or menu; 40007: no such material."""
    gateway.call(account, Endpoint.MATERIAL_DEL, json={"media_id": media_id})


def material_count(*, account) -> MaterialCount:
    result = gateway.call(account, Endpoint.MATERIAL_COUNT)
    return MaterialCount(
        image=int(result.get("image_count") or 0),
        voice=int(result.get("voice_count") or 0),
        video=int(result.get("video_count") or 0),
        news=int(result.get("news_count") or 0),
    )


def material_batchget(*, account, kind: str, offset: int, count: int = BATCHGET_MAX) -> MaterialPage:
    """One page of material/batchget_material (``count`` 1..20), newest first as WeChat lists them."""
    if kind not in LIST_KINDS:
        raise ValueError(f"batchget_material lists {', '.join(LIST_KINDS)}, not {kind!r}")
    if not 1 <= count <= BATCHGET_MAX:
        raise ValueError(f"batchget_material takes 1 to {BATCHGET_MAX} items, not {count}")
    result = gateway.call(account, Endpoint.MATERIAL_BATCHGET, json={"type": kind, "offset": int(offset), "count": int(count)})
    items = [
        RemoteMaterial(
            media_id=str(item.get("media_id") or ""),
            update_time=_timestamp(item.get("update_time")),
            name=str(item.get("name") or ""),
            url=str(item.get("url") or ""),
            news_item=list((item.get("content") or {}).get("news_item") or []),
        )
        for item in result.get("item") or []
    ]
    return MaterialPage(
        total_count=int(result.get("total_count") or 0), item_count=int(result.get("item_count") or 0), items=items
    )
