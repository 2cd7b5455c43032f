"""Handing work to Celery after a commit, without letting a broker outage undo or fail what was committed.

A row that a request committed is the record of the work; the queue message is only a nudge. When the broker
cannot be reached the failure is logged and the request still succeeds: the beat sweeps (``mass_dispatch_due``,
``template_messages_dispatch_stale``) find the committed rows and send them.
"""

from __future__ import annotations

import logging

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def task_enqueue(task, *args) -> bool:
    """``task.delay(*args)``; False (logged) when the broker is unreachable."""
    try:
        task.delay(*args)
    except (OperationalError, OSError) as exc:
        logger.warning(
            "task.enqueue_failed",
            extra={"task": task.name, "task_args": list(args), "error": type(exc).__name__},
        )
        return False
    return True


def task_enqueue_on_commit(task, *args) -> None:
    """Enqueue ``task(*args)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task_enqueue(task, *args))
