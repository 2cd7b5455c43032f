"""Freezing what a long-lived process loaded at startup (web, Celery worker, the served sandbox)."""

from __future__ import annotations

import gc


def heap_freeze() -> None:
    """Keep what the process built at startup (modules, models, URLconf, settings) out of every later collection.

    A full collection walks every tracked object: in a process that has set up Django, about 120,000 of them, which
    takes tens of milliseconds and stalls the request being served (those tails showed in a load test at
    500 requests/s). Objects made at startup live as long as the process, so they are frozen once.
    """
    gc.collect()
    gc.freeze()
