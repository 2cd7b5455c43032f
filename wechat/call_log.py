"""Buffered writes of ``ApiCallLog``: one bulk insert per batch instead of one commit per API call.

The buffer is process-wide (threads of a pool share it) and is flushed when it holds
``WECHAT_API_CALL_LOG_BATCH`` rows, when its oldest row is a second old, at the end of every request
and Celery task, and at exit. A crash can lose at most that last second of call records.
Rows of other models written per call (the audit trail's WeChat calls) share the buffer: ``record_row``.

Threads of a sending pool record inside ``deferred()``: they never flush, so they never open a database
connection of their own; the thread that runs the pool flushes (``flush_due``) while it waits for them.

A call record is kept as a tuple of column values and written by one COPY (PostgreSQL) or one multi-row INSERT: a
push records thousands a second, and a model instance per call (with ``bulk_create`` compiling it) would cost more
than the call's own HTTP.
"""

from __future__ import annotations

import atexit
import io
import logging
import re
import threading
import time
from contextlib import contextmanager

from celery.signals import task_postrun, worker_process_shutdown
from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection
from django.utils import timezone

from .models import ApiCallLog

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 1.0
_lock = threading.Lock()
_rows: list = []
_oldest = 0.0
_thread = threading.local()


@contextmanager
def deferred():
    """Rows recorded in this block (by this thread) are only buffered; another thread flushes them."""
    _thread.deferred = True
    try:
        yield
    finally:
        _thread.deferred = False


def _due() -> bool:
    return bool(_rows) and (len(_rows) >= settings.WECHAT_API_CALL_LOG_BATCH or time.monotonic() - _oldest >= MAX_AGE_SECONDS)


# ApiCallLog's columns, in the order ``record`` buffers them.
_CALL_COLUMNS = ("account_id", "endpoint", "method", "errcode", "errmsg", "duration_ms", "created_at")


def record(*, account, endpoint: str, method: str, errcode: int, errmsg: str, duration_ms: int) -> None:
    """Buffer one call record (``ApiCallLog``). A NUL in WeChat's errmsg is dropped: no database text holds one."""
    if "\x00" in errmsg:
        errmsg = errmsg.replace("\x00", "")
    record_row((getattr(account, "pk", None), endpoint, method, errcode, errmsg, duration_ms, timezone.now()))


def record_row(row) -> None:
    """Buffer an unsaved row of any model, or a call record's tuple; they are bulk-inserted together."""
    global _oldest
    with _lock:
        if not _rows:
            _oldest = time.monotonic()
        _rows.append(row)
        due = _due() and not getattr(_thread, "deferred", False)
    if due:
        flush()


def flush_due() -> int:
    """Flush if the buffer is full or its oldest row is a second old."""
    with _lock:
        due = _due()
    return flush() if due else 0


def flush(**_signal_kwargs) -> int:
    if connection.needs_rollback:
        return 0  # inside a broken transaction; the next flush writes them
    with _lock:
        rows = _rows[:]
        _rows.clear()
    if not rows:
        return 0
    by_model: dict[type, list] = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row)
    try:
        for model, group in by_model.items():
            if model is tuple:
                _insert_calls(group)
            else:
                model.objects.bulk_create(group, batch_size=500)
    except DatabaseError:
        logger.exception("wechat.api_call_log_flush_failed", extra={"rows": len(rows)})
        return 0
    return len(rows)


def _insert_calls(rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    table = quote(ApiCallLog._meta.db_table)
    columns = ", ".join(quote(ApiCallLog._meta.get_field(name.removesuffix("_id")).column) for name in _CALL_COLUMNS)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format: a tenth of the client's CPU of a multi-row INSERT, whose values are quoted in Python.
            lines = "".join(map(_copy_line, rows))
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(lines))
        else:
            adapt = connection.ops.adapt_datetimefield_value
            placeholders = ", ".join(["%s"] * len(_CALL_COLUMNS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608  identifiers from the model, values bound
            cursor.executemany(sql, [(*row[:-1], adapt(row[-1])) for row in rows])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_line(row: tuple) -> str:
    """A call record as a line of COPY's text format (``_CALL_COLUMNS``): NULL is ``\\N``, and backslashes, tabs and
    line breaks in its texts are escaped (rare: only WeChat's errmsg might hold one)."""
    account_id, endpoint, method, errcode, errmsg, duration_ms, created_at = row
    if _COPY_SPECIAL.search(f"{endpoint}{method}{errmsg}"):
        endpoint, method, errmsg = (text.translate(_COPY_ESCAPES) for text in (endpoint, method, errmsg))
    account = "\\N" if account_id is None else account_id
    return f"{account}\t{endpoint}\t{method}\t{errcode}\t{errmsg}\t{duration_ms}\t{created_at.isoformat()}\n"


request_finished.connect(flush, dispatch_uid="wechat.call_log.request_finished")
task_postrun.connect(flush, dispatch_uid="wechat.call_log.task_postrun", weak=False)
worker_process_shutdown.connect(flush, dispatch_uid="wechat.call_log.shutdown", weak=False)
atexit.register(flush)
