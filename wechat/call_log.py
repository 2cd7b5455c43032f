"""Buffered writes of ``ApiCallLog``: one bulk insert per batch instead of one commit per API call.

The buffer is process-wide (threads of a pool share it) and is flushed when it holds
``WECHAT_API_CALL_LOG_BATCH`` rows, when its oldest row is a second old, at the end of every request
and Celery task, and at exit. A crash can lose at most that last second of call records.
``RowBuffer`` is the same for any model written per call (the audit trail's WeChat calls).

Threads of a sending pool record inside ``deferred()``: they never flush, so they never open a database
connection of their own; the thread that runs the pool flushes (``flush_due``) while it waits for them.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from contextlib import contextmanager

from celery.signals import task_postrun, worker_process_shutdown
from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection

from .models import ApiCallLog

logger = logging.getLogger(__name__)

MAX_AGE_SECONDS = 1.0
_thread = threading.local()
_buffers: list[RowBuffer] = []


@contextmanager
def deferred():
    """Rows added in this block (by this thread) are only buffered; another thread flushes them."""
    _thread.deferred = True
    try:
        yield
    finally:
        _thread.deferred = False


class RowBuffer:
    """Unsaved rows of one model, bulk-inserted by ``WECHAT_API_CALL_LOG_BATCH`` or after a second; ``flush`` writes the rest."""

    def __init__(self, model):
        self.model = model
        self._lock = threading.Lock()
        self._rows: list = []
        self._oldest = 0.0
        atexit.register(self.flush)
        _buffers.append(self)

    def _due(self) -> bool:
        return bool(self._rows) and (
            len(self._rows) >= settings.WECHAT_API_CALL_LOG_BATCH or time.monotonic() - self._oldest >= MAX_AGE_SECONDS
        )

    def add(self, row) -> None:
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            due = self._due() and not getattr(_thread, "deferred", False)
        if due:
            self.flush()

    def flush_due(self) -> int:
        """Flush if the buffer is full or its oldest row is a second old."""
        with self._lock:
            due = self._due()
        return self.flush() if due else 0

    def flush(self, **_signal_kwargs) -> int:
        if connection.needs_rollback:
            return 0  # inside a broken transaction; the next flush writes them
        with self._lock:
            rows = self._rows[:]
            self._rows.clear()
        if not rows:
            return 0
        try:
            self.model.objects.bulk_create(rows, batch_size=500)
        except DatabaseError:
            logger.exception("wechat.row_buffer_flush_failed", extra={"rows": len(rows), "model": self.model._meta.label})
            return 0
        return len(rows)


calls = RowBuffer(ApiCallLog)


def record(**fields) -> None:
    calls.add(ApiCallLog(**fields))


def flush(**_signal_kwargs) -> int:
    return calls.flush()


def flush_due() -> int:
    """Every buffer that is due (full, or its oldest row a second old), written by the calling thread."""
    return sum(buffer.flush_due() for buffer in _buffers)


request_finished.connect(flush, dispatch_uid="wechat.call_log.request_finished")
task_postrun.connect(flush, dispatch_uid="wechat.call_log.task_postrun", weak=False)
worker_process_shutdown.connect(flush, dispatch_uid="wechat.call_log.shutdown", weak=False)
