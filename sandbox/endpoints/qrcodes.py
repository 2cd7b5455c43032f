"""Parametric QR codes (API.md §7): qrcode/create with WeChat's expiry and scene limits."""

from __future__ import annotations

import base64
import secrets
import struct
from datetime import timedelta

from ..core import Call, SandboxError, endpoint
from ..models import SandboxQRCode

MAX_EXPIRE_SECONDS = 2_592_000
DEFAULT_EXPIRE_SECONDS = 30  # what WeChat gives a temporary code sent without expire_seconds
PERMANENT_SCENE_ID_MAX = 100_000
TEMPORARY_SCENE_ID_MAX = 2**32 - 1
SCENE_STR_MAX_CHARS = 64
PERMANENT_MAX = 100_000  # permanent codes per account, both kinds together
ACTIONS = {"QR_SCENE": (False, "scene_id"), "QR_STR_SCENE": (False, "scene_str"), "QR_LIMIT_SCENE": (True, "scene_id"),
           "QR_LIMIT_STR_SCENE": (True, "scene_str")}  # fmt: skip


def _refuse(errmsg: str) -> SandboxError:
    # WeChat documents no errcode for these; the sandbox answers 40035 (invalid parameter) rather than accept them.
    return SandboxError(40035, errmsg)


def _scene(call: Call, permanent: bool, kind: str) -> str:
    info = call.json.get("action_info")
    scene = info.get("scene") if isinstance(info, dict) else None
    if not isinstance(scene, dict):
        raise _refuse("invalid action info")
    value = scene.get(kind)
    if kind == "scene_id":
        high = PERMANENT_SCENE_ID_MAX if permanent else TEMPORARY_SCENE_ID_MAX
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise _refuse("invalid scene_id")
        return str(value)
    if not isinstance(value, str) or not 1 <= len(value) <= SCENE_STR_MAX_CHARS:
        raise _refuse("invalid scene_str")
    return value


def _ticket_and_url(now) -> tuple[str, str]:
    # A real ticket is base64 of a header, the code's URL and two timestamps; so is this one.
    url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(16)[:22]
    stamp = int(now.timestamp())
    raw = b"\x81\x01" + secrets.token_bytes(8) + url.encode() + struct.pack(">II", stamp, stamp)
    return base64.b64encode(raw).decode(), url


@endpoint("cgi-bin/qrcode/create", methods=("POST",))
def create(call: Call) -> dict:
    action = call.json.get("action_name")
    if action not in ACTIONS:
        raise _refuse("invalid action name")
    permanent, kind = ACTIONS[action]
    scene = _scene(call, permanent, kind)
    now = call.now()
    if permanent:
        # The same permanent scene keeps its code: WeChat hands back the ticket it made the first time.
        existing = SandboxQRCode.objects.filter(app=call.app, action_name=action, scene=scene, expires_at=None).first()
        if existing is not None:
            return {"ticket": existing.ticket, "url": existing.url}
        if SandboxQRCode.objects.filter(app=call.app, expires_at=None).count() >= PERMANENT_MAX:
            raise _refuse("too many permanent qrcodes")
        ticket, url = _ticket_and_url(now)
        SandboxQRCode.objects.create(app=call.app, ticket=ticket, url=url, action_name=action, scene=scene, created_at=now)
        return {"ticket": ticket, "url": url}
    expire = call.json.get("expire_seconds", DEFAULT_EXPIRE_SECONDS)
    if isinstance(expire, bool) or not isinstance(expire, int) or not 1 <= expire <= MAX_EXPIRE_SECONDS:
        raise _refuse("invalid expire_seconds")
    ticket, url = _ticket_and_url(now)
    SandboxQRCode.objects.create(
        app=call.app,
        ticket=ticket,
        url=url,
        action_name=action,
        scene=scene,
        expires_at=now + timedelta(seconds=expire),
        created_at=now,
    )
    return {"ticket": ticket, "expire_seconds": expire, "url": url}
