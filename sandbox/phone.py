"""A follower's phone and WeChat's push side: signed (and encrypted) callbacks to the project."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from wechat import crypto, transport
from wechat.message_kinds import INTERACTION_EVENTS, is_follower_message

from .core import app_now
from .models import SandboxApp, SandboxDelivery, SandboxFollower, SandboxQRCode

_INT_FIELDS = {"CreateTime", "MsgId", "MsgID", "TotalCount", "FilterCount", "SentCount", "ErrorCount"}


class RawXml(str):
    """Child elements written out already, for shapes a dict cannot hold (repeated elements such as fail_idx)."""


def build_xml(fields: dict) -> str:
    def render(value) -> str:
        if isinstance(value, RawXml):
            return str(value)
        if isinstance(value, dict):
            return "".join(f"<{k}>{render(v)}</{k}>" for k, v in value.items())
        if isinstance(value, list):
            return "".join(f"<item>{render(v)}</item>" for v in value)
        return crypto_cdata(value)

    parts = []
    for key, value in fields.items():
        inner = str(value) if key in _INT_FIELDS else render(value)
        parts.append(f"<{key}>{inner}</{key}>")
    return "<xml>" + "".join(parts) + "</xml>"


def crypto_cdata(value) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class PushResult:
    status: int
    body: str  # the reply as the phone sees it: decrypted XML, "success" or ""
    fields: dict | None  # the parsed reply, when it is XML


def push(app: SandboxApp, fields: dict, *, signature_ok: bool = True) -> PushResult:
    """POST one message or event to the app's callback the way WeChat does."""
    _remember_interaction(app, fields)
    fields = {"ToUserName": app.original_id, **fields}
    fields.setdefault("CreateTime", int(time.time()))
    plaintext = build_xml(fields)
    # Signed with the real clock and a fresh nonce: the callback refuses timestamps outside its window and a
    # signature reused with another body. clock_offset moves only the sandbox's own clock (windows, expiries).
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
    params = [
        ("signature", crypto.sha1_signature(app.callback_token, timestamp, nonce) if signature_ok else "0" * 40),
        ("timestamp", timestamp),
        ("nonce", nonce),
        ("openid", fields.get("FromUserName", "")),
    ]
    body = plaintext
    encrypted = app.encoding_mode in ("compatible", "safe") and app.encoding_aes_key
    if encrypted:
        ciphertext = crypto.encrypt(plaintext, encoding_aes_key=app.encoding_aes_key, appid=app.appid)
        params.append(("encrypt_type", "aes"))
        params.append(("msg_signature", crypto.sha1_signature(app.callback_token, timestamp, nonce, ciphertext)))
        enc = f"<Encrypt>{crypto_cdata(ciphertext)}</Encrypt>"
        if app.encoding_mode == "safe":
            body = f"<xml><ToUserName>{crypto_cdata(app.original_id)}</ToUserName>{enc}</xml>"
        else:
            body = plaintext[: -len("</xml>")] + enc + "</xml>"
    # The process's pooled keep-alive connections (``wechat.transport``), or the requests session for adapted URLs
    # (the in-process sandbox's); a query in the callback URL goes first, as requests would put it.
    url, _, query = app.callback_url.partition("?")
    response = transport.send(
        "POST", url, query=parse_qsl(query, keep_blank_values=True) + params, body=body.encode("utf-8"), headers=XML_HEADERS
    )
    text = response.content.decode("utf-8", "replace")
    reply_fields = None
    if response.status == 200 and text.startswith("<xml>"):
        reply_fields = crypto.parse_xml(text, max_bytes=1 << 20)
        if encrypted and "Encrypt" in reply_fields:
            text = crypto.decrypt(reply_fields["Encrypt"], encoding_aes_key=app.encoding_aes_key, appid=app.appid)
            reply_fields = crypto.parse_xml(text, max_bytes=1 << 20)
    return PushResult(response.status, text, reply_fields)


XML_HEADERS = {"Content-Type": "text/xml"}


def _remember_interaction(app: SandboxApp, fields: dict) -> None:
    openid = fields.get("FromUserName")
    msg_type = str(fields.get("MsgType", "")).lower()
    event = str(fields.get("Event", "")).lower()
    if not openid or not (is_follower_message(msg_type) or event in INTERACTION_EVENTS or event == "unsubscribe"):
        return
    now = app_now(app)
    follower, created = SandboxFollower.objects.get_or_create(
        app=app, openid=openid, defaults={"subscribe_time": int(now.timestamp()), "last_interaction_at": now}
    )
    if event == "unsubscribe":
        follower.subscribed = False
    else:
        if event == "subscribe" and (created or not follower.subscribed):
            follower.subscribed = True
            follower.subscribe_time = int(now.timestamp())
            _subscribe_scene_set(app, follower, fields)
        follower.last_interaction_at = now
    follower.save()


def _subscribe_scene_set(app: SandboxApp, follower: SandboxFollower, fields: dict) -> None:
    """What user/info will say about this follow: a QR code's scene (qr_scene or qr_scene_str), or another way in."""
    key = str(fields.get("EventKey") or "")
    follower.qr_scene, follower.qr_scene_str = 0, ""
    if not key.startswith("qrscene_"):
        follower.subscribe_scene = "ADD_SCENE_OTHERS"
        return
    scene = key.removeprefix("qrscene_")
    code = SandboxQRCode.objects.filter(app=app, ticket=str(fields.get("Ticket") or "")).first()
    numeric = code.action_name in ("QR_SCENE", "QR_LIMIT_SCENE") if code else scene.isdigit()
    follower.subscribe_scene = "ADD_SCENE_QR_CODE"
    if numeric:
        follower.qr_scene = int(scene)
    else:
        follower.qr_scene_str = scene[:64]


def follower_sends(app: SandboxApp, openid: str, fields: dict) -> PushResult:
    """A follower's action from the phone; what was sent and the passive reply are kept for the simulator."""
    fields = {"FromUserName": openid, **fields}
    if fields.get("MsgType") != "event":
        fields.setdefault("MsgId", int(time.time() * 1000) * 1000 + secrets.randbelow(1000))
    SandboxDelivery.objects.create(
        app=app,
        openid=openid,
        channel="sent",
        msgtype=fields.get("MsgType", ""),
        payload={k: v for k, v in fields.items() if k != "ToUserName"},
    )
    result = push(app, fields)
    if result.fields:
        reply = {k: v for k, v in result.fields.items() if k not in ("ToUserName", "FromUserName", "CreateTime")}
        SandboxDelivery.objects.create(app=app, openid=openid, channel="passive", msgtype=reply.get("MsgType", ""), payload=reply)
    return result
