import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from django.db import close_old_connections

from wxsite.heap import heap_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")

app = Celery("wxsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after each task unless told to reuse them:
# a new PostgreSQL connection (a server process forked) per task. Keep them, and close before and after a task
# only what Django closes around a web request: connections older than CONN_MAX_AGE, or left unusable.
app.conf["CELERY_DB_REUSE_MAX"] = 2**31


def _close_old_connections(sender=None, **kwargs) -> None:
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


task_prerun.connect(_close_old_connections, weak=False, dispatch_uid="wxsite.celery.close_old_connections_prerun")
task_postrun.connect(_close_old_connections, weak=False, dispatch_uid="wxsite.celery.close_old_connections_postrun")


def _heap_freeze(**kwargs) -> None:
    heap_freeze()


# A worker freezes what it loaded at startup as a web process does (``wxsite.heap.heap_freeze``): the main process
# once it is ready (the thread and solo pools run tasks there), each prefork child as it starts.
worker_ready.connect(_heap_freeze, weak=False, dispatch_uid="wxsite.celery.heap_freeze_ready")
worker_process_init.connect(_heap_freeze, weak=False, dispatch_uid="wxsite.celery.heap_freeze_child")
