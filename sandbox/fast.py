"""The sandbox's fast mode (``SANDBOX_FAST``): the stand-in for WeChat keeps its own per-call cost small.

Calls are kept in memory and written as ``SandboxCall`` rows in batches (``SANDBOX_FAST_CALL_BATCH``, at least
every half second, and when the process exits), instead of one INSERT per call; a reader sees them after
the next flush, or at once after the sandbox server stopped. A full batch wakes the flusher thread; the thread that
recorded the call does not write it. Quota counters are not kept (see core.handle).
"""

from __future__ import annotations

import atexit
import threading

from django.conf import settings
from django.db import close_old_connections, connection

FLUSH_SECONDS = 0.5

_pending: list = []
_lock = threading.Lock()
_flusher: threading.Thread | None = None
_full = threading.Event()


def call_record(*, app, api: str, errcode: int, request_json) -> None:
    from .models import SandboxCall

    row = SandboxCall(app=app, api=api, errcode=errcode, request_json=request_json)
    with _lock:
        _pending.append(row)
        full = len(_pending) >= settings.SANDBOX_FAST_CALL_BATCH
    _flusher_start()
    if full:
        # The flusher writes them, so that a thread serving calls opens no database connection of its own for it.
        if _flusher is not None:
            _full.set()
        else:
            calls_flush()


def calls_flush() -> int:
    """Write every pending call record now; returns how many."""
    from .models import SandboxCall

    with _lock:
        rows = _pending[:]
        _pending.clear()
    if rows:
        SandboxCall.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _flush_forever() -> None:
    while True:
        _full.wait(FLUSH_SECONDS)
        _full.clear()
        try:
            calls_flush()
        finally:
            close_old_connections()


def _at_exit() -> None:
    calls_flush()
    connection.close()


def _flusher_start() -> None:
    global _flusher
    if _flusher is not None:
        return
    with _lock:
        if _flusher is None:
            _flusher = threading.Thread(target=_flush_forever, name="sandbox-call-flush", daemon=True)
            _flusher.start()
            atexit.register(_at_exit)
