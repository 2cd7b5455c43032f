"""Parametric QR codes (带参数二维码, API.md §7): create a temporary or permanent code, and its showqrcode link."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from wechat import gateway

from .endpoints import QRCODE_SHOW_URL, Endpoint

MAX_EXPIRE_SECONDS = 2_592_000  # 30 days; WeChat's default when omitted is 30 s, so it is always sent
PERMANENT_SCENE_ID_MAX = 100_000
TEMPORARY_SCENE_ID_MAX = 2**32 - 1  # a 32-bit non-zero integer
SCENE_STR_MAX_CHARS = 64


@dataclass(frozen=True)
class QRCode:
    ticket: str
    url: str  # the QR code's content: render the image from it
    expire_seconds: int | None  # None for permanent codes


def scene_check(*, permanent: bool, scene_id: int | None = None, scene_str: str = "", expire_seconds: int | None = None) -> None:
    """WeChat's limits on a scene, checked before calling; raises ValueError naming the broken one."""
    if (scene_id is None) == (not scene_str):
        raise ValueError("give exactly one of scene_id and scene_str")
    if scene_id is not None:
        high = PERMANENT_SCENE_ID_MAX if permanent else TEMPORARY_SCENE_ID_MAX
        if isinstance(scene_id, bool) or not isinstance(scene_id, int) or not 1 <= scene_id <= high:
            raise ValueError(f"scene_id must be 1..{high} for a {'permanent' if permanent else 'temporary'} code")
    elif not isinstance(scene_str, str) or len(scene_str) > SCENE_STR_MAX_CHARS:
        raise ValueError(f"scene_str must be 1..{SCENE_STR_MAX_CHARS} characters")
    if permanent:
        if expire_seconds is not None:
            raise ValueError("a permanent code has no expiry")
    elif isinstance(expire_seconds, bool) or not isinstance(expire_seconds, int) or not 1 <= expire_seconds <= MAX_EXPIRE_SECONDS:
        raise ValueError(f"expire_seconds must be 1..{MAX_EXPIRE_SECONDS}")


def qrcode_body(*, permanent: bool, scene_id: int | None = None, scene_str: str = "", expire_seconds: int | None = None) -> dict:
    """The qrcode/create request: the scene inside ``action_info.scene`` (a bare scene_id gives qrscene_0)."""
    scene_check(permanent=permanent, scene_id=scene_id, scene_str=scene_str, expire_seconds=expire_seconds)
    string = scene_id is None
    action = ("QR_LIMIT_STR_SCENE" if string else "QR_LIMIT_SCENE") if permanent else ("QR_STR_SCENE" if string else "QR_SCENE")
    body: dict = {} if permanent else {"expire_seconds": expire_seconds}
    body["action_name"] = action
    body["action_info"] = {"scene": {"scene_str": scene_str} if string else {"scene_id": scene_id}}
    return body


def qrcode_parse(data: dict) -> QRCode:
    expire = data.get("expire_seconds")
    return QRCode(ticket=str(data["ticket"]), url=str(data.get("url") or ""), expire_seconds=int(expire) if expire else None)


def qrcode_create(
    *, account, permanent: bool, scene_id: int | None = None, scene_str: str = "", expire_seconds: int | None = None
) -> QRCode:
    """Create a code (ValueError for a scene or expiry outside WeChat's limits, without calling)."""
    body = qrcode_body(permanent=permanent, scene_id=scene_id, scene_str=scene_str, expire_seconds=expire_seconds)
    return qrcode_parse(gateway.call(account, Endpoint.QRCODE_CREATE, json=body))


def qrcode_show_url(ticket: str) -> str:
    """WeChat's own image of a code (no access_token); tickets hold ``+/=``, so they are URL-encoded."""
    return f"{QRCODE_SHOW_URL}?ticket={quote(ticket, safe='')}"
