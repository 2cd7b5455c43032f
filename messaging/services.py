from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from . import matching, replies
from .models import InboundMessage

logger = logging.getLogger(__name__)

# Sent by the inbound_dispatch task, after the callback has answered, with ``inbound=InboundMessage``.
# Apps connect receivers for their side effects (follower updates, job-finish results, ...).
inbound_received = Signal()

# Job-finish events carry their own id; use it so that two jobs finishing in one second stay apart.
_JOB_EVENT_ID_FIELDS = {"masssendjobfinish": "MsgID", "templatesendjobfinish": "MsgID", "publishjobfinish": "PublishEventInfo"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ""
    return str(value)


def dedupe_key_for(data: dict) -> str:
    if data.get("MsgId"):
        return f"msg:{data['MsgId']}"
    event = _text(data.get("Event")).lower()
    id_field = _JOB_EVENT_ID_FIELDS.get(event)
    if id_field == "PublishEventInfo":
        info = data.get("PublishEventInfo") or {}
        if isinstance(info, dict) and info.get("publish_id"):
            return f"publish:{info['publish_id']}"
    elif id_field and data.get(id_field):
        return f"{event}:{data[id_field]}"
    parts = [_text(data.get("FromUserName")), _text(data.get("CreateTime")), event, _text(data.get("EventKey"))]
    return "event:" + "|".join(parts)[:680]


def _content(data: dict) -> str:
    for name in ("Content", "Recognition", "Title", "Label", "Url", "PicUrl"):
        if data.get(name):
            return _text(data[name])
    return ""


def _create_time(data: dict) -> datetime:
    try:
        return datetime.fromtimestamp(int(data.get("CreateTime")), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def inbound_receive(*, account, data: dict, raw_xml: str) -> str:
    """Store the message and return the plaintext reply ('' for 'success').

    The row and its reply are committed together before the reply leaves, so a retry of the same
    message (same dedupe key) gets the first reply back and triggers no second side effect.
    """
    key = dedupe_key_for(data)
    msg_type = _text(data.get("MsgType")).lower()
    try:
        reply = matching.reply_for(account, data)
    except Exception:  # a broken rule must not cost the follower an answer
        logger.exception("messaging.reply_failed", extra={"appid": account.appid})
        reply = None
    reply_xml = ""
    if reply is not None:
        reply_xml = replies.render(
            reply,
            to_user=_text(data.get("FromUserName")),
            from_user=_text(data.get("ToUserName")),
            for_event=msg_type == "event",
        )
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                account=account,
                openid=_text(data.get("FromUserName"))[:64],
                msg_type=msg_type[:32],
                event=_text(data.get("Event"))[:64],
                event_key=_text(data.get("EventKey"))[:512],
                content=_content(data),
                msg_id=_text(data.get("MsgId") or data.get("MsgID"))[:32],
                dedupe_key=key,
                payload=data,
                raw_xml=raw_xml,
                create_time=_create_time(data),
                reply_xml=reply_xml,
                reply_sent=bool(reply_xml),
            )
            transaction.on_commit(lambda: _enqueue_dispatch(message.pk))
    except IntegrityError:
        first = InboundMessage.objects.filter(account=account, dedupe_key=key).values_list("reply_xml", flat=True).first()
        logger.info("messaging.duplicate", extra={"appid": account.appid, "dedupe_key": key})
        return first or ""
    if not account.original_id and data.get("ToUserName"):
        account.original_id = _text(data["ToUserName"])[:32]
        type(account).objects.filter(pk=account.pk, original_id="").update(original_id=account.original_id)
    return reply_xml


def _enqueue_dispatch(inbound_id: int) -> None:
    from .tasks import inbound_dispatch

    inbound_dispatch.delay(inbound_id)


def inbound_dispatch(*, inbound_id: int) -> bool:
    """Run the side effects of one inbound message, once."""
    claimed = InboundMessage.objects.filter(pk=inbound_id, handled_at__isnull=True).update(handled_at=timezone.now())
    if not claimed:
        return False
    inbound = InboundMessage.objects.select_related("account").get(pk=inbound_id)
    for receiver, result in inbound_received.send_robust(sender=InboundMessage, inbound=inbound):
        if isinstance(result, Exception):
            logger.error(
                "messaging.side_effect_failed",
                exc_info=result,
                extra={
                    "appid": inbound.account.appid,
                    "inbound_id": inbound_id,
                    "receiver": getattr(receiver, "__qualname__", ""),
                },
            )
    return True


def custom_message_send(*, account, openid: str, payload: dict, kf_account: str = "") -> dict:
    """POST message/custom/send. ``payload`` is WeChat's body without ``touser``: {"msgtype": ..., <msgtype>: {...}}."""
    from wechat.gateway import client_for

    body = {"touser": openid, **payload}
    if kf_account:
        body["customservice"] = {"kf_account": kf_account}
    return client_for(account).post("message/custom/send", data=body)
