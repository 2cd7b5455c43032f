"""Customer-service messages (message/custom/send, typing), with the 48-hour window (API.md §9)."""

from datetime import timedelta

from ..core import Call, SandboxError, endpoint
from ..models import SandboxDelivery, SandboxFollower

WINDOW = timedelta(hours=48)
MAX_PER_WINDOW = 20
MSGTYPES = {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard", "miniprogrampage"}


def follower_in_window(call: Call, openid: str) -> SandboxFollower:
    follower = SandboxFollower.objects.filter(app=call.app, openid=openid).first()
    if follower is None:
        raise SandboxError(40003, "invalid openid")
    if not follower.subscribed or follower.last_interaction_at is None or call.now() - follower.last_interaction_at > WINDOW:
        raise SandboxError(45015, "response out of time limit or subscription is canceled")
    return follower


@endpoint("cgi-bin/message/custom/send", methods=("POST",))
def custom_send(call: Call) -> dict:
    data = call.json
    msgtype = data.get("msgtype")
    if msgtype not in MSGTYPES or not isinstance(data.get(msgtype), dict):
        raise SandboxError(40008, "invalid message type")
    if msgtype == "text" and not str(data["text"].get("content", "")).strip():
        raise SandboxError(44003, "empty news data" if msgtype == "news" else "empty content")
    if msgtype == "news" and len(data["news"].get("articles") or []) != 1:
        raise SandboxError(45008, "article size out of limit")
    follower = follower_in_window(call, str(data.get("touser", "")))
    sent = SandboxDelivery.objects.filter(
        app=call.app, openid=follower.openid, channel="custom", created_at__gte=follower.last_interaction_at
    ).count()
    if sent >= MAX_PER_WINDOW:
        raise SandboxError(45047, "out of response count limit")
    SandboxDelivery.objects.create(app=call.app, openid=follower.openid, channel="custom", msgtype=msgtype, payload=data)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/message/custom/typing", methods=("POST",))
def custom_typing(call: Call) -> dict:
    data = call.json
    if data.get("command") not in ("Typing", "CancelTyping"):
        raise SandboxError(40001 if not data else 47001, "invalid command")
    follower_in_window(call, str(data.get("touser", "")))
    return {"errcode": 0, "errmsg": "ok"}
