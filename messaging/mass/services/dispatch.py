"""Mass sends: splitting the audience into batches and sending each batch once, with its clientmsgid."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import on_behalf_of
from media_assets.services.temporary import outgoing_media_fresh
from messaging.inbound.models import InboundMessage
from wechat.api import mass as mass_api
from wechat.errors import BAD_RESPONSE, CONNECTION_ERROR, TIMEOUT, WeChatError
from wechat.retry import MASS_BATCH

from ..models import MassBatch, MassMessage
from ..selectors import audience_openids, audience_size, batch_target, message_value
from .compose import LEASE, MIN_OPENIDS, _log, clientmsgid_for
from .results import mass_job_finished, mass_message_settle
from .schedule import _enqueue_batch

logger = logging.getLogger(__name__)


BATCH_SIZE = 10_000  # WeChat's limit for mass/send


MAX_CALLS = MASS_BATCH.attempts  # per batch, counting retries after timeouts and busy answers


# Answers that do not say whether the send took effect: no answer in time, a dropped connection, an
# unreadable reply, or 45066 (WeChat saw this clientmsgid a moment ago).
OUTCOME_UNKNOWN = {TIMEOUT, CONNECTION_ERROR, BAD_RESPONSE, 45066}


# After the quick retries, the beat repeats an unknown batch's call this often while WeChat remembers its id.
RECONCILE_EVERY = timedelta(minutes=10)


def batches_split(openids: list[str], size: int | None = None) -> list[list[str]]:
    """Chunks of at most ``size``; a last chunk of one borrows from the previous (WeChat needs ≥ 2)."""
    size = size or BATCH_SIZE
    chunks = [openids[i : i + size] for i in range(0, len(openids), size)]
    if len(chunks) > 1 and len(chunks[-1]) < MIN_OPENIDS:
        chunks[-1].insert(0, chunks[-2].pop())
    return chunks


def mass_message_dispatch(*, message_id: int, actor_label: str = "dispatcher", now: datetime | None = None) -> bool:
    """Claim one due message (scheduled → sending) and create its batches. False if someone else has it."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = MassMessage.objects.filter(pk=message_id, status=MassMessage.Status.SCHEDULED, scheduled_at__lte=now).update(
            status=MassMessage.Status.SENDING, started_at=now, updated_at=now
        )
        if not claimed:
            return False
        message = MassMessage.objects.select_related("account", "tag").get(pk=message_id)
        try:
            specs = _batch_specs(message)
        except ValidationError as exc:
            reason = "; ".join(exc.messages)
            MassMessage.objects.filter(pk=message_id).update(status=MassMessage.Status.FAILED, last_error=reason, finished_at=now)
            _log(message_id, MassMessage.Status.SCHEDULED, MassMessage.Status.FAILED, actor_label=actor_label, reason=reason)
            return True
        _log(
            message_id,
            MassMessage.Status.SCHEDULED,
            MassMessage.Status.SENDING,
            actor_label=actor_label,
            reason=_("%(n)d batch(es), %(size)d recipients") % {"n": len(specs), "size": sum(s["recipients"] for s in specs)},
        )
        batches = MassBatch.objects.bulk_create(
            [
                MassBatch(
                    message=message,
                    index=i,
                    clientmsgid=clientmsgid_for(message, i),
                    lease_until=now + LEASE,
                    **spec,
                )
                for i, spec in enumerate(specs)
            ]
        )
        ids = [b.pk for b in batches] or list(message.batches.values_list("pk", flat=True))
        transaction.on_commit(lambda: [_enqueue_batch(pk) for pk in ids])
    return True


def _batch_specs(message: MassMessage) -> list[dict]:
    if message.audience == MassMessage.Audience.ALL:
        return [{"recipients": audience_size(message)}]
    if message.audience == MassMessage.Audience.TAG:
        tag = message.tag
        if tag is None or tag.wechat_id is None:
            raise ValidationError(_("The tag was deleted (or is no longer on WeChat) after the send was scheduled."))
        return [{"tag_wechat_id": tag.wechat_id, "recipients": audience_size(message)}]
    openids = audience_openids(message) or []
    if len(openids) < MIN_OPENIDS:
        raise ValidationError(_("The audience is empty (fewer than 2 followers match)."))
    return [{"openids": chunk, "recipients": len(chunk)} for chunk in batches_split(openids)]


def mass_dispatch_due(*, now: datetime | None = None) -> dict:
    """Beat, every minute: start due messages, then recover stuck or never-enqueued batches."""
    now = now or timezone.now()
    due = list(
        MassMessage.objects.filter(status=MassMessage.Status.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at")
        .values_list("pk", flat=True)[:100]
    )
    started = sum(1 for pk in due if mass_message_dispatch(message_id=pk, actor_label="beat", now=now))
    recovered = mass_batches_recover(now=now)
    return {"started": started, "recovered": recovered}


def _callable(now: datetime) -> Q:
    """Batches a worker may call now: pending ones, and unknown ones whose clientmsgid WeChat still remembers."""
    return Q(status=MassBatch.Status.PENDING) | Q(
        status=MassBatch.Status.UNKNOWN, first_called_at__gt=now - MassBatch.SAME_ID_RESEND_WITHIN
    )


def mass_batches_recover(*, now: datetime | None = None) -> int:
    """Batches whose worker died mid-call (lease over) become unknown; pending batches past their lease and
    unknown ones still inside the clientmsgid window are re-enqueued (same clientmsgid); unknown ones past
    it are left for an operator, and their message settles. Returns how many batches were re-enqueued."""
    now = now or timezone.now()
    count = 0
    for batch in MassBatch.objects.filter(status=MassBatch.Status.SENDING, lease_until__lt=now).select_related("message"):
        if MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SENDING, lease_until=batch.lease_until).update(
            status=MassBatch.Status.UNKNOWN,
            outcome_unknown=True,
            lease_until=now,
            first_called_at=Coalesce(F("first_called_at"), Value(batch.lease_until - LEASE)),
        ):
            _log(
                batch.message_id,
                MassMessage.Status.SENDING,
                MassMessage.Status.SENDING,
                actor_label="beat",
                batch=batch,
                reason=_(
                    "batch %(i)d: worker lease expired during the call, so WeChat may have sent it (outcome unknown); "
                    "repeating the call with the same clientmsgid %(id)s"
                )
                % {"i": batch.index, "id": batch.clientmsgid},
            )
    due = MassBatch.objects.filter(_callable(now), lease_until__lte=now, message__status=MassMessage.Status.SENDING)
    for batch in due:
        if MassBatch.objects.filter(pk=batch.pk, status=batch.status, lease_until=batch.lease_until).update(
            lease_until=now + LEASE
        ):
            batch_id = batch.pk
            transaction.on_commit(lambda batch_id=batch_id: _enqueue_batch(batch_id))
            count += 1
    closed = MassBatch.objects.filter(
        status=MassBatch.Status.UNKNOWN,
        first_called_at__lte=now - MassBatch.SAME_ID_RESEND_WITHIN,
        message__status=MassMessage.Status.SENDING,
    )
    for message_id in set(closed.values_list("message_id", flat=True)):
        mass_message_settle(message_id=message_id, now=now)
    return count


def mass_batch_send(*, batch_id: int) -> dict:
    """Call WeChat for one batch, at most once at a time. Returns {"status", "retry_in"?}.

    The caller (a Celery task) enqueues the next try after ``retry_in`` seconds; the same clientmsgid makes
    that safe, and the batch's lease lets the beat recover it if that task is lost. An unknown batch is only
    called again while WeChat still remembers its clientmsgid.
    """
    now = timezone.now()
    if not MassMessage.objects.filter(batches__pk=batch_id, status=MassMessage.Status.SENDING).exists():
        return {"status": "not_claimed"}
    # No join in the claim: PostgreSQL re-checks only the row's own columns after waiting on a concurrent update.
    claimed = MassBatch.objects.filter(_callable(now), pk=batch_id).update(
        status=MassBatch.Status.SENDING,
        lease_until=now + LEASE,
        attempts=F("attempts") + 1,
        first_called_at=Coalesce(F("first_called_at"), Value(now)),
    )
    if not claimed:
        return {"status": "not_claimed"}
    batch = MassBatch.objects.select_related("message__account", "message__created_by").get(pk=batch_id)
    message = batch.message
    try:
        with on_behalf_of(message.created_by):  # the audit trail names who scheduled it, also when beat sends it
            accepted = mass_api.mass_send(
                account=message.account,
                # A temporary media that expired since the message was composed is uploaded again first.
                message=outgoing_media_fresh(account=message.account, message=message_value(message)),
                target=batch_target(batch),
                clientmsgid=batch.clientmsgid,
                send_ignore_reprint=message.send_ignore_reprint,
            )
    except WeChatError as exc:
        return _batch_call_failed(batch, exc)
    if accepted.duplicate:
        logger.info("mass_send.duplicate_clientmsgid", extra={"batch_id": batch_id, "msg_id": accepted.msg_id})
    _batch_submitted(batch, accepted)
    mass_message_settle(message_id=message.pk)
    return {"status": "submitted", "msg_id": accepted.msg_id}


def _batch_call_failed(batch: MassBatch, exc: WeChatError) -> dict:
    """Record a call that did not succeed: retry, wait as unknown, or (only if no call may have taken effect) fail."""
    unknown = batch.outcome_unknown or exc.errcode in OUTCOME_UNKNOWN
    retry = MASS_BATCH.should_retry(exc, batch.attempts)
    if not retry and not unknown:
        _batch_failed(batch, exc)
        mass_message_settle(message_id=batch.message_id)
        return {"status": "failed", "errcode": exc.errcode}
    if retry:
        delay = round(MASS_BATCH.delay(batch.attempts, exc))
        wait = timedelta(seconds=delay) + LEASE
        reason = _("batch %(i)d: %(error)s; retrying in %(s)d s with the same clientmsgid") % {
            "i": batch.index,
            "error": exc.display,
            "s": delay,
        }
        result = {"status": "retry", "retry_in": delay}
    else:
        wait = RECONCILE_EVERY
        reason = _(
            "batch %(i)d: %(error)s; WeChat may have sent it (outcome unknown). The beat repeats the call with the "
            "same clientmsgid until %(until)s; it is never sent under a new one without an operator's decision"
        ) % {
            "i": batch.index,
            "error": exc.display,
            "until": timezone.localtime(batch.same_id_resend_until).isoformat(timespec="minutes"),
        }
        result = {"status": "unknown", "errcode": exc.errcode}
    MassBatch.objects.filter(pk=batch.pk, status=MassBatch.Status.SENDING).update(
        status=MassBatch.Status.UNKNOWN if unknown else MassBatch.Status.PENDING,
        outcome_unknown=unknown,
        lease_until=timezone.now() + wait,
        errcode=exc.errcode,
        errmsg=exc.errmsg[:255],
    )
    _log(
        batch.message_id,
        MassMessage.Status.SENDING,
        MassMessage.Status.SENDING,
        actor_label="worker",
        batch=batch,
        reason=reason,
    )
    if not retry:
        logger.warning("mass_send.batch_outcome_unknown", extra={"batch_id": batch.pk, "errcode": exc.errcode})
        mass_message_settle(message_id=batch.message_id)
    return result


def _batch_submitted(batch: MassBatch, accepted: mass_api.MassAccepted) -> None:
    msg_id = accepted.msg_id
    MassBatch.objects.filter(pk=batch.pk).update(
        status=MassBatch.Status.SUBMITTED,
        msg_id=msg_id,
        msg_data_id=accepted.msg_data_id,
        errcode=None,
        errmsg="",
        outcome_unknown=False,
        submitted_at=timezone.now(),
        lease_until=None,
    )
    logger.info("mass_send.batch_sent", extra={"batch_id": batch.pk, "msg_id": msg_id})
    # The job-finish event may have arrived before we stored the msg_id.
    early = (
        InboundMessage.objects.filter(account_id=batch.message.account_id, msg_id=msg_id, event__iexact="MASSSENDJOBFINISH")
        .order_by("id")
        .first()
    )
    if msg_id and early is not None:
        mass_job_finished(account=batch.message.account, data=early.payload)


def _batch_failed(batch: MassBatch, exc: WeChatError) -> None:
    MassBatch.objects.filter(pk=batch.pk).update(
        status=MassBatch.Status.FAILED, errcode=exc.errcode, errmsg=exc.errmsg[:255], lease_until=None, finished_at=timezone.now()
    )
    MassMessage.objects.filter(pk=batch.message_id).update(errcode=exc.errcode, last_error=exc.display)
    logger.warning("mass_send.batch_failed", extra={"batch_id": batch.pk, "errcode": exc.errcode})
