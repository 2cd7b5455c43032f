"""Temporary media and permanent materials (API.md §5), with WeChat's limits and errcodes.

What the sandbox enforces, as WeChat does:
- media/upload and material/add_material take a multipart ``media`` file of ``type`` image, voice, video or thumb;
  another type, or a file whose bytes are not of a format WeChat takes for that type, is 40004; an empty upload is
  41005; a file over the size limit is 45001 (temporary image 2 MB, permanent image 10 MB, voice 2 MB, video 10 MB,
  thumb 64 KB); a video material without ``description`` holding a title is 40035;
- a temporary media_id lives 3 days on the app's clock; media/get of an expired or unknown one is 40007, and a
  video answers ``{"video_url"}`` rather than bytes;
- get_material and del_material of an unknown media_id are 40007; batchget_material takes count 1..20 (else 40035),
  lists newest first, thumbs with images; add_news is offline (45106).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from django.http import HttpResponse

from ..core import Call, SandboxError, app_now, endpoint
from ..models import SandboxApp, SandboxMaterial, SandboxMedia

KINDS = ("image", "voice", "video", "thumb")
LIST_TYPES = ("image", "voice", "video", "news")
TEMPORARY_LIFETIME = timedelta(days=3)
MB = 1024 * 1024
TEMPORARY_MAX_BYTES = {"image": 2 * MB, "voice": 2 * MB, "video": 10 * MB, "thumb": 64 * 1024}
MATERIAL_MAX_BYTES = {**TEMPORARY_MAX_BYTES, "image": 10 * MB}
BATCHGET_MAX = 20
EXTENSIONS = {"image": "png", "thumb": "jpg", "voice": "mp3", "video": "mp4"}
# WeChat's retired 图文 material API (announcement 11644831863qFQSh).
NEWS_OFFLINE = (
    "This API has been unsupported. For more details, please view https://mp.weixin.qq.com/cgi-bin/announce"
    "?action=getannouncement&announce_id=11644831863qFQSh&version=&lang=zh_CN"
)
CONTENT_TYPES = {"image": "image/jpeg", "thumb": "image/jpeg", "voice": "audio/amr"}


def _format_ok(kind: str, content: bytes) -> bool:
    """Whether the bytes look like a format WeChat takes for the type (the magic numbers of PNG, JPEG, GIF, …)."""
    jpeg = content.startswith(b"\xff\xd8\xff")
    if kind == "image":
        return jpeg or content.startswith((b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a"))
    if kind == "thumb":
        return jpeg
    if kind == "voice":
        return content.startswith((b"#!AMR", b"ID3")) or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    if kind == "video":
        return content[4:8] == b"ftyp"
    return False


def _image_type(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"GIF8"):
        return "image/gif"
    return "image/jpeg"


def _upload(call: Call, limits: dict[str, int]) -> tuple[str, bytes]:
    kind = call.query.get("type", "")
    if kind not in KINDS:
        raise SandboxError(40004, "invalid media type")
    content = call.files.get("media")
    if not content:
        raise SandboxError(41005, "media data missing")
    if not _format_ok(kind, content):
        raise SandboxError(40004, "invalid media type")
    if len(content) > limits[kind]:
        raise SandboxError(45001, "media size out of limit")
    return kind, content


def _new_media_id() -> str:
    return secrets.token_urlsafe(48)[:64]


def _file_response(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name or "media"}"'
    return response


@endpoint("cgi-bin/media/upload", methods=("POST",))
def media_upload(call: Call) -> dict:
    kind, content = _upload(call, TEMPORARY_MAX_BYTES)
    now = call.now()
    media = SandboxMedia.objects.create(
        app=call.app, media_id=_new_media_id(), type=kind, content=content, created_at=now, expires_at=now + TEMPORARY_LIFETIME
    )
    key = "thumb_media_id" if kind == "thumb" else "media_id"
    return {"type": kind, key: media.media_id, "created_at": int(now.timestamp())}


@endpoint("cgi-bin/media/get", methods=("GET",))
def media_get(call: Call):
    media = SandboxMedia.objects.filter(app=call.app, media_id=call.query.get("media_id", ""), expires_at__gt=call.now()).first()
    if media is None:
        raise SandboxError(40007, "invalid media_id")
    if media.type == "video":
        return {"video_url": f"http://sandbox.wechat.invalid/video/{media.media_id}.mp4"}
    content = bytes(media.content)
    content_type = _image_type(content) if media.type == "image" else CONTENT_TYPES[media.type]
    return _file_response(content, content_type, media.filename)


@endpoint("cgi-bin/material/add_material", methods=("POST",))
def material_add(call: Call) -> dict:
    kind, content = _upload(call, MATERIAL_MAX_BYTES)
    title = description = ""
    if kind == "video":
        try:
            described = json.loads(call.post.get("description") or "{}")
        except ValueError as exc:
            raise SandboxError(40035, "invalid args") from exc
        title = str(described.get("title") or "") if isinstance(described, dict) else ""
        if not title.strip():
            raise SandboxError(40035, "invalid args: video title missing")
        description = str(described.get("introduction") or "")
    media_id = _new_media_id()
    url = ""
    if kind == "image":
        url = f"http://mmbiz.qpic.cn/mmbiz_png/sandbox{hashlib.sha1(content).hexdigest()[:16]}/0?wx_fmt=png"
    name = f"{media_id[:12]}.{EXTENSIONS[kind]}"
    SandboxMaterial.objects.create(
        app=call.app,
        media_id=media_id,
        type=kind,
        name=name,
        content=content,
        title=title,
        description=description,
        url=url,
        update_time=int(call.now().timestamp()),
    )
    return {"media_id": media_id, "url": url} if url else {"media_id": media_id}


def _material(call: Call) -> SandboxMaterial:
    material = SandboxMaterial.objects.filter(app=call.app, media_id=str(call.json.get("media_id") or "")).first()
    if material is None:
        raise SandboxError(40007, "invalid media_id")
    return material


@endpoint("cgi-bin/material/get_material", methods=("POST",))
def material_get(call: Call):
    material = _material(call)
    if material.type == "video":
        return {
            "title": material.title,
            "description": material.description,
            "down_url": f"http://sandbox.wechat.invalid/material/{material.media_id}.mp4",
        }
    content = bytes(material.content)
    content_type = _image_type(content) if material.type == "image" else CONTENT_TYPES[material.type]
    return _file_response(content, content_type, material.name)


@endpoint("cgi-bin/material/del_material", methods=("POST",))
def material_delete(call: Call) -> dict:
    _material(call).delete()
    return {"errcode": 0, "errmsg": "ok"}


def _listed(app: SandboxApp, kind: str):
    types = ("image", "thumb") if kind == "image" else (kind,)
    return SandboxMaterial.objects.filter(app=app, type__in=types)


@endpoint("cgi-bin/material/get_materialcount", methods=("GET",))
def material_count(call: Call) -> dict:
    return {f"{kind}_count": _listed(call.app, kind).count() for kind in ("voice", "video", "image", "news")}


@endpoint("cgi-bin/material/batchget_material", methods=("POST",))
def material_batchget(call: Call) -> dict:
    kind = call.json.get("type")
    if kind not in LIST_TYPES:
        raise SandboxError(40004, "invalid media type")
    try:
        offset, count = int(call.json.get("offset", 0)), int(call.json.get("count", 0))
    except (TypeError, ValueError) as exc:
        raise SandboxError(40035, "invalid args") from exc
    if offset < 0 or not 1 <= count <= BATCHGET_MAX:
        raise SandboxError(40035, "invalid args")
    listed = _listed(call.app, kind)
    page = list(listed[offset : offset + count])
    items = [{"media_id": m.media_id, "name": m.name, "update_time": m.update_time, "url": m.url} for m in page]
    return {"total_count": listed.count(), "item_count": len(items), "item": items}


@endpoint("cgi-bin/material/add_news", methods=("POST",))
def material_add_news(call: Call) -> dict:
    raise SandboxError(45106, NEWS_OFFLINE)


def follower_media_put(app: SandboxApp, *, kind: str, content: bytes, filename: str = "") -> str:
    """A file a follower sends (image, voice, video): WeChat keeps it as a temporary media. Returns its media_id."""
    now = app_now(app)
    media = SandboxMedia.objects.create(
        app=app,
        media_id=_new_media_id(),
        type=kind,
        filename=filename,
        content=content,
        created_at=now,
        expires_at=now + TEMPORARY_LIFETIME,
    )
    return media.media_id
