"""Template messages (模板消息): private templates, industry, message/template/send and TEMPLATESENDJOBFINISH (API.md §9)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..core import Call, SandboxError, endpoint
from ..models import (
    SandboxApp,
    SandboxDelivery,
    SandboxFollower,
    SandboxTemplate,
    SandboxTemplateReceiver,
    SandboxTemplateSend,
    SandboxTemplateSettings,
)

MAX_TEMPLATES = 25
_KEYWORD_RE = re.compile(r"\{\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\s*\}")
IGNORED_KEYWORDS = ("first", "remark")  # accepted and dropped since 2023-05-04

# A few entries of WeChat's template library (模板库): number → (title, [(keyword, label)], industries).
LIBRARY = {
    "TM00015": (
        "订单支付成功",
        [("keyword1", "商品名称"), ("keyword2", "支付金额"), ("keyword3", "支付时间")],
        ("IT科技", "互联网|电子商务"),
    ),
    "TM00001": (
        "预约成功通知",
        [("keyword1", "预约项目"), ("keyword2", "预约时间"), ("keyword3", "预约地点")],
        ("生活服务", "生活服务"),
    ),
    "OPENTM200605630": (
        "任务处理通知",
        [("thing1", "任务名称"), ("time2", "处理时间"), ("phrase3", "处理结果"), ("thing4", "处理人")],
        ("IT科技", "IT软件与服务"),
    ),
    "OPENTM417881526": (
        "快递签收通知",
        [("character_string1", "快递单号"), ("thing2", "快递公司"), ("time3", "签收时间")],
        ("运输与仓储", "快递"),
    ),
}
INDUSTRIES = {
    "1": ("IT科技", "互联网|电子商务"),
    "2": ("IT科技", "IT软件与服务"),
    "10": ("生活服务", "生活服务"),
    "41": ("运输与仓储", "快递"),
}


def _settings(app: SandboxApp) -> SandboxTemplateSettings:
    row, _ = SandboxTemplateSettings.objects.get_or_create(
        app=app, defaults={"minute_limit": settings.SANDBOX_TEMPLATE_SEND_PER_MINUTE}
    )
    return row


def keywords(content: str) -> list[str]:
    return [k for k in dict.fromkeys(_KEYWORD_RE.findall(content or "")) if k not in IGNORED_KEYWORDS]


@endpoint("cgi-bin/template/get_all_private_template", methods=("GET",))
def get_all_private_template(call: Call) -> dict:
    return {
        "template_list": [
            {
                "template_id": t.template_id,
                "title": t.title,
                "primary_industry": t.primary_industry,
                "deputy_industry": t.deputy_industry,
                "content": t.content,
                "example": t.example,
            }
            for t in SandboxTemplate.objects.filter(app=call.app)
        ]
    }


@endpoint("cgi-bin/template/api_add_template", methods=("POST",))
def api_add_template(call: Call) -> dict:
    data = call.json
    entry = LIBRARY.get(str(data.get("template_id_short") or ""))
    if entry is None:
        raise SandboxError(40037, "invalid template_id")
    title, fields, (primary, deputy) = entry
    names = data.get("keyword_name_list")
    if names is not None:
        labels = dict((label, key) for key, label in fields)
        if not isinstance(names, list) or not names or any(name not in labels for name in names):
            raise SandboxError(47001, "data format error hint: keyword_name_list")
        fields = [(labels[name], name) for name in names]
    if SandboxTemplate.objects.filter(app=call.app).count() >= MAX_TEMPLATES:
        raise SandboxError(45026, "template size out of limit")
    template = SandboxTemplate.objects.create(
        app=call.app,
        template_id=secrets.token_urlsafe(32)[:43],
        template_id_short=data["template_id_short"],
        title=title,
        primary_industry=primary,
        deputy_industry=deputy,
        content="\n".join(f"{label}：{{{{{key}.DATA}}}}" for key, label in fields),
        example="\n".join(f"{label}：…" for _key, label in fields),
    )
    return {"errcode": 0, "errmsg": "ok", "template_id": template.template_id}


@endpoint("cgi-bin/template/del_private_template", methods=("POST",))
def del_private_template(call: Call) -> dict:
    deleted, _ = SandboxTemplate.objects.filter(app=call.app, template_id=str(call.json.get("template_id") or "")).delete()
    if not deleted:
        raise SandboxError(40037, "invalid template_id")
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("cgi-bin/template/get_industry", methods=("GET",))
def get_industry(call: Call) -> dict:
    row = _settings(call.app)
    first = INDUSTRIES.get(row.industry_id1 or "1")
    second = INDUSTRIES.get(row.industry_id2 or "2")
    return {
        "primary_industry": {"first_class": first[0], "second_class": first[1]},
        "secondary_industry": {"first_class": second[0], "second_class": second[1]},
    }


@endpoint("cgi-bin/template/api_set_industry", methods=("POST",))
def api_set_industry(call: Call) -> dict:
    data = call.json
    one, two = str(data.get("industry_id1") or ""), str(data.get("industry_id2") or "")
    if one not in INDUSTRIES or two not in INDUSTRIES:
        raise SandboxError(40102, "invalid industry id")
    row = _settings(call.app)
    if row.industry_set_at and call.now() - row.industry_set_at < timedelta(days=30):
        raise SandboxError(43100, "change template too frequently")
    row.industry_id1, row.industry_id2, row.industry_set_at = one, two, call.now()
    row.save(update_fields=["industry_id1", "industry_id2", "industry_set_at"])
    return {"errcode": 0, "errmsg": "ok"}


def _count_minute(cursor, app: SandboxApp, now) -> None:
    """One more send this minute, or 45011 once the app's per-minute limit is reached."""
    minute = int(now.timestamp() // 60)
    table = SandboxTemplateSettings._meta.db_table
    for _attempt in range(2):
        cursor.execute(
            f"UPDATE {table} SET minute_count = CASE WHEN minute = %s THEN minute_count + 1 ELSE 1 END, minute = %s "  # noqa: S608  table names from model meta
            "WHERE app_id = %s AND (minute <> %s OR minute_count < minute_limit)",
            [minute, minute, app.pk, minute],
        )
        if cursor.rowcount:
            return
        if SandboxTemplateSettings.objects.filter(app=app).exists():
            raise SandboxError(45011)
        _settings(app)
    raise SandboxError(45011)


@lru_cache(maxsize=256)
def _keywords_cached(content: str) -> tuple[str, ...]:
    return tuple(keywords(content))


def _check_data(data, content: str) -> dict:
    if not isinstance(data, dict):
        raise SandboxError(47001, "data format error hint: data")
    expected = _keywords_cached(content)
    kept = {}
    for key, item in data.items():
        if key in IGNORED_KEYWORDS:
            continue
        if key not in expected or not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise SandboxError(47001, f"data format error hint: data.{key}")
        kept[key] = {"value": item["value"]}
    missing = [k for k in expected if k not in kept]
    if missing:
        raise SandboxError(47001, f"data format error hint: missing {missing[0]}")
    return kept


# The send is the hot path of the push bench (20,000 calls): plain SQL, one read and three writes.
_LOOKUP_SQL = (
    "SELECT (SELECT title FROM {template} WHERE app_id = %s AND template_id = %s),"
    " (SELECT content FROM {template} WHERE app_id = %s AND template_id = %s),"
    " (SELECT subscribed FROM {follower} WHERE app_id = %s AND openid = %s),"
    " (SELECT behaviour FROM {receiver} WHERE app_id = %s AND openid = %s),"
    " (SELECT id FROM {send} WHERE app_id = %s AND client_msg_id = %s AND client_msg_id <> '')"
)


TABLES = {
    "template": SandboxTemplate._meta.db_table,
    "follower": SandboxFollower._meta.db_table,
    "receiver": SandboxTemplateReceiver._meta.db_table,
    "send": SandboxTemplateSend._meta.db_table,
    "delivery": SandboxDelivery._meta.db_table,
}


def send_msgid(send_id: int) -> int:
    return SandboxTemplateSend.MSGID_BASE + send_id


def _first_send(cursor, app: SandboxApp, client_msg_id: str) -> int:
    cursor.execute(f"SELECT id FROM {TABLES['send']} WHERE app_id = %s AND client_msg_id = %s", [app.pk, client_msg_id])  # noqa: S608  table names from model meta
    return cursor.fetchone()[0]


# Fast mode on PostgreSQL (the served sandbox under a bench): the send and its delivery in one statement, one round
# trip instead of a transaction's five. There is no per-minute counter to keep in that mode.
_AT_ONCE_SQL = (
    "WITH s AS (INSERT INTO {send} (app_id, openid, template_id, client_msg_id, created_at)"
    " VALUES (%s, %s, %s, %s, %s::timestamptz) ON CONFLICT DO NOTHING RETURNING id),"
    " d AS (INSERT INTO {delivery} (app_id, openid, channel, msgtype, payload, msg_id, created_at)"
    " SELECT %s, %s, 'template', 'template', %s::jsonb, (%s + s.id)::text, %s::timestamptz FROM s WHERE %s)"
    " SELECT id FROM s"
)
_LOOKUP = _LOOKUP_SQL.format(**TABLES)
_AT_ONCE = _AT_ONCE_SQL.format(**TABLES)


@dataclass(frozen=True)
class Send:
    """A send that passed WeChat's checks, ready to be stored."""

    app: SandboxApp
    openid: str
    template_id: str
    client_msg_id: str
    behaviour: str | None  # the receiver's scripted behaviour (block, system_fail), None for a plain phone
    payload_json: str | None  # the delivery's payload; None when the phone gets nothing (a blocking receiver)


def send_checked(cursor, call: Call) -> Send | int:
    """WeChat's checks of one message/template/send, in its order, with one read through ``cursor`` (a DB-API cursor).

    Raises the call's ``SandboxError``; returns the first msgid when the client_msg_id was sent already.
    """
    app = call.app
    if app.account_type != "service" or not app.verified:
        raise SandboxError(48001, "api unauthorized")
    data = call.json
    template_id = str(data.get("template_id") or "")
    openid = str(data.get("touser") or "")
    client_msg_id = str(data.get("client_msg_id") or "")[:64]
    cursor.execute(
        _LOOKUP,
        [app.pk, template_id, app.pk, template_id, app.pk, openid, app.pk, openid, app.pk, client_msg_id],
    )
    title, content, subscribed, behaviour, first_send = cursor.fetchone()
    if title is None:
        raise SandboxError(40037, "invalid template_id")
    if subscribed is None:
        raise SandboxError(40003, "invalid openid")
    if not subscribed:  # known to the account, but unfollowed since
        raise SandboxError(43004, "require subscribe")
    if first_send is not None:
        return send_msgid(first_send)
    if behaviour == SandboxTemplateReceiver.Behaviour.REFUSE:
        raise SandboxError(43101, "user refuse to accept the msg")
    kept = _check_data(data.get("data"), content)
    payload_json = None
    if not behaviour:
        payload = {"template_id": template_id, "title": title, "data": kept}
        for name in ("url", "miniprogram", "client_msg_id"):
            if data.get(name):
                payload[name] = data[name]
        payload_json = json.dumps(payload, ensure_ascii=False)
    return Send(app, openid, template_id, client_msg_id, behaviour, payload_json)


def send_store_at_once(cursor, send: Send, now) -> tuple[int, bool]:
    """Fast mode on PostgreSQL: (send id, whether this call stored it); a client_msg_id sent concurrently gives the first."""
    app = send.app
    cursor.execute(
        _AT_ONCE,
        [app.pk, send.openid, send.template_id, send.client_msg_id, now, app.pk, send.openid, send.payload_json or "{}",
         SandboxTemplateSend.MSGID_BASE, now, send.payload_json is not None],
    )  # fmt: skip
    row = cursor.fetchone()
    if row is None:
        return _first_send(cursor, app, send.client_msg_id), False
    return row[0], True


def job_finish_later(send: Send, send_id: int) -> None:
    """WeChat's TEMPLATESENDJOBFINISH for a stored send, SANDBOX_TEMPLATE_JOB_FINISH_DELAY seconds from now."""
    if settings.SANDBOX_SERVER:
        from .. import server

        # What the push says is known now: the pusher thread needs no database to send it.
        status = JOB_STATUS.get(send.behaviour, "success")
        msgid = send_msgid(send_id)
        server.push_later(settings.SANDBOX_TEMPLATE_JOB_FINISH_DELAY, _job_finish_push, send.app, send.openid, msgid, status)
    else:
        template_job_finish.apply_async((send_id,), countdown=settings.SANDBOX_TEMPLATE_JOB_FINISH_DELAY)


@endpoint("cgi-bin/message/template/send", methods=("POST",))
def template_send(call: Call) -> dict:
    with connection.cursor() as cursor:
        if settings.SANDBOX_FAST and connection.vendor == "postgresql":
            return send_at_once(cursor, call)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        return _send(cursor, call, lambda send: _send_store(send, now, call))


def send_at_once(cursor, call: Call) -> dict:
    """message/template/send in fast mode on PostgreSQL, through ``cursor`` (Django's, or the served sandbox's own)."""
    return _send(cursor, call, lambda send: send_store_at_once(cursor, send, timezone.now()))


def _send(cursor, call: Call, store: Callable[[Send], tuple[int, bool]]) -> dict:
    """The checks, then ``store(send)`` → (send id, whether this call stored it), then the job-finish push."""
    send = send_checked(cursor, call)
    if isinstance(send, int):
        return _sent(send)
    send_id, stored = store(send)
    if stored:
        job_finish_later(send, send_id)
    return _sent(send_msgid(send_id))


def _sent(msgid: int) -> dict:
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def _send_store(send: Send, now, call: Call) -> tuple[int, bool]:
    """The send and its delivery in one transaction, with the per-minute counter, as ``send_store_at_once`` answers."""
    app = send.app
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit TO OFF")  # WeChat's side: its durability is not under test
        cursor.execute(
            f"INSERT INTO {TABLES['send']} (app_id, openid, template_id, client_msg_id, created_at) "  # noqa: S608  table names from model meta
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [app.pk, send.openid, send.template_id, send.client_msg_id, now],
        )
        row = cursor.fetchone()
        if row is None:  # the same client_msg_id, sent concurrently
            return _first_send(cursor, app, send.client_msg_id), False
        send_id = row[0]
        if send.payload_json is not None:
            cursor.execute(
                f"INSERT INTO {TABLES['delivery']} (app_id, openid, channel, msgtype, payload, msg_id, created_at) "  # noqa: S608  table names from model meta
                "VALUES (%s, %s, 'template', 'template', %s, %s, %s)",
                [app.pk, send.openid, send.payload_json, str(send_msgid(send_id)), now],
            )
        # Last, so the app's counter row is locked only until the commit; 45011 rolls the send back.
        if not settings.SANDBOX_FAST:
            _count_minute(cursor, app, call.now())
    return send_id, True


JOB_STATUS = {
    SandboxTemplateReceiver.Behaviour.BLOCK: "failed:user block",
    SandboxTemplateReceiver.Behaviour.SYSTEM_FAIL: "failed: system failed",
}


def _job_finish_push(app: SandboxApp, openid: str, msgid: int, status: str) -> None:
    from .. import phone

    fields = {"FromUserName": openid, "MsgType": "event", "Event": "TEMPLATESENDJOBFINISH", "MsgID": msgid, "Status": status}
    phone.push(app, fields)


@shared_task
def template_job_finish(send_id: int):
    """WeChat's TEMPLATESENDJOBFINISH push for one accepted send."""
    from .. import phone

    send = SandboxTemplateSend.objects.select_related("app").filter(pk=send_id).first()
    if send is None:
        return None
    behaviour = (
        SandboxTemplateReceiver.objects.filter(app=send.app, openid=send.openid).values_list("behaviour", flat=True).first()
    )
    status = JOB_STATUS.get(behaviour, "success")
    phone.push(
        send.app,
        {
            "FromUserName": send.openid,
            "MsgType": "event",
            "Event": "TEMPLATESENDJOBFINISH",
            "MsgID": send.msgid,
            "Status": status,
        },
    )
    return status
