"""Template messages: group pushes, expanded into one message row per follower and sent in batches."""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import execute_values

import jobs
from wechat.api import templates as templates_api
from wechat.errors import WeChatError
from wechat.retry import PUSH_ROUND

from ..models import MessageTemplate, TemplateMessage, TemplatePush
from ..selectors import audience_openids
from . import dispatch as sending
from .messages import STALE_CLAIM, PushStatus, Status, _apply_early_results, _content_errors, template_content

logger = logging.getLogger(__name__)


def push_client_msg_id(push_id: int, openid: str) -> str:
    """Deterministic per (push, follower) and at most 32 ASCII characters."""
    digest = hashlib.blake2b(openid.encode("utf-8"), digest_size=10).hexdigest()
    return f"tp{push_id}-{digest}"[:32]


def template_push_validate(
    *,
    account,
    template: MessageTemplate,
    data,
    audience: str,
    tag=None,
    openids: list[str] | None = None,
    url: str = "",
    miniprogram_appid: str = "",
    miniprogram_pagepath: str = "",
    rate_limit: int | None = None,
) -> dict:
    """The data normalised to WeChat's shape; raises ValidationError keyed by field."""
    errors, normalised = _content_errors(
        account=account,
        template=template,
        template_key="template",
        data=data,
        url=url,
        miniprogram_appid=miniprogram_appid,
        miniprogram_pagepath=miniprogram_pagepath,
    )
    if audience == TemplatePush.Audience.TAG:
        if tag is None or tag.account_id != account.pk:
            errors["tag"] = [_("Choose a tag of this account.")]
    elif audience == TemplatePush.Audience.OPENIDS:
        cleaned = _clean_openids(openids)
        if not cleaned:
            errors["openids"] = [_("Enter at least one OpenID.")]
        elif any(len(o) > 64 for o in cleaned):
            errors["openids"] = [_("An OpenID has at most 64 characters.")]
    elif audience != TemplatePush.Audience.ALL:
        errors["audience"] = [_("Choose an audience.")]
    if rate_limit is not None and rate_limit < 1:
        errors["rate_limit"] = [_("The rate limit must be at least 1 message per second.")]
    if errors:
        raise ValidationError(errors)
    return normalised


def _clean_openids(openids) -> list[str]:
    return list(dict.fromkeys(o.strip() for o in openids or [] if o and o.strip()))


def template_push_create(
    *,
    account,
    name: str,
    template: MessageTemplate,
    data,
    audience: str,
    tag=None,
    openids: list[str] | None = None,
    scheduled_at=None,
    url: str = "",
    miniprogram_appid: str = "",
    miniprogram_pagepath: str = "",
    rate_limit: int | None = None,
    created_by=None,
    draft: bool = False,
) -> TemplatePush:
    """Store a push; one due now starts after commit, a later one is started by the beat task.

    A ``draft`` waits for ``template_push_schedule`` (the admin's preview → confirm → schedule flow).
    """
    normalised = template_push_validate(
        account=account,
        template=template,
        data=data,
        audience=audience,
        tag=tag,
        openids=openids,
        url=url,
        miniprogram_appid=miniprogram_appid,
        miniprogram_pagepath=miniprogram_pagepath,
        rate_limit=rate_limit,
    )
    push = TemplatePush.objects.create(
        account=account,
        name=name or template.title,
        template=template,
        data=normalised,
        url=url,
        miniprogram_appid=miniprogram_appid,
        miniprogram_pagepath=miniprogram_pagepath,
        audience=audience,
        tag=tag if audience == TemplatePush.Audience.TAG else None,
        openids=_clean_openids(openids) if audience == TemplatePush.Audience.OPENIDS else [],
        scheduled_at=scheduled_at or timezone.now(),
        rate_limit=rate_limit or settings.TEMPLATE_PUSH_RATE_LIMIT,
        created_by=created_by,
        status=PushStatus.DRAFT if draft else PushStatus.SCHEDULED,
    )
    if not draft and push.scheduled_at <= timezone.now():
        template_push_enqueue_start(push=push)
    return push


class PushStarted(ValidationError):
    """The push left 'scheduled' before the edit was written."""


PUSH_EDITABLE_FIELDS = (
    "account",
    "name",
    "template",
    "data",
    "url",
    "miniprogram_appid",
    "miniprogram_pagepath",
    "audience",
    "tag",
    "openids",
    "scheduled_at",
    "rate_limit",
)


def template_push_update(*, push: TemplatePush, **fields) -> TemplatePush:
    """Edit a push that has not started (draft or scheduled), with the validation of ``template_push_create``.

    The write is a conditional update on 'draft'/'scheduled', so an edit never lands on a push a worker has just
    claimed; that case raises PushStarted (a ValidationError) and changes nothing. A push due now is started after commit.
    """
    unknown = set(fields) - set(PUSH_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    values = {name: fields.get(name, getattr(push, name)) for name in PUSH_EDITABLE_FIELDS}
    audience = values["audience"]
    normalised = template_push_validate(
        account=values["account"],
        template=values["template"],
        data=values["data"],
        audience=audience,
        tag=values["tag"],
        openids=values["openids"],
        url=values["url"] or "",
        miniprogram_appid=values["miniprogram_appid"] or "",
        miniprogram_pagepath=values["miniprogram_pagepath"] or "",
        rate_limit=values["rate_limit"],
    )
    values.update(
        name=values["name"] or values["template"].title,
        data=normalised,
        url=values["url"] or "",
        miniprogram_appid=values["miniprogram_appid"] or "",
        miniprogram_pagepath=values["miniprogram_pagepath"] or "",
        tag=values["tag"] if audience == TemplatePush.Audience.TAG else None,
        openids=_clean_openids(values["openids"]) if audience == TemplatePush.Audience.OPENIDS else [],
        scheduled_at=values["scheduled_at"] or timezone.now(),
        rate_limit=values["rate_limit"] or settings.TEMPLATE_PUSH_RATE_LIMIT,
    )
    updated = TemplatePush.objects.filter(pk=push.pk, status__in=TemplatePush.EDITABLE).update(**values)
    if not updated:
        raise PushStarted(_("This push has started; it can no longer be edited."))
    push.refresh_from_db()
    if push.status == PushStatus.SCHEDULED and push.scheduled_at <= timezone.now():
        template_push_enqueue_start(push=push)
    return push


def template_push_schedule(*, push: TemplatePush, at=None) -> TemplatePush:
    """Schedule (or reschedule) a draft or scheduled push after the operator confirmed it; ``at`` None means now.

    The content is checked again, as it is sent: a template deleted or changed since the draft is refused here.
    """
    push.refresh_from_db()
    template_push_validate(
        account=push.account,
        template=push.template,
        data=push.data,
        audience=push.audience,
        tag=push.tag,
        openids=push.openids,
        url=push.url,
        miniprogram_appid=push.miniprogram_appid,
        miniprogram_pagepath=push.miniprogram_pagepath,
        rate_limit=push.rate_limit,
    )
    now = timezone.now()
    if at is not None and at < now - timedelta(minutes=1):
        raise ValidationError(_("The time to send at is in the past."))
    when = max(at or now, now)
    if not TemplatePush.objects.filter(pk=push.pk, status__in=TemplatePush.EDITABLE).update(
        status=PushStatus.SCHEDULED, scheduled_at=when
    ):
        raise PushStarted(_("This push has started; it can no longer be scheduled."))
    push.refresh_from_db()
    logger.info("template_push.scheduled", extra={"push_id": push.pk, "at": when.isoformat()})
    if when <= now:
        template_push_enqueue_start(push=push)
    return push


def template_push_preview(*, push: TemplatePush, openids: list[str]) -> list[tuple[str, WeChatError | None]]:
    """Send the push's message to operators' phones first. Returns each OpenID with its error (None when sent).

    Previews are not rows of the push: they never count in its figures, and each call has its own client_msg_id.
    """
    receivers = _clean_openids(openids)
    if not receivers or any(len(o) > 64 for o in receivers):
        raise ValidationError(_("Enter one or more OpenIDs to preview to."))
    results: list[tuple[str, WeChatError | None]] = []
    for openid in receivers:
        try:
            templates_api.template_send(
                account=push.account,
                openid=openid,
                template_id=push.template.template_id,
                client_msg_id=f"pv{push.pk}-{uuid.uuid4().hex[:20]}",
                **template_content(push),
            )
        except WeChatError as exc:
            results.append((openid, exc))
        else:
            results.append((openid, None))
    logger.info("template_push.preview", extra={"push_id": push.pk, "sent": sum(1 for _o, e in results if e is None)})
    return results


def template_push_enqueue_start(*, push: TemplatePush) -> None:
    transaction.on_commit(lambda: _enqueue_start(push.pk))


def template_push_enqueue_resume(*, push: TemplatePush) -> None:
    resume_task = jobs.task("messaging.template_messages.tasks.template_push_resume")

    transaction.on_commit(lambda: resume_task.delay(push.pk))


def _enqueue_start(push_id: int) -> None:
    template_push_start = jobs.task("messaging.template_messages.tasks.template_push_start")

    template_push_start.delay(push_id)


def template_push_cancel(*, push: TemplatePush) -> bool:
    """Cancel a push that has not started. Returns False if it already started (or ended)."""
    return bool(
        TemplatePush.objects.filter(pk=push.pk, status__in=TemplatePush.EDITABLE).update(
            status=PushStatus.CANCELLED, finished_at=timezone.now()
        )
    )


def template_push_start(*, push_id: int) -> bool:
    """Claim a due push (scheduled → sending) and start it. Only one caller ever wins the claim."""
    now = timezone.now()
    claimed = TemplatePush.objects.filter(pk=push_id, status=PushStatus.SCHEDULED, scheduled_at__lte=now).update(
        status=PushStatus.SENDING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return False
    logger.info("template_push.started", extra={"push_id": push_id})
    template_push_run(push_id=push_id)
    return True


def template_pushes_dispatch_due() -> int:
    """Beat: start the due scheduled pushes and resume pushes whose workers went silent."""
    now = timezone.now()
    started = 0
    for push_id in TemplatePush.objects.filter(status=PushStatus.SCHEDULED, scheduled_at__lte=now).values_list("pk", flat=True):
        if template_push_start(push_id=push_id):
            started += 1
    # Delivery results (TEMPLATESENDJOBFINISH) keep arriving after the last batch: keep the totals current.
    recent = TemplatePush.objects.filter(status=PushStatus.SENT, finished_at__gte=now - timedelta(hours=1))
    for push_id in recent.values_list("pk", flat=True):
        _push_refresh_totals(push_id)
    silent = now - settings.TEMPLATE_PUSH_STALE_AFTER
    for push_id in TemplatePush.objects.filter(status=PushStatus.SENDING, heartbeat_at__lt=silent).values_list("pk", flat=True):
        if TemplatePush.objects.filter(pk=push_id, status=PushStatus.SENDING, heartbeat_at__lt=silent).update(heartbeat_at=now):
            template_push_resume(push_id=push_id)
    return started


def template_push_resume(*, push_id: int, stale_after: timedelta = STALE_CLAIM) -> bool:
    """Carry on a stopped or interrupted push: messages claimed by a dead worker are queued again (their resend
    carries the same client_msg_id, so a follower who already got one gets no second)."""
    now = timezone.now()
    TemplatePush.objects.filter(pk=push_id, status=PushStatus.STOPPED).update(status=PushStatus.SENDING, heartbeat_at=now)
    if not TemplatePush.objects.filter(pk=push_id, status=PushStatus.SENDING).exists():
        return False
    TemplateMessage.objects.filter(push_id=push_id, status=Status.SENDING, claimed_at__lt=now - stale_after).update(
        status=Status.QUEUED
    )
    template_push_run(push_id=push_id)
    return True


EXPAND_CHUNK = 5000


def template_push_expand(*, push: TemplatePush) -> int:
    """One queued message per receiver. Safe to rerun: existing rows (same client_msg_id) are left alone.

    Rows are written in chunks of ``EXPAND_CHUNK`` by one prepared multi-row INSERT each: a push to a million
    followers builds no model instance per follower."""
    if not push.expanded:
        insert = _message_inserter(push)
        openids = iter(audience_openids(push))
        while chunk := list(itertools.islice(openids, EXPAND_CHUNK)):
            insert(chunk)
        total = TemplateMessage.objects.filter(push_id=push.pk).count()
        TemplatePush.objects.filter(pk=push.pk).update(expanded=True, total=total, heartbeat_at=timezone.now())
        push.expanded, push.total = True, total
    return push.total


def _message_inserter(push: TemplatePush):
    """A function writing the push's queued rows for some OpenIDs, skipping those that exist. Every column but
    the OpenID and the client_msg_id is the same for all rows: prepared once, from a model instance."""
    model = TemplateMessage(
        account_id=push.account_id,
        openid="",
        template_id=push.template_id,
        wechat_template_id=push.template.template_id,
        client_msg_id="",
        push_id=push.pk,
    )
    fields = [f for f in TemplateMessage._meta.concrete_fields if not f.primary_key]
    base = [f.get_db_prep_save(f.pre_save(model, add=True), connection) for f in fields]
    openid_at = next(i for i, f in enumerate(fields) if f.attname == "openid")
    cmid_at = next(i for i, f in enumerate(fields) if f.attname == "client_msg_id")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(TemplateMessage._meta.db_table)
    conflict = "ON CONFLICT DO NOTHING"

    def rows(openids: list[str]):
        for openid in openids:
            row = base.copy()
            row[openid_at] = openid
            row[cmid_at] = push_client_msg_id(push.pk, openid)
            yield row

    def insert(openids: list[str]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                sql = f"INSERT INTO {table} ({columns}) VALUES %s {conflict}"  # noqa: S608  identifiers from the model, values bound
                execute_values(cursor.cursor, sql, rows(openids), page_size=len(openids))
            else:
                placeholders = ", ".join(["%s"] * len(fields))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) {conflict}"  # noqa: S608  identifiers from the model, values bound
                cursor.executemany(sql, list(rows(openids)))

    return insert


def template_push_run(*, push_id: int) -> int:
    """Expand the audience and enqueue a batch task per slice of queued messages. Returns the number of batches."""
    template_push_send_batch = jobs.task("messaging.template_messages.tasks.template_push_send_batch")

    push = TemplatePush.objects.select_related("template").get(pk=push_id)
    if push.status != PushStatus.SENDING:
        return 0
    template_push_expand(push=push)
    size = settings.TEMPLATE_PUSH_BATCH_SIZE
    ids = list(TemplateMessage.objects.filter(push_id=push_id, status=Status.QUEUED).order_by("pk").values_list("pk", flat=True))
    batches = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    for first, last in batches:
        transaction.on_commit(lambda first=first, last=last: template_push_send_batch.delay(push_id, first, last))
    if not batches:
        _push_finish_if_done(push_id)
    return len(batches)


def _claim_batch(push_id: int, first_id: int, last_id: int) -> list[tuple[int, str, str]]:
    """Move the slice's queued rows to 'sending' and return them (pk, openid, client_msg_id), in one statement.

    On PostgreSQL, rows another worker is claiming at the same moment are skipped, not waited for (SKIP LOCKED).
    """
    quote = connection.ops.quote_name
    table = quote(TemplateMessage._meta.db_table)
    pk, status, claimed_at, attempts, push, openid, cmid = (
        quote(TemplateMessage._meta.get_field(name).column)
        for name in ("id", "status", "claimed_at", "attempts", "push", "openid", "client_msg_id")
    )
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    sql = (
        f"UPDATE {table} SET {status} = %s, {claimed_at} = %s, {attempts} = {attempts} + 1 "  # noqa: S608  identifiers from the model, values bound
        f"WHERE {pk} IN (SELECT {pk} FROM {table} WHERE {push} = %s AND {pk} BETWEEN %s AND %s AND {status} = %s{lock}) "
        f"AND {status} = %s RETURNING {pk}, {openid}, {cmid}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [Status.SENDING, now, push_id, first_id, last_id, Status.QUEUED, Status.QUEUED])
        return sorted(cursor.fetchall())


def template_push_send_batch(*, push_id: int, first_id: int, last_id: int) -> dict:
    """Send the queued messages of one slice with a pool of concurrent calls under the push's rate limit.

    Transient failures (busy, minute quota, timeouts) are retried a few rounds in place with the same
    client_msg_id; what is still failing goes back to 'queued' and the caller retries the batch later.
    A quota or permission error stops the push with the error shown on it.
    """
    push = TemplatePush.objects.select_related("account", "template").get(pk=push_id)
    summary = {"sent": 0, "failed": 0, "retry": 0, "stopped": False}
    if push.status != PushStatus.SENDING:
        return summary
    rows = _claim_batch(push_id, first_id, last_id)
    if not rows:
        _push_finish_if_done(push_id)
        return summary
    receivers = {pk: (pk, openid, cmid) for pk, openid, cmid in rows}
    limiter = sending.RateLimiter(f"push{push_id}", push.rate_limit)
    concurrency = settings.TEMPLATE_PUSH_CONCURRENCY
    rounds = settings.TEMPLATE_PUSH_TRANSIENT_ROUNDS

    def still_sending() -> bool:
        return _push_status(push_id) == PushStatus.SENDING

    pending = list(receivers)
    sent: dict[int, str] = {}
    failed: dict[int, WeChatError] = {}
    stop_error: WeChatError | None = None
    for round_no in range(rounds):
        results = sending.send_all(
            account=push.account,
            template_id=push.template.template_id,
            content=template_content(push),
            items=(receivers[pk] for pk in pending),
            concurrency=min(concurrency, len(pending)),
            limiter=limiter,
            keep_going=still_sending,
        )
        retry = []
        for pk in pending:
            outcome = results.get(pk)
            if isinstance(outcome, str):
                sent[pk] = outcome
            elif outcome is None:
                retry.append(pk)  # not attempted: the push was stopped
            elif sending.stops_push(outcome):
                stop_error = stop_error or outcome
                retry.append(pk)
            elif outcome.is_transient:
                retry.append(pk)
                failed.pop(pk, None)
                summary["last_transient"] = outcome.errcode
            else:
                failed[pk] = outcome
        pending = retry
        if not pending or stop_error is not None or not still_sending():
            break
        if round_no + 1 < rounds:
            time.sleep(PUSH_ROUND.configured(base=settings.TEMPLATE_PUSH_RETRY_WAIT).delay(round_no + 1))
    _record_batch(push, sent=sent, failed=failed, requeue=pending)
    summary.update(sent=len(sent), failed=len(failed), retry=len(pending))
    if stop_error is not None:
        summary["stopped"] = True
        TemplatePush.objects.filter(pk=push_id, status=PushStatus.SENDING).update(
            status=PushStatus.STOPPED, last_error=stop_error.display[:255]
        )
        logger.warning("template_push.stopped", extra={"push_id": push_id, "errcode": stop_error.errcode})
    _push_refresh_totals(push_id)
    if not pending:
        _push_finish_if_done(push_id)
    return summary


def _push_status(push_id: int) -> str | None:
    """The push's status, read about once a second by each running batch: one plain SELECT, no queryset to compile."""
    quote = connection.ops.quote_name
    table, pk = quote(TemplatePush._meta.db_table), quote(TemplatePush._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status FROM {table} WHERE {pk} = %s", [push_id])  # noqa: S608  identifiers from the model
        row = cursor.fetchone()
    return row[0] if row else None


def _record_batch(push, *, sent: dict[int, str], failed: dict[int, WeChatError], requeue: list[int]) -> None:
    """Store a batch's answers: one statement per row kind (rows differ only in msgid, or errcode and error)."""
    now = timezone.now()
    table = TemplateMessage._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if sent:
            _update_from_values(
                cursor,
                f"UPDATE {table} SET status = %s, msgid = v.msgid, sent_at = %s, errcode = NULL, error = '' "  # noqa: S608  table names from model meta
                f"FROM v WHERE {table}.id = v.id AND {table}.status = %s",
                columns="id, msgid",
                rows=[(pk, msgid) for pk, msgid in sent.items()],
                params=[Status.SENT, now, Status.SENDING],
            )
        if failed:
            _update_from_values(
                cursor,
                f"UPDATE {table} SET status = %s, errcode = v.errcode, error = v.error, finished_at = %s "  # noqa: S608  table names from model meta
                f"FROM v WHERE {table}.id = v.id AND {table}.status = %s",
                columns="id, errcode, error",
                rows=[(pk, exc.errcode, exc.display[:255]) for pk, exc in failed.items()],
                params=[Status.FAILED, now, Status.SENDING],
            )
        if requeue:
            TemplateMessage.objects.filter(pk__in=requeue, status=Status.SENDING).update(status=Status.QUEUED)
    if sent:
        _apply_early_results(account=push.account, msgids=list(sent.values()))


UPDATE_ROWS_PER_STATEMENT = 1000


def _update_from_values(cursor, update: str, *, columns: str, rows: list[tuple], params: list) -> None:
    """``WITH v (columns) AS (VALUES …) UPDATE … FROM v``: one statement per thousand rows, on PostgreSQL and
    SQLite (3.33+) alike, instead of one per row."""
    params = [connection.ops.adapt_datetimefield_value(p) if isinstance(p, datetime) else p for p in params]
    row = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    for start in range(0, len(rows), UPDATE_ROWS_PER_STATEMENT):
        part = rows[start : start + UPDATE_ROWS_PER_STATEMENT]
        sql = f"WITH v ({columns}) AS (VALUES {', '.join([row] * len(part))}) {update}"
        cursor.execute(sql, [*(value for r in part for value in r), *params])


def _push_refresh_totals(push_id: int) -> None:
    """Count the push's messages by status and store the totals.

    The counting runs under the push's row lock. Batches that finish together then write their totals one after
    the other, and the last one counts after every earlier commit. Without the lock, a batch that counted before
    another batch committed could write its smaller totals last.
    """
    with transaction.atomic():
        if not TemplatePush.objects.select_for_update().filter(pk=push_id).values_list("pk", flat=True).first():
            return
        counts = _push_status_counts(push_id)
        failed = sum(counts.get(s, 0) for s in (Status.FAILED, Status.FAILED_USER_BLOCK, Status.FAILED_SYSTEM))
        accepted = sum(counts.get(s, 0) for s in (Status.SENT, Status.SUCCESS, Status.FAILED_USER_BLOCK, Status.FAILED_SYSTEM))
        TemplatePush.objects.filter(pk=push_id).update(
            sent_count=accepted,
            success_count=counts.get(Status.SUCCESS, 0),
            failed_count=failed,
            heartbeat_at=timezone.now(),
        )


def _push_status_counts(push_id: int) -> dict[str, int]:
    rows = TemplateMessage.objects.filter(push_id=push_id).values_list("status").annotate(n=Count("pk"))
    return dict(rows.values_list("status", "n"))


def _push_finish_if_done(push_id: int) -> bool:
    open_ = TemplateMessage.objects.filter(push_id=push_id, status__in=[Status.QUEUED, Status.SENDING]).exists()
    if open_:
        return False
    done = TemplatePush.objects.filter(pk=push_id, status=PushStatus.SENDING, expanded=True).update(
        status=PushStatus.SENT, finished_at=timezone.now()
    )
    if done:
        _push_refresh_totals(push_id)
        logger.info("template_push.finished", extra={"push_id": push_id})
    return bool(done)
