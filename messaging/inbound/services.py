from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, connections, models, transaction
from django.utils import timezone

import jobs
from accounts.models import OfficialAccount
from wechat import outgoing

from . import effects, replies
from .models import CallbackSignature, InboundMessage
from .prepared import prepared_statement

logger = logging.getLogger(__name__)

# Sweep requests gathered in this process and sent together after this many seconds: a burst of job-finish
# events is swept in a few large batches, not one small sweep per event.
DISPATCH_COALESCE_SECONDS = 0.2
DISPATCH_TASK = "messaging.tasks.inbound_dispatch_pending"
# A sweep enqueued and not yet started keeps other requests for the account out this long at most (a lost one).
DISPATCH_FLAG_SECONDS = 10

# Job-finish events carry their own id; use it so that two jobs finishing in one second stay apart.
_JOB_EVENT_ID_FIELDS = {"masssendjobfinish": "MsgID", "templatesendjobfinish": "MsgID", "publishjobfinish": "PublishEventInfo"}


# Top-level fields WeChat always sends as one element with text: a repeated one (a list) or one with child
# elements or attributes (a dict) is refused rather than stored as "['text', 'image']".
SCALAR_FIELDS = frozenset(
    "ToUserName FromUserName CreateTime MsgType Event EventKey MsgId MsgID MsgDataId Idx Content Recognition "
    "Title Description Url PicUrl MediaId ThumbMediaId Format Location_X Location_Y Scale Label Latitude "
    "Longitude Precision Ticket MenuId Status TotalCount FilterCount SentCount ErrorCount Encrypt".split()
)
_PUBLISH_SCALARS = ("publish_id", "publish_status", "article_id")
# The longest each field may be, from the inbound row's columns (the account's original_id for ToUserName).
_MAX_LENGTHS = {"FromUserName": 64, "ToUserName": 32, "MsgType": 32, "Event": 64, "EventKey": 512, "MsgId": 32, "MsgID": 32}
_CREATE_TIME_RE = re.compile(r"^[0-9]{1,12}$")


class InboundRejected(ValueError):
    """A pushed message that cannot be stored as it is; the callback answers 400 and writes nothing."""


def inbound_fields_check(*, data: dict) -> None:
    """Refuse fields that would be stored wrongly or not at all: lists or trees where WeChat sends one value,
    values longer than their column, a CreateTime that is not unix seconds, NUL anywhere (PostgreSQL refuses
    it in text)."""
    for name, value in data.items():
        if isinstance(value, list):
            raise InboundRejected(f"<{name}> appears more than once")
        if name in SCALAR_FIELDS and isinstance(value, dict):
            raise InboundRejected(f"<{name}> must be a single value")
    info = data.get("PublishEventInfo")
    if isinstance(info, dict) and any(isinstance(info.get(name), list | dict) for name in _PUBLISH_SCALARS):
        raise InboundRejected("<PublishEventInfo> must carry single values")
    if not _text(data.get("MsgType")) or not _text(data.get("FromUserName")):
        raise InboundRejected("MsgType and FromUserName are required")
    for name, limit in _MAX_LENGTHS.items():
        if len(_text(data.get(name))) > limit:
            raise InboundRejected(f"<{name}> is longer than {limit} characters")
    create_time = data.get("CreateTime")
    if create_time is not None and not _CREATE_TIME_RE.match(_text(create_time)):
        raise InboundRejected("<CreateTime> must be unix seconds")
    if len(dedupe_key_for(data)) > InboundMessage._meta.get_field("dedupe_key").max_length:
        raise InboundRejected("the message's identifying fields are too long")
    if _contains_nul(data):
        raise InboundRejected("NUL characters are not accepted")


def _contains_nul(value) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class SignatureReused(Exception):
    """The callback's signature was already used with another body: the callback answers 403 and writes nothing."""


@dataclass(frozen=True)
class SignatureClaim:
    """A signed callback's signature, to be tied to its body by the statement that stores the message."""

    key: str
    body_digest: str
    expires_at: datetime


def callback_signature_claim(
    *, appid: str, timestamp: str, nonce: str, signature: str, body: bytes, window: int
) -> SignatureClaim:
    """The claim ``inbound_receive`` stores with the message, for as long as ``timestamp`` is accepted (``window``).

    A plaintext signature covers token, timestamp and nonce only, so the same query string would sign any body. A
    signature already used with another body is refused (``SignatureReused``); the same body again (WeChat's retry)
    is answered from the log.
    """
    key = hashlib.sha256("|".join((appid, timestamp, nonce, signature.lower())).encode()).hexdigest()
    expires_at = datetime.fromtimestamp(int(timestamp) + window + 1, tz=UTC)
    return SignatureClaim(key=key, body_digest=hashlib.sha256(body).hexdigest(), expires_at=expires_at)


def callback_signatures_prune() -> int:
    """Beat: delete the claims whose timestamp is no longer accepted; a signed callback that old is refused anyway."""
    deleted, _ = CallbackSignature.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


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


def inbound_receive(*, account, data: dict, raw_xml: str, claim: SignatureClaim | None = None) -> str:
    """Store the message and return the plaintext reply ('' for 'success').

    Raises ``InboundRejected`` (nothing written) for fields that cannot be stored as they are, and
    ``SignatureReused`` (nothing written) when ``claim``'s signature was already used with another body.

    The row, its reply and the signature's claim are committed together before the reply leaves, so a retry of the
    same message (same dedupe key) gets the first reply back and triggers no second side effect.
    """
    inbound_fields_check(data=data)
    if "\x00" in raw_xml:
        raise InboundRejected("NUL characters are not accepted")
    key = dedupe_key_for(data)
    msg_type = _text(data.get("MsgType")).lower()
    try:
        match = replies.reply_for(account, data)
    except Exception:  # a broken rule must not cost the follower an answer
        logger.exception("messaging.reply_failed", extra={"appid": account.appid})
        match = replies.Match(None)
    reply_xml = ""
    if match.reply is not None:
        reply_xml = outgoing.reply_xml(
            match.reply,
            to_user=_text(data.get("FromUserName")),
            from_user=_text(data.get("ToUserName")),
            for_event=msg_type == "event",
        )
    row = {
        "account_id": account.pk,
        "openid": _text(data.get("FromUserName")),
        "msg_type": msg_type,
        "event": _text(data.get("Event")),
        "event_key": _text(data.get("EventKey")),
        "content": _content(data),
        "msg_id": _text(data.get("MsgId") or data.get("MsgID")),
        "dedupe_key": key,
        "payload": data,
        "raw_xml": raw_xml,
        "create_time": _create_time(data),
        "reply_xml": reply_xml,
        "reply_sent": bool(reply_xml),
        "matched_rule_id": match.rule_id,
    }
    if not _insert_committed(row, claim):
        first = InboundMessage.objects.filter(account=account, dedupe_key=key).values_list("reply_xml", flat=True).first()
        logger.info("messaging.duplicate", extra={"appid": account.appid, "dedupe_key": key})
        return first or ""
    transaction.on_commit(lambda: dispatch_request(account_id=account.pk), robust=True)
    if not account.original_id and data.get("ToUserName"):
        account.original_id = _text(data["ToUserName"])
        type(account).objects.filter(pk=account.pk, original_id="").update(original_id=account.original_id)
    return reply_xml


def _insert_committed(row: dict, claim: SignatureClaim | None) -> bool:
    """Insert and commit the row with its claim; False when a row with its dedupe key is there already (WeChat's
    retry), and then the claim is kept all the same, so that the retry's signature cannot sign another body.

    On PostgreSQL the claim and the row go in one statement, outside a transaction its own commit (one round trip).
    Inside a caller's transaction (tests) a savepoint keeps a refused claim from breaking it.
    """
    # Elsewhere than PostgreSQL the claim and the row are two statements, committed together.
    two_statements = claim is not None and connection.vendor != "postgresql"
    try:
        if two_statements or connection.in_atomic_block:
            with transaction.atomic():
                return _insert(row, claim)
        return _insert(row, claim)
    except IntegrityError:
        seen = None
        if claim is not None:
            seen = CallbackSignature.objects.filter(key=claim.key).values_list("body_digest", flat=True).first()
        if seen is None:
            raise
        if seen != claim.body_digest:
            raise SignatureReused("this signature was already used with another body") from None
        return False  # the same body with the same signature: answered from the log


# Fields whose Python values (str, bool, int, None) go to the driver as they are; the others are prepared by the field.
_PASSED_AS_IS = (models.CharField, models.TextField, models.BooleanField, models.ForeignKey)


@functools.cache
def _insert_sql(vendor: str) -> tuple[str, tuple]:
    """One inbound row's INSERT, and its columns as (attname, the field that prepares the value or None, field)."""
    fields = tuple(f for f in InboundMessage._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  identifiers from the model, values bound
        quote(InboundMessage._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    columns = tuple((f.attname, None if isinstance(f, _PASSED_AS_IS) else f, f) for f in fields)
    return sql, columns


def _insert_params(row: dict) -> list:
    """The values of ``_insert_sql``'s statement for ``row`` (attname → Python value), in its columns' order."""
    _, columns = _insert_sql(connection.vendor)
    params = []
    for attname, prepared_by, field in columns:
        # A missing column takes its default per row: a callable default (dict, now) is called each time.
        value = row[attname] if attname in row else field.get_default()
        params.append(value if prepared_by is None else prepared_by.get_db_prep_save(value, connection))
    return params


@functools.cache
def _receive_sql(vendor: str) -> tuple[str, str, str | None]:
    """The claim's INSERT, the row's INSERT that leaves out a duplicate of its dedupe key, and on PostgreSQL the two
    as one statement (the claim in a data-modifying WITH, run whatever the row's INSERT does)."""
    quote = connection.ops.quote_name
    claim = "INSERT INTO {} ({}, {}, {}) VALUES (%s, %s, %s)".format(  # noqa: S608  identifiers from the model
        quote(CallbackSignature._meta.db_table), quote("key"), quote("body_digest"), quote("expires_at")
    )
    row = "{} ON CONFLICT ({}, {}) DO NOTHING".format(
        _insert_sql(vendor)[0],
        quote(InboundMessage._meta.get_field("account").column),
        quote(InboundMessage._meta.get_field("dedupe_key").column),
    )
    return claim, row, f"WITH claim AS ({claim}) {row}" if vendor == "postgresql" else None


def _insert(row: dict, claim: SignatureClaim | None) -> bool:
    # The callback's hottest statement, written directly: the ORM's model instance and per-call SQL compilation
    # cost more than the rest of the matching. Dates and JSON still go through their field's database preparation.
    claim_sql, row_sql, both_sql = _receive_sql(connection.vendor)
    row["received_at"] = timezone.now()
    params = _insert_params(row)
    with connection.cursor() as cursor:
        if claim is not None:
            claimed = [claim.key, claim.body_digest, _expires_field.get_db_prep_save(claim.expires_at, connection)]
            if both_sql is not None:
                if _prepared_usable():
                    _execute_prepared(cursor, both_sql, claimed + params)
                    return cursor.rowcount == 1
                row_sql, params = both_sql, claimed + params
            else:
                cursor.execute(claim_sql, claimed)
        cursor.execute(row_sql, params)
        return cursor.rowcount == 1


# The callback's statement on PostgreSQL is prepared once per database session and then only executed: the server
# skips parsing and planning it for every message (about a fifth of its CPU for the statement).
_PREPARED = "inbound_receive"


def _prepared_usable() -> bool:
    """Outside a transaction (the callback's own commit), and unless a transaction pooler may hand each statement to
    another session (``DISABLE_SERVER_SIDE_CURSORS``, which such a deployment sets)."""
    return not connection.in_atomic_block and not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")


def _execute_prepared(cursor, sql: str, params: list) -> None:
    """``EXECUTE`` the statement prepared from ``sql`` in this session, preparing it first where it is not. A session
    that lost it (reset by a pooler) gets it again; outside a transaction the failed EXECUTE changed nothing."""
    prepare, execute = prepared_statement(_PREPARED, sql)
    if getattr(connection, "inbound_prepared_on", None) is not connection.connection:
        _prepare(cursor, prepare)
    try:
        cursor.execute(execute, params)
    except DatabaseError as exc:
        if _pgcode(exc) != _UNDEFINED_PREPARED_STATEMENT:
            raise
        _prepare(cursor, prepare)
        cursor.execute(execute, params)


_UNDEFINED_PREPARED_STATEMENT, _DUPLICATE_PREPARED_STATEMENT = "26000", "42P05"


def _prepare(cursor, prepare: str) -> None:
    try:
        cursor.execute(prepare)
    except DatabaseError as exc:
        if _pgcode(exc) != _DUPLICATE_PREPARED_STATEMENT:
            raise
    # The driver connection it was prepared on, kept so that a new connection cannot be mistaken for it.
    connection.inbound_prepared_on = connection.connection


def _pgcode(exc: DatabaseError) -> str | None:
    """PostgreSQL's SQLSTATE of the driver's error that Django's ``exc`` wraps."""
    return getattr(exc.__cause__, "pgcode", None)


_expires_field = CallbackSignature._meta.get_field("expires_at")


class _SweepRequests:
    """Accounts whose sweep this process still has to request, and the one thread that requests them.

    The thread lives as long as the process (started on first use, again in a forked child), so a callback pays a
    set lookup and, for the first message of its account in a window, a lock and an event; not a thread start.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.accounts: set[int] = set()
        self.thread: threading.Thread | None = None

    def add(self, account_id: int) -> None:
        if account_id in self.accounts:
            # Asked for already in this window, and read without the lock, so that the callbacks of a burst do not
            # queue on it. The thread takes the set's accounts and then empties it, under the lock: an account seen
            # here before that is in what it takes, and its sweep reads the rows committed before this call.
            return
        with self.lock:
            first = not self.accounts
            self.accounts.add(account_id)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="inbound-sweep-requests", daemon=True)
                self.thread.start()
        if first:
            self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(DISPATCH_COALESCE_SECONDS)
            # Cleared before the accounts are taken: a request added after the swap sets it again.
            self.wake.clear()
            with self.lock:
                account_ids = sorted(self.accounts)
                self.accounts.clear()
            try:
                _sweeps_request(account_ids)
            except Exception:  # the thread must outlive it; the beat sweep covers these accounts
                logger.exception("messaging.dispatch_request_failed", extra={"account_ids": account_ids})


_sweep_requests = _SweepRequests()


def _sweep_requests_after_fork() -> None:
    global _sweep_requests
    _sweep_requests = _SweepRequests()  # the parent's thread does not exist here, and its lock may be held


os.register_at_fork(after_in_child=_sweep_requests_after_fork)


def dispatch_request(*, account_id: int) -> None:
    """Ask for a sweep of the account's unhandled messages.

    Requests are gathered in this process for ``DISPATCH_COALESCE_SECONDS`` and sent by its sweep-request
    thread, which enqueues one Celery task per account unless a sweep is already waiting for it (enqueued by any
    process: the shared flag), so a burst of messages costs one enqueue instead of one each and the callback pays
    a set lookup (a lock for the first message of a window). A request lost with its process is covered by the beat task's stale sweep.
    """
    inbound_dispatch_pending = jobs.task(DISPATCH_TASK)
    if inbound_dispatch_pending.app.conf.task_always_eager:
        inbound_dispatch_pending.delay(account_id)
        return
    _sweep_requests.add(account_id)


def _sweep_flag_key(account_id: int) -> str:
    return f"inbound:sweep-requested:{account_id}"


def _sweeps_request(account_ids: list[int]) -> None:
    """Enqueue a sweep for each account that has none waiting in any process: the shared "sweep requested" flag
    (``cache.add``) lets one process enqueue it, and the sweep clears it before it reads the rows."""
    inbound_dispatch_pending = jobs.task(DISPATCH_TASK)
    try:
        for account_id in account_ids:
            key = _sweep_flag_key(account_id)
            try:
                if not cache.add(key, 1, timeout=DISPATCH_FLAG_SECONDS):
                    continue
                inbound_dispatch_pending.delay(account_id)
            except Exception:  # the broker is down: the beat sweep handles these rows later
                logger.exception("messaging.dispatch_request_failed", extra={"account_id": account_id})
                cache.delete(key)
    finally:
        # A connection this thread opened (a task run in-process) must not be kept across its long wait.
        connections.close_all()


def inbound_dispatch_pending(*, account_id: int, limit: int = 500) -> int:
    """Run the side effects of the account's unhandled messages, oldest first. Returns how many ran.

    Events with a bulk effect (job-finish reports) are handled together, one claim and one effect per kind.
    """
    # Cleared before the read: a message committed from now on requests a sweep of its own.
    cache.delete(_sweep_flag_key(account_id))
    pending = list(
        InboundMessage.objects.filter(account_id=account_id, handled_at__isnull=True)
        .order_by("id")
        .values_list("pk", "msg_type", "event")[:limit]
    )
    bulk = effects.bulk_events()
    grouped: dict[str, list[int]] = {}
    singles: list[int] = []
    for pk, msg_type, event in pending:
        kind = (event or "").lower()
        if msg_type == "event" and kind in bulk:
            grouped.setdefault(kind, []).append(pk)
        else:
            singles.append(pk)
    handled = sum(inbound_dispatch_bulk(account_id=account_id, event=kind, inbound_ids=pks) for kind, pks in grouped.items())
    handled += sum(1 for pk in singles if inbound_dispatch(inbound_id=pk))
    if len(pending) == limit:
        dispatch_request(account_id=account_id)
    return handled


# The columns a bulk effect is given (``effects.bulk_effect_register``).
BULK_EFFECT_FIELDS = ("id", "account_id", "openid", "msg_type", "event", "msg_id", "payload", "create_time", "received_at")


def inbound_dispatch_bulk(*, account_id: int, event: str, inbound_ids: list[int]) -> int:
    """Claim the still unhandled ``inbound_ids`` (all ``event``) at once and run their bulk effect. Returns how many.

    Rows another sweep holds are skipped (``SKIP LOCKED``), never waited for; the claim commits with the effect,
    so a crash in between leaves the rows to the next sweep.
    """
    with transaction.atomic():
        # A bulk effect reads what the event reported, not the stored XML: the other columns stay in the database.
        rows = list(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=inbound_ids, account_id=account_id, handled_at__isnull=True)
            .only(*BULK_EFFECT_FIELDS)
            .order_by("id")
        )
        if not rows:
            return 0
        account = OfficialAccount.objects.get(pk=account_id)
        for row in rows:
            row.account = account
        InboundMessage.objects.filter(pk__in=[row.pk for row in rows]).update(handled_at=timezone.now())
        applied = effects.bulk_effect_run(event=event, inbounds=rows)
    if not applied:
        for row in InboundMessage.objects.filter(pk__in=[row.pk for row in rows]).select_related("account").order_by("id"):
            effects.effects_run(inbound=row)
    return len(rows)


def inbound_dispatch_stale(*, older_than: int = 30) -> int:
    """Beat: sweep accounts whose messages wait longer than expected (a sweep was lost with its worker)."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    account_ids = (
        InboundMessage.objects.filter(handled_at__isnull=True, received_at__lt=cutoff)
        .values_list("account_id", flat=True)
        .distinct()
    )
    return sum(inbound_dispatch_pending(account_id=account_id) for account_id in list(account_ids))


def inbound_dispatch(*, inbound_id: int) -> bool:
    """Run the side effects of one inbound message, once."""
    claimed = InboundMessage.objects.filter(pk=inbound_id, handled_at__isnull=True).update(handled_at=timezone.now())
    if not claimed:
        return False
    inbound = InboundMessage.objects.select_related("account").get(pk=inbound_id)
    effects.effects_run(inbound=inbound)
    return True
