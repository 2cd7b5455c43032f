"""Celery tasks by their registered names.

A service that starts work names the task (the name its ``@shared_task`` registers, frozen by
``tests/test_celery_task_names.py``) instead of importing its app's ``tasks`` module, which imports the services
back: neither needs an import inside a function to dodge the cycle.
"""

import threading

from celery import current_app
from celery.app.task import Task

_importing = threading.Lock()


def task(name: str) -> Task:
    """The registered task ``name``: call ``.delay(...)``, ``.si(...)`` or ``.apply_async(...)`` on it."""
    tasks = current_app.tasks
    if name not in tasks:
        # A process that did not load every app's tasks module at start (web processes and workers do; a management
        # command or a shell does not): import the ones autodiscovery names. One thread at a time: another thread's
        # import may be half done, its module in sys.modules but its tasks not yet registered, and a second importer
        # would find it and look too soon.
        with _importing:
            if name not in tasks:
                current_app.loader.import_default_modules()
    return tasks[name]
