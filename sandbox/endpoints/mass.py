"""Mass sends (群发, API.md §8): sendall, send, preview, get, delete, speed, and the MASSSENDJOBFINISH push.

What the sandbox enforces, as WeChat does:
- unverified accounts get 48001; subscription accounts may not send by OpenID list (48001) and get one
  successful mass send per day (45028 "has no masssend quota");
- service accounts: a follower receives at most 4 mass messages a month; the rest are filtered out
  (left out of FilterCount) and the job-finish event says so;
- a clientmsgid repeated within 24 hours (on the app's clock) answers 45065 with the existing msg_id and
  delivers nothing; after that WeChat has forgotten it and sends again, so the sandbox does too (it must
  never be kinder than WeChat); >64 bytes is 45067. Sends of one app are serialised, so two concurrent
  calls with one clientmsgid cannot both deliver;
- an OpenID list of fewer than 2 or more than 10,000 is 40032; an OpenID unknown to the account is 40003;
- an unknown tag is 45159 "invalid tag id", the code WeChat's tag APIs use for a tag id that does not
  exist (40003 is about OpenIDs, so it would mislead an operator looking at a tag send);
- a media_id (voice, video, image, article) the sandbox never issued is 40007;
- blacklisted followers are counted in ErrorCount (a partial failure);
- a fault named ``MASSSENDJOBFINISH`` ends the next job with ``err(num)``, or simulates a reprint (see below).
Each send is a ``SandboxDelivery`` row with channel ``mass_job`` (openid empty) plus one ``mass`` row per
follower reached; previews are ``preview`` rows and do not count toward the monthly limit.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from celery import shared_task
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ..core import Call, SandboxError, app_now, endpoint
from ..models import SandboxApp, SandboxCall, SandboxDelivery, SandboxFault, SandboxFollower

JOB_CHANNEL = "mass_job"
MAX_OPENIDS = 10_000
PER_FOLLOWER_MONTHLY = 4
SUBSCRIPTION_DAILY = 1
CLIENTMSGID_MAX_BYTES = 64
# WeChat checks a clientmsgid against its mass sends of the last 24 hours (official Batch_Sends doc).
CLIENTMSGID_WINDOW = timedelta(hours=24)
# Seconds before WeChat pushes MASSSENDJOBFINISH (tests run the task eagerly without the delay).
JOB_FINISH_DELAY = 5
MASS_ASSISTANT_OPENID = "oMassSendAssistant0000000000"
SPEEDS = {0: 80, 1: 60, 2: 45, 3: 30, 4: 10}
MSGTYPES = {"text", "image", "voice", "mpvideo", "mpnews", "wxcard"}
PAYLOAD_KEY = {"image": "images"}


class DuplicateClientMsgId(SandboxError):
    """45065, whose body carries the msg_id of the send that already used this clientmsgid."""

    def __init__(self, msg_id: str):
        super().__init__(45065, "clientmsgid exist")
        self.msg_id = msg_id

    def body(self) -> dict:
        return {**super().body(), "msg_id": self.msg_id}


def media_known(app: SandboxApp, media_id: str) -> bool:
    """Whether any sandbox media table (temporary media, materials, drafts) holds this media_id for the app."""
    if not media_id:
        return False
    for model in apps.get_app_config("sandbox").get_models():
        names = {f.name for f in model._meta.get_fields()}
        if {"app", "media_id"} <= names and _live(model, names, app).filter(media_id=media_id).exists():
            return True
    return False


def _live(model, names: set, app: SandboxApp):
    """The app's rows of a media table; a temporary media whose 3 days are over is gone."""
    rows = model.objects.filter(app=app)
    return rows.filter(expires_at__gt=app_now(app)) if "expires_at" in names else rows


def tag_known(app: SandboxApp, tagid: int) -> bool:
    tag_model = next((m for m in apps.get_app_config("sandbox").get_models() if m.__name__ == "SandboxTag"), None)
    if tag_model is not None and tag_model.objects.filter(app=app, tagid=tagid).exists():
        return True
    return bool(tag_members(app, tagid))


def tag_members(app: SandboxApp, tagid: int) -> list[SandboxFollower]:
    qs = SandboxFollower.objects.filter(app=app)
    if connection.vendor == "postgresql":
        return list(qs.filter(tagids__contains=[tagid]))
    return [f for f in qs if tagid in (f.tagids or [])]


def _validate_message(call: Call, data: dict) -> str:
    msgtype = data.get("msgtype")
    key = PAYLOAD_KEY.get(msgtype, msgtype)
    if msgtype not in MSGTYPES or not isinstance(data.get(key), dict):
        raise SandboxError(40008, "invalid message type")
    body = data[key]
    if msgtype == "text" and not str(body.get("content", "")).strip():
        raise SandboxError(44003, "empty content")
    if msgtype == "image":
        ids = body.get("media_ids")
        if not isinstance(ids, list) or not ids:
            raise SandboxError(40007, "invalid media_id")
        for media_id in ids:
            if not media_known(call.app, str(media_id)):
                raise SandboxError(40007, f"invalid media_id hint: [{media_id}]")
    if msgtype in ("voice", "mpvideo", "mpnews") and not media_known(call.app, str(body.get("media_id", ""))):
        raise SandboxError(40007, "invalid media_id")
    if msgtype == "wxcard" and not str(body.get("card_id", "")).strip():
        raise SandboxError(40073, "invalid card id")
    return msgtype


def _month_start(app: SandboxApp) -> datetime:
    """Start of WeChat's (Beijing) month on the app's clock, as a real-clock instant."""
    local = timezone.localtime(app_now_for(app))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start - timedelta(seconds=app.clock_offset)


def _day_start(app: SandboxApp) -> datetime:
    local = timezone.localtime(app_now_for(app))
    return local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(seconds=app.clock_offset)


def app_now_for(app: SandboxApp) -> datetime:
    return timezone.now() + timedelta(seconds=app.clock_offset)


def _existing_job(app: SandboxApp, clientmsgid: str) -> SandboxDelivery | None:
    """The send that used this clientmsgid within WeChat's window, on the app's clock (tests move it forward)."""
    if not clientmsgid:
        return None
    job = SandboxDelivery.objects.filter(app=app, channel=JOB_CHANNEL, payload__clientmsgid=clientmsgid).order_by("-id").first()
    if job is None:
        return None
    sent_at = job.payload.get("app_time") or (job.created_at + timedelta(seconds=app.clock_offset)).timestamp()
    return job if app_now_for(app).timestamp() - sent_at < CLIENTMSGID_WINDOW.total_seconds() else None


def _audience(call: Call, data: dict, api: str) -> list[SandboxFollower]:
    app = call.app
    if api == "send":
        touser = data.get("touser")
        if not isinstance(touser, list) or not (2 <= len(touser) <= MAX_OPENIDS):
            raise SandboxError(40032, "invalid openid list size")
        wanted = list(dict.fromkeys(str(o) for o in touser))
        followers = {f.openid: f for f in SandboxFollower.objects.filter(app=app, openid__in=wanted)}
        unknown = [o for o in wanted if o not in followers]
        if unknown:
            raise SandboxError(40003, f"invalid openid hint: [{unknown[0]}]")
        return [followers[o] for o in wanted if followers[o].subscribed]
    flt = data.get("filter")
    if not isinstance(flt, dict):
        raise SandboxError(47001)
    if flt.get("is_to_all") in (True, 1, "true"):
        return list(SandboxFollower.objects.filter(app=app, subscribed=True))
    try:
        tagid = int(flt.get("tag_id"))
    except (TypeError, ValueError):
        raise SandboxError(45159, "invalid tag id")
    if not tag_known(app, tagid):
        raise SandboxError(45159, "invalid tag id")
    return [f for f in tag_members(app, tagid) if f.subscribed]


def _mass_send(call: Call, api: str) -> dict:
    if not call.app.verified or (api == "send" and call.app.account_type == "subscription"):
        raise SandboxError(48001, "api unauthorized")
    with transaction.atomic():
        # One send at a time per app: the clientmsgid check and the new job must not interleave.
        app = SandboxApp.objects.select_for_update().get(pk=call.app.pk)
        return _mass_send_locked(call, app, api)


def _mass_send_locked(call: Call, app: SandboxApp, api: str) -> dict:
    data = call.json
    clientmsgid = str(data.get("clientmsgid") or "")
    if len(clientmsgid.encode("utf-8")) > CLIENTMSGID_MAX_BYTES:
        raise SandboxError(45067, "clientmsgid size out of limit")
    msgtype = _validate_message(call, data)
    existing = _existing_job(app, clientmsgid)
    if existing is not None:
        raise DuplicateClientMsgId(existing.msg_id)
    followers = _audience(call, data, api)
    if app.account_type == "subscription":
        today = SandboxDelivery.objects.filter(app=app, channel=JOB_CHANNEL, created_at__gte=_day_start(app))
        if today.exclude(payload__status="SEND_FAIL").count() >= SUBSCRIPTION_DAILY:
            raise SandboxError(45028, "has no masssend quota")
        over = set()
    else:
        openids = [f.openid for f in followers]
        over = set(
            SandboxDelivery.objects.filter(app=app, channel="mass", created_at__gte=_month_start(app), openid__in=openids)
            .values("openid")
            .annotate(n=Count("id"))
            .filter(n__gte=PER_FOLLOWER_MONTHLY)
            .values_list("openid", flat=True)
        )
    eligible = [f for f in followers if f.openid not in over]
    reached = [f for f in eligible if not f.blacklisted]
    total, filtered, sent = len(followers), len(eligible), len(reached)
    job = SandboxDelivery.objects.create(
        app=app,
        openid="",
        channel=JOB_CHANNEL,
        msgtype=msgtype,
        payload={
            "clientmsgid": clientmsgid,
            "app_time": app_now_for(app).timestamp(),
            "api": api,
            "status": "SENDING",
            "total": total,
            "filter": filtered,
            "sent": sent,
            "error": filtered - sent,
            "deleted_idx": [],
        },
    )
    msg_id = str(1_000_000_000 + job.pk)
    SandboxDelivery.objects.filter(pk=job.pk).update(msg_id=msg_id)
    content = {k: v for k, v in data.items() if k not in ("touser", "filter", "clientmsgid")}
    SandboxDelivery.objects.bulk_create(
        [
            SandboxDelivery(app=app, openid=f.openid, channel="mass", msgtype=msgtype, payload=content, msg_id=msg_id)
            for f in reached
        ],
        batch_size=2000,
    )
    job_id = job.pk
    transaction.on_commit(lambda: mass_job_finish.apply_async((job_id,), countdown=JOB_FINISH_DELAY))
    body = {"errcode": 0, "errmsg": "send job submission success", "msg_id": int(msg_id)}
    if msgtype == "mpnews":
        body["msg_data_id"] = 2_000_000_000 + job.pk
    return body


@endpoint("cgi-bin/message/mass/sendall", methods=("POST",))
def mass_sendall(call: Call) -> dict:
    return _mass_send(call, "sendall")


@endpoint("cgi-bin/message/mass/send", methods=("POST",))
def mass_send(call: Call) -> dict:
    return _mass_send(call, "send")


@endpoint("cgi-bin/message/mass/preview", methods=("POST",))
def mass_preview(call: Call) -> dict:
    if not call.app.verified:
        raise SandboxError(48001, "api unauthorized")
    data = call.json
    msgtype = _validate_message(call, data)
    if data.get("towxname"):
        openid = f"wxname:{data['towxname']}"[:64]
    else:
        follower = SandboxFollower.objects.filter(app=call.app, openid=str(data.get("touser", "")), subscribed=True).first()
        if follower is None:
            raise SandboxError(40003, "invalid openid")
        openid = follower.openid
    payload = {k: v for k, v in data.items() if k not in ("touser", "towxname")}
    SandboxDelivery.objects.create(app=call.app, openid=openid, channel="preview", msgtype=msgtype, payload=payload)
    return {"errcode": 0, "errmsg": "preview success", "msg_id": int(time.time())}


def _job(call: Call) -> SandboxDelivery:
    msg_id = str(call.json.get("msg_id", "")).strip()
    if not msg_id:
        raise SandboxError(47001)
    job = SandboxDelivery.objects.filter(app=call.app, channel=JOB_CHANNEL, msg_id=msg_id).first()
    if job is None:
        raise SandboxError(40035, "invalid msg_id")
    return job


@endpoint("cgi-bin/message/mass/get", methods=("POST",))
def mass_get(call: Call) -> dict:
    job = _job(call)
    return {"msg_id": int(job.msg_id), "msg_status": job.payload.get("status", "SENDING")}


@endpoint("cgi-bin/message/mass/delete", methods=("POST",))
def mass_delete(call: Call) -> dict:
    job = _job(call)
    if job.msgtype not in ("mpnews", "mpvideo"):
        raise SandboxError(40008, "only mpnews and mpvideo mass messages can be deleted")
    idx = int(call.json.get("article_idx") or 0)
    payload = dict(job.payload)
    if idx:
        payload["deleted_idx"] = sorted({*payload.get("deleted_idx", []), idx})
    else:
        payload["status"] = "DELETE"
    SandboxDelivery.objects.filter(pk=job.pk).update(payload=payload)
    return {"errcode": 0, "errmsg": "ok"}


def _current_speed(app: SandboxApp) -> int:
    last = SandboxCall.objects.filter(app=app, api="cgi-bin/message/mass/speed/set", errcode=0).order_by("-id").first()
    return int((last.request_json or {}).get("speed", 0)) if last else 0


@endpoint("cgi-bin/message/mass/speed/get", methods=("POST",))
def mass_speed_get(call: Call) -> dict:
    speed = _current_speed(call.app)
    return {"speed": speed, "realspeed": SPEEDS[speed]}


@endpoint("cgi-bin/message/mass/speed/set", methods=("POST",))
def mass_speed_set(call: Call) -> dict:
    if "speed" not in call.json:
        raise SandboxError(45084, "no speed")
    speed = call.json["speed"]
    if not isinstance(speed, int) or speed not in SPEEDS:
        raise SandboxError(45083, "speed out of range")
    return {"errcode": 0, "errmsg": "ok"}


# A fault on this name shapes an app's next job-finish event: kind "errcode", value = the num of WeChat's
# ``err(num)`` Status (API.md §2), e.g. 10001 (advertising); the job then reaches nobody. 30002 and 30003
# simulate an article judged a reprint by the originality check, with the CopyrightCheckResult WeChat sends:
# 30002 may not be reprinted (CheckState 3); 30003 may be (CheckState 2), so a send with send_ignore_reprint=1
# goes out anyway and reports "send success" with that same block.
JOB_FINISH_FAULT = "MASSSENDJOBFINISH"
REPRINT_CHECK_STATE = {30002: 3, 30003: 2}


def _job_finish_fault(app: SandboxApp) -> SandboxFault | None:
    faults = SandboxFault.objects.filter(
        Q(app__isnull=True) | Q(app=app), api=JOB_FINISH_FAULT, kind=SandboxFault.Kind.ERRCODE
    ).order_by("id")
    for fault in faults:
        if fault.remaining is None:
            return fault
        if SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def _reprint_check(job: SandboxDelivery, check_state: int) -> dict:
    """CopyrightCheckResult for a one-article mpnews judged a reprint (shape of event_masssendjobfinish.xml)."""
    reprintable = 1 if check_state == 2 else 0
    item = {
        "ArticleIdx": 1,
        "UserDeclareState": 0,
        "AuditState": 2,
        "OriginalArticleUrl": f"https://mp.weixin.qq.com/s/sandbox-original-{job.msg_id}",
        "OriginalArticleType": 1,
        "CanReprint": reprintable,
        "NeedReplaceContent": reprintable,
        "NeedShowReprintSource": reprintable,
    }
    return {"Count": 1, "ResultList": [item], "CheckState": check_state}


def _ignores_reprint(job: SandboxDelivery) -> bool:
    sent = SandboxDelivery.objects.filter(app=job.app, channel="mass", msg_id=job.msg_id).first()
    return bool(sent and str(sent.payload.get("send_ignore_reprint", 0)) in ("1", "True", "true"))


@shared_task
def mass_job_finish(job_id: int):
    """WeChat's side, a little later: mark the job done and push MASSSENDJOBFINISH to the callback."""
    from .. import phone

    job = SandboxDelivery.objects.select_related("app").filter(pk=job_id, channel=JOB_CHANNEL).first()
    if job is None or job.payload.get("status") != "SENDING":
        return None
    p = job.payload
    counts = {"TotalCount": p["total"], "FilterCount": p["filter"], "SentCount": p["sent"], "ErrorCount": p["error"]}
    status = "send success" if p["sent"] or not p["total"] else "send fail"
    copyright_check = {"Count": 0, "ResultList": {}, "CheckState": 1}
    fault = _job_finish_fault(job.app)
    if fault is not None:
        check_state = REPRINT_CHECK_STATE.get(fault.value) if job.msgtype == "mpnews" else None
        if check_state is not None:
            copyright_check = _reprint_check(job, check_state)
        if not (check_state == 2 and _ignores_reprint(job)):
            # Stopped before delivery: nobody received it, and the counts are zero as in WeChat's event.
            status = f"err({fault.value})"
            counts = dict.fromkeys(counts, 0)
            SandboxDelivery.objects.filter(app=job.app, channel="mass", msg_id=job.msg_id).delete()
    SandboxDelivery.objects.filter(pk=job.pk).update(
        payload={**p, "status": "SEND_SUCCESS" if status == "send success" else "SEND_FAIL"}
    )
    fields = {
        "FromUserName": MASS_ASSISTANT_OPENID,
        "CreateTime": int(app_now_for(job.app).timestamp()),
        "MsgType": "event",
        "Event": "MASSSENDJOBFINISH",
        "MsgID": int(job.msg_id),
        "Status": status,
        **counts,
    }
    if job.msgtype == "mpnews":
        fields["CopyrightCheckResult"] = copyright_check
        fields["ArticleUrlResult"] = {
            "Count": 1,
            "ResultList": [{"ArticleIdx": 1, "ArticleUrl": f"https://mp.weixin.qq.com/s/sandbox-{job.msg_id}"}],
        }
    return phone.push(job.app, fields).status
