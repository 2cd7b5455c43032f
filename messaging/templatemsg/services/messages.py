"""Writes and WeChat calls for template messages (API.md §9).

Sends are idempotent: a message row is claimed (queued → sending) with a conditional update before its call,
and every call carries the row's ``client_msg_id``, so a resend after a timeout or a crash returns the
original msgid at WeChat instead of delivering twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from messaging.enqueue import task_enqueue
from messaging.inbound.models import InboundMessage
from messaging.templatemsg.models import MessageTemplate, TemplateMessage, TemplatePush
from messaging.templatemsg.validation import client_msg_id_validate, data_validate, target_validate
from wechat.api import templates as templates_api
from wechat.errors import WeChatError

logger = logging.getLogger(__name__)


Status = TemplateMessage.Status


PushStatus = TemplatePush.Status


JOB_FINISH_STATUSES = {
    "success": Status.SUCCESS,
    "failed:user block": Status.FAILED_USER_BLOCK,
    "failed: system failed": Status.FAILED_SYSTEM,
}


# A 'sending' row older than this belongs to a worker that died mid-call; it may be claimed again.
STALE_CLAIM = timedelta(minutes=5)


# A queued single message not tried this long after it was stored lost its enqueue (broker outage); beat sends it.
ENQUEUE_GRACE = timedelta(minutes=1)


def _error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{key}: {msg}" for key, msgs in exc.message_dict.items() for msg in msgs]
    return exc.messages


def _content_errors(
    *, account, template, template_key: str, data, url, miniprogram_appid, miniprogram_pagepath
) -> tuple[dict, dict]:
    """Errors by field of what a single message and a push share (template, data, target), and the normalised data."""
    errors: dict = {}
    if template.account_id != account.pk:
        errors[template_key] = [_("This template belongs to another account.")]
    normalised = {}
    try:
        normalised = data_validate(keywords=template.keywords, data=data)
    except ValidationError as exc:
        errors["data"] = _error_messages(exc)
    try:
        target_validate(url=url, miniprogram_appid=miniprogram_appid, miniprogram_pagepath=miniprogram_pagepath)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    return errors, normalised


def template_message_validate(
    *,
    account,
    openid: str,
    template: MessageTemplate,
    data,
    url: str = "",
    miniprogram_appid: str = "",
    miniprogram_pagepath: str = "",
) -> dict:
    """The data normalised to WeChat's shape; raises ValidationError keyed by field (touser, data, url, ...)."""
    errors, normalised = _content_errors(
        account=account,
        template=template,
        template_key="template_id",
        data=data,
        url=url,
        miniprogram_appid=miniprogram_appid,
        miniprogram_pagepath=miniprogram_pagepath,
    )
    openid = (openid or "").strip()
    if not openid or len(openid) > 64:
        errors["touser"] = [_("Enter the follower's OpenID.")]
    if errors:
        raise ValidationError(errors)
    return normalised


def template_message_create(
    *,
    account,
    openid: str,
    template: MessageTemplate,
    data,
    url: str = "",
    miniprogram_appid: str = "",
    miniprogram_pagepath: str = "",
    client_msg_id: str = "",
) -> tuple[TemplateMessage, bool]:
    """Validate and store one message, and enqueue its send after commit.

    Returns (message, created); posting the same ``client_msg_id`` again returns the stored message.
    """
    if client_msg_id:
        client_msg_id_validate(client_msg_id)
        existing = TemplateMessage.objects.filter(account=account, client_msg_id=client_msg_id).first()
        if existing is not None:
            return existing, False
    else:
        client_msg_id = uuid.uuid4().hex
    normalised = template_message_validate(
        account=account,
        openid=openid,
        template=template,
        data=data,
        url=url,
        miniprogram_appid=miniprogram_appid,
        miniprogram_pagepath=miniprogram_pagepath,
    )
    try:
        with transaction.atomic():
            message = TemplateMessage.objects.create(
                account=account,
                openid=openid.strip(),
                template=template,
                wechat_template_id=template.template_id,
                data=normalised,
                url=url,
                miniprogram_appid=miniprogram_appid,
                miniprogram_pagepath=miniprogram_pagepath,
                client_msg_id=client_msg_id,
            )
    except IntegrityError:
        return TemplateMessage.objects.get(account=account, client_msg_id=client_msg_id), False
    transaction.on_commit(lambda: _enqueue_send(message.pk))
    return message, True


def _enqueue_send(message_id: int) -> None:
    """If the broker is down the row stays queued; ``template_messages_dispatch_stale`` sends it."""
    template_message_send = jobs.task("messaging.template_messages.tasks.template_message_send")

    task_enqueue(template_message_send, message_id)


def template_messages_dispatch_stale(*, now=None, limit: int = 500) -> int:
    """Beat: enqueue single messages stored a while ago and never tried (their enqueue was lost). Returns how many.

    A duplicate task is harmless: the send claims the row queued → sending, and the call carries its client_msg_id.
    """
    template_message_send = jobs.task("messaging.template_messages.tasks.template_message_send")

    now = now or timezone.now()
    ids = list(
        TemplateMessage.objects.filter(push__isnull=True, status=Status.QUEUED, attempts=0, created_at__lte=now - ENQUEUE_GRACE)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        task_enqueue(template_message_send, message_id)
    if ids:
        logger.info("template.dispatch_stale", extra={"count": len(ids)})
    return len(ids)


def _claim_filter(now):
    return Q(status=Status.QUEUED) | Q(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM)


def template_content(target: TemplateMessage | TemplatePush) -> dict:
    """What every receiver of a message or push is sent: ``template_send`` keyword arguments."""
    miniprogram = None
    if target.miniprogram_appid:
        miniprogram = {"appid": target.miniprogram_appid, "pagepath": target.miniprogram_pagepath}
    return {"data": target.data, "url": target.url, "miniprogram": miniprogram}


def template_message_send(*, message_id: int) -> TemplateMessage | None:
    """Send one queued message. Returns None when another worker has it or it was already sent.

    Raises the WeChatError when it is transient (the row is back in 'queued' for the retry), including a timeout:
    the retry resends with the same client_msg_id, which WeChat answers with the first msgid.
    """
    now = timezone.now()
    claimed = (
        TemplateMessage.objects.filter(_claim_filter(now), pk=message_id)
        .exclude(push__isnull=False, push__status=PushStatus.CANCELLED)
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    message = TemplateMessage.objects.select_related("account", "push").get(pk=message_id)
    target = message.push or message
    try:
        msgid = templates_api.template_send(
            account=message.account,
            openid=message.openid,
            template_id=message.wechat_template_id,
            client_msg_id=message.client_msg_id,
            **template_content(target),
        )
    except WeChatError as exc:
        if exc.is_transient:
            TemplateMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
                status=Status.QUEUED, errcode=exc.errcode, error=exc.display[:255]
            )
            raise
        TemplateMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
            status=Status.FAILED, errcode=exc.errcode, error=exc.display[:255], finished_at=timezone.now()
        )
        message.refresh_from_db()
        return message
    TemplateMessage.objects.filter(pk=message_id, status=Status.SENDING).update(
        status=Status.SENT, msgid=msgid, sent_at=timezone.now(), errcode=None, error=""
    )
    _apply_early_results(account=message.account, msgids=[msgid])
    message.refresh_from_db()
    return message


def template_message_give_up(*, message_id: int, error: WeChatError) -> bool:
    """After the last retry: a message still waiting for a transient error to pass is marked failed."""
    return bool(
        TemplateMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
            status=Status.FAILED, errcode=error.errcode, error=error.display[:255], finished_at=timezone.now()
        )
    )


def template_job_finished(*, account, msgid: str, status_text: str) -> int:
    """Record a TEMPLATESENDJOBFINISH result. Returns the number of messages updated (0 or 1)."""
    return template_jobs_finished(account=account, results=[(msgid, status_text)])


# Messages per UPDATE of job results: a sweep of 500 events is one statement per status.
JOB_RESULTS_CHUNK = 1000


def template_jobs_finished(*, account, results: Iterable[tuple[str, str]]) -> int:
    """Record many TEMPLATESENDJOBFINISH results, (msgid, Status text) each, with one UPDATE per status met.

    A message already final keeps its result (a repeated or late report changes nothing). Returns how many
    messages were updated."""
    groups: dict[tuple[str, str], list[str]] = {}
    for msgid, status_text in results:
        status = JOB_FINISH_STATUSES.get((status_text or "").strip().lower())
        if status is None:
            status = Status.FAILED_SYSTEM if (status_text or "").lower().startswith("failed") else None
        if status is None or not msgid:
            logger.warning("template.job_finish_unknown", extra={"appid": account.appid, "msgid": msgid, "status": status_text})
            continue
        error = "" if status == Status.SUCCESS else status_text[:255]
        groups.setdefault((status, error), []).append(str(msgid))
    now = timezone.now()
    updated = 0
    for (status, error), msgids in groups.items():
        for start in range(0, len(msgids), JOB_RESULTS_CHUNK):
            updated += (
                TemplateMessage.objects.filter(account=account, msgid__in=msgids[start : start + JOB_RESULTS_CHUNK])
                .exclude(status__in=TemplateMessage.FINAL_STATUSES)
                .update(status=status, finished_at=now, error=error)
            )
    return updated


def _apply_early_results(*, account, msgids: list[str]) -> None:
    """A job-finish event can arrive before the send's answer is stored; apply any that did."""
    msgids = [m for m in msgids if m]
    if not msgids:
        return
    early = InboundMessage.objects.filter(
        account=account, msg_type="event", event="TEMPLATESENDJOBFINISH", msg_id__in=msgids
    ).values_list("msg_id", "payload")
    template_jobs_finished(account=account, results=[(msgid, str((payload or {}).get("Status", ""))) for msgid, payload in early])
