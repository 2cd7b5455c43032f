"""Customer-service accounts (客服帐号管理): getkflist, getonlinekflist, kfaccount add/update/del/inviteworker/uploadheadimg.

The kfaccount endpoints live under /customservice/ (no cgi-bin), the two lists under /cgi-bin/customservice/,
as on WeChat. Error codes are those of the 新版客服 documentation (65400-65412).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from ..core import Call, SandboxError, endpoint
from ..models import SandboxApp, SandboxKfAccount

MAX_KF_ACCOUNTS = 100
MAX_NICKNAME_CHARS = 16
# One personal WeChat ID can be bound to the kf accounts of at most 5 official accounts.
MAX_BINDINGS_PER_WORKER = 5
INVITE_TTL = timedelta(days=7)
# prefix (≤ 10 letters, digits, _) @ the account's WeChat ID (≤ 30 chars).
KF_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$")
# A personal WeChat ID: 6-20 characters, starting with a letter.
WEIXIN_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{5,19}$")
JPEG_MAGIC = b"\xff\xd8\xff"


def _authorised(call: Call) -> None:
    # The customer-service APIs (客服接口) come with verification (认证), for subscription and service accounts alike.
    if not call.app.verified:
        raise SandboxError(48001, "api unauthorized")


def _kf(call: Call, kf_account: str) -> SandboxKfAccount:
    kf = SandboxKfAccount.objects.filter(app=call.app, kf_account=kf_account).first()
    if kf is None:
        raise SandboxError(65401, "invalid custom service account")
    return kf


def _check_nickname(nickname) -> str:
    nickname = str(nickname or "").strip()
    if not nickname or len(nickname) > MAX_NICKNAME_CHARS:
        raise SandboxError(65403, "illegal nickname")
    return nickname


def _invite_status(kf: SandboxKfAccount, now_ts: int) -> str:
    if kf.invite_status == "waiting" and kf.invite_expire_time <= now_ts:
        return "expired"
    return kf.invite_status


def _entry(kf: SandboxKfAccount, now_ts: int) -> dict:
    entry = {"kf_account": kf.kf_account, "kf_headimgurl": kf.headimgurl, "kf_id": kf.kf_id, "kf_nick": kf.nickname}
    if kf.kf_wx:
        entry["kf_wx"] = kf.kf_wx
    elif kf.invite_wx:
        entry.update(invite_wx=kf.invite_wx, invite_expire_time=kf.invite_expire_time, invite_status=_invite_status(kf, now_ts))
    return entry


@endpoint("cgi-bin/customservice/getkflist", methods=("GET",))
def kf_list(call: Call) -> dict:
    _authorised(call)
    now_ts = int(call.now().timestamp())
    return {"kf_list": [_entry(kf, now_ts) for kf in SandboxKfAccount.objects.filter(app=call.app)]}


@endpoint("cgi-bin/customservice/getonlinekflist", methods=("GET",))
def kf_online_list(call: Call) -> dict:
    _authorised(call)
    online = SandboxKfAccount.objects.filter(app=call.app, online_status__gt=0)
    return {
        "kf_online_list": [
            {"kf_account": kf.kf_account, "status": kf.online_status, "kf_id": kf.kf_id, "accepted_case": kf.accepted_case}
            for kf in online
        ]
    }


@endpoint("customservice/kfaccount/add", methods=("POST",))
def kf_add(call: Call) -> dict:
    _authorised(call)
    data = call.json
    kf_account = str(data.get("kf_account", ""))
    if not KF_ACCOUNT_RE.match(kf_account):
        raise SandboxError(65404, "illegal custom service account")
    nickname = _check_nickname(data.get("nickname"))
    existing = SandboxKfAccount.objects.filter(app=call.app)
    if existing.filter(kf_account=kf_account).exists():
        raise SandboxError(65406, "custom service account exists")
    if existing.count() >= MAX_KF_ACCOUNTS:
        raise SandboxError(65405, "custom service account number reach limit")
    last = existing.order_by("-id").first()
    kf_id = str(int(last.kf_id) + 1) if last and last.kf_id.isdigit() else "1001"
    SandboxKfAccount.objects.create(app=call.app, kf_account=kf_account, kf_id=kf_id, nickname=nickname)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("customservice/kfaccount/update", methods=("POST",))
def kf_update(call: Call) -> dict:
    _authorised(call)
    data = call.json
    kf = _kf(call, str(data.get("kf_account", "")))
    kf.nickname = _check_nickname(data.get("nickname"))
    kf.save(update_fields=["nickname"])
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("customservice/kfaccount/del", methods=("GET", "POST"))
def kf_delete(call: Call) -> dict:
    _authorised(call)
    kf_account = call.query.get("kf_account") or (call.json.get("kf_account") if call.body[:1] == b"{" else "")
    _kf(call, str(kf_account or "")).delete()
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("customservice/kfaccount/inviteworker", methods=("POST",))
def kf_invite(call: Call) -> dict:
    _authorised(call)
    data = call.json
    kf = _kf(call, str(data.get("kf_account", "")))
    invite_wx = str(data.get("invite_wx", ""))
    if not WEIXIN_ID_RE.match(invite_wx):
        raise SandboxError(65409, "account invalid")
    if kf.kf_wx:
        raise SandboxError(65412, "the custom service account have been bound by a user")
    now_ts = int(call.now().timestamp())
    others = SandboxKfAccount.objects.filter(app=call.app).exclude(pk=kf.pk)
    if others.filter(kf_wx=invite_wx).exists():
        raise SandboxError(65407, "the user have been one of your workers")
    if _invite_status(kf, now_ts) == "waiting":
        raise SandboxError(65411, "a effective invitation to bind the custom service account exists")
    if others.filter(invite_wx=invite_wx, invite_status="waiting", invite_expire_time__gt=now_ts).exists():
        raise SandboxError(65408, "you have already invited the user")
    if SandboxKfAccount.objects.filter(kf_wx=invite_wx).values("app").distinct().count() >= MAX_BINDINGS_PER_WORKER:
        raise SandboxError(65410, "too many custom service accounts bound by the worker")
    kf.invite_wx = invite_wx
    kf.invite_status = "waiting"
    kf.invite_expire_time = int((call.now() + INVITE_TTL).timestamp())
    kf.save(update_fields=["invite_wx", "invite_status", "invite_expire_time"])
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("customservice/kfaccount/uploadheadimg", methods=("POST",))
def kf_upload_headimg(call: Call) -> dict:
    _authorised(call)
    kf = _kf(call, call.query.get("kf_account", ""))
    media = call.files.get("media")
    if not media:
        raise SandboxError(41005, "media data missing")
    if not media.startswith(JPEG_MAGIC):
        raise SandboxError(40005, "invalid file type")
    digest = hashlib.sha1(media).hexdigest()[:16]
    kf.headimg = media
    kf.headimgurl = f"https://mmbiz.qpic.cn/mmbiz_jpg/sandbox{digest}/300?wx_fmt=jpeg"
    kf.save(update_fields=["headimg", "headimgurl"])
    return {"errcode": 0, "errmsg": "ok"}


def kf_invite_answer(app: SandboxApp, kf_account: str, *, accept: bool) -> SandboxKfAccount:
    """The invited worker taps accept or reject in WeChat (for tests and the demo)."""
    kf = SandboxKfAccount.objects.get(app=app, kf_account=kf_account)
    if accept:
        kf.kf_wx, kf.invite_wx, kf.invite_status, kf.invite_expire_time = kf.invite_wx, "", "", 0
    else:
        kf.invite_status = "rejected"
    kf.save()
    return kf
