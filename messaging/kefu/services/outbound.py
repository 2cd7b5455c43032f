"""Customer service (客服消息, API.md §9): messages through message/custom/send within the 48-hour window
(operator replies, auto-reply follow-ups) and the typing indicator. Tasks in ``messaging.kefu.tasks`` call these.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

import jobs
from media_assets.services.materials import material_mark_removed
from media_assets.services.temporary import MediaUnavailable, payload_media_fresh
from wechat.api import kf
from wechat.errors import WeChatError, WeChatTimeout

from ..models import OutboundMessage
from ..selectors import reply_window
from .conversations import _conversation_touch_outbound

logger = logging.getLogger(__name__)


TYPING_INTERVAL_SECONDS = 10


class ReplyWindowClosed(Exception):
    """The follower's last interaction is older than 48 hours: WeChat would refuse with 45015."""


def outbound_create(
    *,
    account,
    openid: str,
    payload: dict,
    kf_account: str = "",
    operator=None,
    source: str = OutboundMessage.Source.AUTO_REPLY,
    task_id: str = "",
) -> OutboundMessage:
    if task_id:
        existing = OutboundMessage.objects.filter(account=account, task_id=task_id).first()
        if existing is not None:
            return existing
    outbound = OutboundMessage.objects.create(
        account=account,
        openid=openid,
        msgtype=str(payload.get("msgtype", ""))[:32],
        payload=payload,
        kf_account=kf_account,
        operator=operator,
        source=source,
        task_id=task_id[:64],
    )
    _conversation_touch_outbound(outbound)
    return outbound


def outbound_send(*, outbound: OutboundMessage) -> dict:
    """Send a queued message once. Claimed with a conditional update, so a redelivered task never sends twice.

    Records the outcome on the row and re-raises WeChat's error: transient ones leave the row queued for a
    retry, a timeout leaves it 'unknown' (WeChat may have delivered it; it is not resent).
    """
    claimed = OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.SENDING, attempts=F("attempts") + 1
    )
    outbound.refresh_from_db()
    if not claimed and outbound.status == OutboundMessage.Status.SENDING:
        # A worker stopped during the call: WeChat may have delivered it, so it is not sent again.
        OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundMessage.Status.SENDING).update(
            status=OutboundMessage.Status.UNKNOWN, errmsg="interrupted during the call"
        )
        outbound.refresh_from_db()
    if not claimed:
        logger.info("customer_service.send_skipped", extra={"outbound_id": outbound.pk, "status": outbound.status})
        return {"errcode": outbound.errcode or 0, "errmsg": "not queued", "status": outbound.status}
    try:
        # A temporary media that expired since the message was written is uploaded again first.
        payload = payload_media_fresh(account=outbound.account, payload=outbound.payload)
        kf.custom_send(account=outbound.account, openid=outbound.openid, payload=payload, kf_account=outbound.kf_account)
    except WeChatError as exc:
        if isinstance(exc, WeChatTimeout):
            status = OutboundMessage.Status.UNKNOWN
        elif exc.is_transient:
            status = OutboundMessage.Status.QUEUED
        else:
            status = OutboundMessage.Status.FAILED
        OutboundMessage.objects.filter(pk=outbound.pk).update(status=status, errcode=exc.errcode, errmsg=exc.errmsg[:255])
        if exc.errcode == 40007 and not isinstance(exc, MediaUnavailable):
            # WeChat no longer has the material (deleted in its console): the library shows it and stops offering it.
            body = outbound.payload.get(outbound.payload.get("msgtype")) or {}
            material_mark_removed(
                account=outbound.account, media_ids=[body.get(k) for k in ("media_id", "thumb_media_id") if body.get(k)]
            )
        logger.warning(
            "customer_service.send_failed", extra={"outbound_id": outbound.pk, "errcode": exc.errcode, "status": status}
        )
        raise
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now(), errcode=None, errmsg=""
    )
    return {"errcode": 0, "errmsg": "ok"}


def outbound_give_up(*, outbound_id: int, exc: WeChatError) -> None:
    """Retries exhausted on a transient error: the message is failed, shown with the last error."""
    OutboundMessage.objects.filter(pk=outbound_id, status=OutboundMessage.Status.QUEUED).update(
        status=OutboundMessage.Status.FAILED, errcode=exc.errcode, errmsg=exc.errmsg[:255]
    )


def operator_reply_queue(*, account, openid: str, payload: dict, operator, kf_account: str = "") -> OutboundMessage:
    """An operator's reply from the inbox: refused outside the 48-hour window, else queued and sent by a task."""
    window = reply_window(account=account, openid=openid)
    if not window.is_open:
        raise ReplyWindowClosed(window.explanation)
    outbound = outbound_create(
        account=account,
        openid=openid,
        payload=payload,
        kf_account=kf_account,
        operator=operator,
        source=OutboundMessage.Source.OPERATOR,
    )
    transaction.on_commit(lambda: _enqueue_outbound(outbound.pk))
    return outbound


def _enqueue_outbound(outbound_id: int) -> None:
    customer_service_send = jobs.task("messaging.tasks.customer_service_send")

    customer_service_send.delay(outbound_id)


def typing_request(*, account, openid: str) -> bool:
    """Show 'typing…' on the follower's phone, at most once every 10 s per conversation. Returns whether enqueued."""
    if not reply_window(account=account, openid=openid).is_open:
        return False
    if not cache.add(f"kf:typing:{account.pk}:{openid}", 1, TYPING_INTERVAL_SECONDS):
        return False
    customer_service_typing = jobs.task("messaging.tasks.customer_service_typing")

    transaction.on_commit(lambda: customer_service_typing.delay(account.pk, openid))
    return True


def typing_send(*, account, openid: str) -> bool:
    """Show typing on the phone. Cosmetic: a refusal is logged, never retried."""
    try:
        kf.custom_typing(account=account, openid=openid)
    except WeChatError as exc:
        logger.info("customer_service.typing_failed", extra={"appid": account.appid, "errcode": exc.errcode})
        return False
    return True


def custom_message_send(*, account, openid: str, payload: dict, kf_account: str = "", outbound=None) -> dict:
    """Send one customer-service message. ``payload`` is one of ``wechat.outgoing.custom_payloads``.

    Each message is recorded as an ``OutboundMessage`` (pass ``outbound`` to send one already recorded), so the
    follower's thread in the inbox shows it with its status. WeChat's errors are recorded there and re-raised.
    """
    if outbound is None:
        outbound = outbound_create(account=account, openid=openid, payload=payload, kf_account=kf_account)
    return outbound_send(outbound=outbound)
