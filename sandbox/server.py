"""The sandbox as a process of its own over HTTP, as production reaches api.weixin.qq.com (``manage.py sandbox_serve``).

Served by gunicorn on the loopback interface with the sandbox's private URLconf (``sandbox.inprocess_urls``) and
no middleware (machine-to-machine calls: no session, user, language or CSRF token to look at): our processes
call it through the same HTTP client as WeChat, with keep-alive, so a bench measures our cost, not the
stand-in's. ``SANDBOX_LATENCY_MS`` is WeChat's answer time: it is slept in the WSGI layer, before Django, in one
of the gthread worker's many threads, so a waiting call holds a thread and nothing else. Django itself runs on
``SANDBOX_SERVER_DB_SLOTS`` threads per process, each keeping its database connection from call to call: the
stand-in holds a bounded number of connections however many calls wait, and pays no connection setup per call.
TEMPLATESENDJOBFINISH pushes leave from this process on their own threads (``push_later``), posted over HTTP to
the account's callback URL.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

# Threads that post the sandbox's delayed pushes (job-finish events) to the callback.
PUSH_THREADS = 8

_queue: list = []
_order = itertools.count()
_ready = threading.Condition()
_pushers: list[threading.Thread] = []


def application_build():
    """gunicorn entry point: the sandbox's private URLconf behind a latency that holds no database connection."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    # This process serves only the loopback interface over plain HTTP (the launcher refuses anything else).
    settings.ROOT_URLCONF = "sandbox.inprocess_urls"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
    settings.SECURE_SSL_REDIRECT = False
    settings.MIDDLEWARE = []
    # Kept open by the few Django threads below (and the pusher threads), so their number bounds the connections.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = None
    connection_created.connect(_commit_without_waiting, weak=False, dispatch_uid="sandbox.server.commit_without_waiting")
    django_app = get_wsgi_application()
    latency = settings.SANDBOX_LATENCY_MS / 1000
    django_threads = ThreadPoolExecutor(max_workers=settings.SANDBOX_SERVER_DB_SLOTS, thread_name_prefix="sandbox-django")

    def respond(environ):
        answered = []
        result = django_app(environ, lambda status, headers, exc_info=None: answered.append((status, headers)))
        try:
            body = b"".join(result)
        finally:
            result.close()  # request_finished: the connection stays open (no maximum age), its state is checked
        return answered[0], body

    def application(environ, start_response):
        if latency and environ.get("PATH_INFO", "").startswith("/sandbox/"):
            time.sleep(latency)
        (status, headers), body = django_threads.submit(respond, environ).result()
        start_response(status, headers)
        return [body]

    return application


def _commit_without_waiting(sender, connection, **kwargs) -> None:
    """WeChat's side: its durability is not under test, its commits need not wait for the disk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


def push_later(delay: float, push: Callable, *args) -> None:
    """Run ``push(*args)`` in this process after ``delay`` seconds, on one of the pusher threads."""
    with _ready:
        if not _pushers:
            for n in range(PUSH_THREADS):
                thread = threading.Thread(target=_push_forever, name=f"sandbox-push-{n}", daemon=True)
                thread.start()
                _pushers.append(thread)
        heapq.heappush(_queue, (time.monotonic() + delay, next(_order), push, args))
        _ready.notify()


def _push_forever() -> None:
    while True:
        with _ready:
            while not _queue or _queue[0][0] > time.monotonic():
                _ready.wait(timeout=(_queue[0][0] - time.monotonic()) if _queue else None)
            _, _, push, args = heapq.heappop(_queue)
        try:
            push(*args)
        except Exception:  # a failed push is WeChat's loss, as with a callback that does not answer
            logger.exception("sandbox.push_failed")
        finally:
            close_old_connections()
