"""Mass sends: results from MASSSENDJOBFINISH and mass/get, settling a message, resending batches."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wechat.api import mass as mass_api
from wechat.errors import WeChatError

from ..models import MassBatch, MassMessage
from .compose import LEASE, _int, _log, _transition, clientmsgid_for, mass_message_validate
from .schedule import _enqueue_batch

logger = logging.getLogger(__name__)


POLL_AFTER = timedelta(minutes=settings.MASS_JOB_POLL_AFTER_MINUTES)


# Status of MASSSENDJOBFINISH when the job stopped: err(num) codes from the official Batch_Sends doc.
JOB_ERRORS = {
    10001: ("涉嫌广告", "Suspected advertising"),
    20001: ("涉嫌政治", "Suspected political content"),
    20004: ("涉嫌社会", "Suspected social content"),
    20002: ("涉嫌色情", "Suspected pornography"),
    20006: ("涉嫌违法犯罪", "Suspected crime"),
    20008: ("涉嫌欺诈", "Suspected fraud"),
    20013: ("涉嫌版权", "Suspected copyright infringement"),
    22000: ("涉嫌互推(互相宣传)", "Suspected cross-promotion"),
    21000: ("涉嫌其他", "Suspected other violation"),
    30001: (
        "原创校验出现系统错误且用户选择了被判为转载就不群发",
        "Originality check failed (system error) and reprints are not to be sent",
    ),
    30002: ("原创校验被判定为不能群发", "Originality check: may not be sent"),
    30003: ("原创校验被判定为转载文且用户选择了被判为转载就不群发", "Judged a reprint, and reprints are not to be sent"),
    40001: ("管理员拒绝", "Refused by the administrator"),
    40002: ("管理员30分钟内无响应，超时", "The administrator did not confirm within 30 minutes"),
}


def mass_message_resend(*, message: MassMessage, actor=None, past_window: bool = False) -> dict:
    """Resend what did not go out. Returns how many batches took each way: {"rejected", "same_id", "past_window"}.

    - rejected (WeChat refused it, or its job failed): a new clientmsgid under the next version;
    - outcome unknown, WeChat still remembers the clientmsgid: the same clientmsgid, so WeChat answers 45065
      if it sent it, or sends it now; exactly once either way;
    - outcome unknown past that window: only with ``past_window`` (an operator's explicit choice, after
      checking WeChat's 群发记录), under a new clientmsgid, because a follower may get it twice.
    Accepted batches are never touched. Raises ValidationError, changing nothing, when there is nothing to do.
    """
    mass_message_validate(message)
    now = timezone.now()
    with transaction.atomic():
        batches = list(
            MassBatch.objects.select_for_update()
            .filter(message_id=message.pk, status__in=(MassBatch.Status.FAILED, MassBatch.Status.UNKNOWN))
            .order_by("index")
        )
        rejected = [b for b in batches if b.status == MassBatch.Status.FAILED]
        same_id = [b for b in batches if b.status == MassBatch.Status.UNKNOWN and b.same_id_resend_open(now)]
        late = [b for b in batches if b.status == MassBatch.Status.UNKNOWN and not b.same_id_resend_open(now)]
        renew = rejected + (late if past_window else [])
        if not renew and not same_id:
            if late:
                raise ValidationError(
                    _(
                        "%(n)d batch(es) have an unknown outcome and WeChat no longer remembers their clientmsgid "
                        "(24 hours): a resend could reach followers twice. Check 群发记录 in the WeChat console, "
                        "then use “Resend unknown batches past the 24-hour window” if it was not sent."
                    )
                    % {"n": len(late)}
                )
            raise ValidationError(_("Nothing to resend: no batch of this message was rejected or has an unknown outcome."))
        current = MassMessage.objects.values_list("status", flat=True).get(pk=message.pk)
        resendable = (MassMessage.Status.SENDING, MassMessage.Status.FAILED, MassMessage.Status.PARTIALLY_FAILED)
        if current not in resendable:
            raise ValidationError(_("Only a sending, failed or partially failed send can be resent."))
        parts = []
        if rejected:
            parts.append(_("%(n)d rejected batch(es) under new clientmsgids") % {"n": len(rejected)})
        if same_id:
            parts.append(_("%(n)d batch(es) with an unknown outcome under the same clientmsgid") % {"n": len(same_id)})
        if past_window and late:
            parts.append(
                _("%(n)d batch(es) with an unknown outcome past the 24-hour window under new clientmsgids (operator's choice)")
                % {"n": len(late)}
            )
        version = message.version + 1 if renew else message.version
        reason = _("resending %(what)s (version %(v)d)") % {"what": "; ".join(parts), "v": version}
        fields = {"errcode": None, "last_error": "", "finished_at": None}
        if renew:
            fields["version"] = F("version") + 1
        if current == MassMessage.Status.SENDING:
            MassMessage.objects.filter(pk=message.pk).update(updated_at=now, **fields)
            _log(message.pk, current, current, actor=actor, reason=reason)
        elif _transition(message.pk, (current,), MassMessage.Status.SENDING, actor=actor, reason=reason, **fields) is None:
            raise ValidationError(_("This send changed meanwhile; reload the page and try again."))
        message.refresh_from_db()
        for batch in renew:
            MassBatch.objects.filter(pk=batch.pk).update(
                status=MassBatch.Status.PENDING,
                clientmsgid=clientmsgid_for(message, batch.index),
                lease_until=now + LEASE,
                attempts=0,
                first_called_at=None,
                outcome_unknown=False,
                msg_id="",
                msg_data_id="",
                job_status="",
                finished_at=None,
            )
        MassBatch.objects.filter(pk__in=[b.pk for b in same_id]).update(lease_until=now + LEASE)
        ids = [b.pk for b in renew + same_id]
        transaction.on_commit(lambda: [_enqueue_batch(pk) for pk in ids])
    logger.info(
        "mass_send.resend",
        extra={"message_id": message.pk, "rejected": len(rejected), "same_id": len(same_id), "late": len(late)},
    )
    return {"rejected": len(rejected), "same_id": len(same_id), "past_window": len(late) if past_window else 0}


def mass_message_settle(*, message_id: int, now: datetime | None = None) -> str | None:
    """When every batch has an outcome, move the message to sent / partially_failed / failed.

    A batch with an unknown outcome counts as settled (and not sent) only once WeChat may have forgotten its
    clientmsgid; until then the beat is still finding out.
    """
    now = now or timezone.now()
    rows = list(MassBatch.objects.filter(message_id=message_id).values_list("status", "first_called_at"))
    closed_before = now - MassBatch.SAME_ID_RESEND_WITHIN
    unknown = [first for status, first in rows if status == MassBatch.Status.UNKNOWN]
    if any(first is not None and first > closed_before for first in unknown):
        return None
    statuses = [status for status, _first in rows]
    if not statuses or any(s not in MassBatch.SETTLED and s != MassBatch.Status.UNKNOWN for s in statuses):
        return None
    ok = sum(1 for s in statuses if s in MassBatch.OK)
    if ok == len(statuses):
        new = MassMessage.Status.SENT
    elif ok:
        new = MassMessage.Status.PARTIALLY_FAILED
    else:
        new = MassMessage.Status.FAILED
    current = MassMessage.objects.filter(pk=message_id).values_list("status", flat=True).first()
    if current == new:
        return new
    allowed = (
        MassMessage.Status.SENDING,
        MassMessage.Status.SENT,
        MassMessage.Status.PARTIALLY_FAILED,
        MassMessage.Status.FAILED,
    )
    fields = {"finished_at": now}
    if new == MassMessage.Status.SENT:
        fields.update(errcode=None, last_error="")
    reason = _("%(ok)d of %(n)d batch(es) accepted by WeChat") % {"ok": ok, "n": len(statuses)}
    if unknown:
        note = _(
            "%(n)d batch(es) with an unknown outcome past the 24-hour clientmsgid window: not resent automatically; "
            "check 群发记录 in the WeChat console before resending"
        ) % {"n": len(unknown)}
        reason = f"{reason}; {note}"
        fields["last_error"] = note
    if _transition(message_id, allowed, new, actor_label="worker", reason=reason, **fields):
        return new
    return None


def _items(node) -> list[dict]:
    """xmltodict gives one <item> as a dict and several as a list."""
    if not isinstance(node, dict):
        return []
    items = (node.get("ResultList") or {}).get("item") if isinstance(node.get("ResultList"), dict) else None
    if items is None:
        return []
    return [i for i in (items if isinstance(items, list) else [items]) if isinstance(i, dict)]


def job_status_meaning(status: str) -> str:
    match = re.fullmatch(r"err\((\d+)\)", (status or "").strip())
    if not match:
        return ""
    zh, en = JOB_ERRORS.get(int(match.group(1)), ("未知错误", "Unknown error"))
    return f"{match.group(1)}: {zh} / {en}"


def mass_job_finished(*, account, data: dict) -> MassBatch | None:
    """Record a MASSSENDJOBFINISH push on the batch with that msg_id. Repeats are harmless."""
    msg_id = str(data.get("MsgID") or data.get("MsgId") or "").strip()
    batch = (
        MassBatch.objects.filter(message__account=account, msg_id=msg_id).select_related("message").first() if msg_id else None
    )
    if batch is None:
        logger.info("mass_send.job_finish_unmatched", extra={"appid": account.appid, "msg_id": msg_id})
        return None
    status = str(data.get("Status") or "").strip()
    copyright_check = data.get("CopyrightCheckResult") if isinstance(data.get("CopyrightCheckResult"), dict) else {}
    fields = {
        "job_status": status[:64],
        "total_count": _int(data.get("TotalCount")),
        "filter_count": _int(data.get("FilterCount")),
        "sent_count": _int(data.get("SentCount")),
        "error_count": _int(data.get("ErrorCount")),
        "check_state": _int(copyright_check.get("CheckState")),
        "copyright_results": _items(copyright_check),
        "article_urls": _items(data.get("ArticleUrlResult")),
        "finished_at": timezone.now(),
    }
    failed = status != "send success"
    fields["status"] = MassBatch.Status.FAILED if failed else MassBatch.Status.FINISHED
    if failed:
        fields["errmsg"] = (job_status_meaning(status) or status)[:255]
    MassBatch.objects.filter(pk=batch.pk).update(**fields)
    _log(
        batch.message_id,
        batch.message.status,
        batch.message.status,
        actor_label="wechat",
        batch=batch,
        reason=_("batch %(i)d finished: %(status)s, sent %(sent)s, errors %(err)s")
        % {
            "i": batch.index,
            "status": job_status_meaning(status) or status,
            "sent": fields["sent_count"],
            "err": fields["error_count"],
        },
    )
    if failed:
        MassMessage.objects.filter(pk=batch.message_id).update(last_error=fields["errmsg"])
    mass_message_settle(message_id=batch.message_id)
    batch.refresh_from_db()
    return batch


def mass_batches_poll(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat fallback: ask mass/get about batches accepted long ago that never got a job-finish event."""
    now = now or timezone.now()
    stale = MassBatch.objects.filter(status=MassBatch.Status.SUBMITTED, submitted_at__lte=now - POLL_AFTER).filter(
        Q(polled_at__isnull=True) | Q(polled_at__lte=now - POLL_AFTER)
    )
    count = 0
    for batch in stale.select_related("message__account")[:limit]:
        mass_batch_poll(batch=batch)
        count += 1
    return count


def mass_batch_poll(*, batch: MassBatch) -> str:
    MassBatch.objects.filter(pk=batch.pk).update(polled_at=timezone.now())
    try:
        msg_status = mass_api.mass_status(account=batch.message.account, msg_id=batch.msg_id)
    except WeChatError as exc:
        MassBatch.objects.filter(pk=batch.pk).update(errmsg=exc.display[:255])
        return ""
    fields = {"msg_status": msg_status[:32]}
    if msg_status in ("SEND_SUCCESS", "DELETE"):
        fields.update(status=MassBatch.Status.FINISHED, finished_at=timezone.now())
    elif msg_status == "SEND_FAIL":
        fields.update(status=MassBatch.Status.FAILED, finished_at=timezone.now(), errmsg="mass/get: SEND_FAIL")
    MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SUBMITTED).update(**fields)
    mass_message_settle(message_id=batch.message_id)
    return msg_status
