"""Celery tasks by their registered names.

A service that starts work names the task (the name its ``@shared_task`` registers, frozen by
``tests/test_celery_task_names.py``) instead of importing its app's ``tasks`` module, which imports the services
back: neither needs an import inside a function to dodge the cycle.
"""

from celery import current_app
from celery.app.task import Task


def task(name: str) -> Task:
    """The registered task ``name``: call ``.delay(...)``, ``.si(...)`` or ``.apply_async(...)`` on it."""
    if name not in current_app.tasks:
        # A web process has not imported every app's tasks module: import the ones autodiscovery names, once.
        current_app.loader.import_default_modules()
    return current_app.tasks[name]
