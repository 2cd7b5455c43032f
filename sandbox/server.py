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

In fast mode on PostgreSQL, message/template/send (the hot path of the push bench) is answered here, before
Django: the same token check (``core.authenticate``), the same checks and statements (``template.send_at_once``)
and the same batched call records, on the gthread worker's own thread with
a connection taken from a pool of at most ``SANDBOX_SERVER_DB_SLOTS``. Anything else, and any send while a
fault is set, goes to Django.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import parse_qsl

from django.db import close_old_connections
from django.db.backends.signals import connection_created

from messaging.inbound.prepared import prepared_statement
from wxsite.heap import heap_freeze

logger = logging.getLogger(__name__)

# Threads that post the sandbox's delayed pushes (job-finish events) to the callback; one more keeps their times.
PUSH_THREADS = 8

_queue: list = []
_order = itertools.count()
_ready = threading.Condition()
_due: queue.SimpleQueue = queue.SimpleQueue()
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
    template_send = _template_send_build(settings)
    heap_freeze()  # what is loaded by now lives as long as the process, as in our web

    def respond(environ):
        answered = []
        result = django_app(environ, lambda status, headers, exc_info=None: answered.append((status, headers)))
        try:
            body = b"".join(result)
        finally:
            result.close()  # request_finished: the connection stays open (no maximum age), its state is checked
        return answered[0], body

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if latency and path.startswith("/sandbox/"):
            time.sleep(latency)
        if template_send is not None and path == TEMPLATE_SEND_PATH and environ.get("REQUEST_METHOD") == "POST":
            body = template_send(environ)
            if body is not None:
                start_response("200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
                return [body]
        (status, headers), body = django_threads.submit(respond, environ).result()
        start_response(status, headers)
        return [body]

    return application


TEMPLATE_SEND_API = "cgi-bin/message/template/send"
TEMPLATE_SEND_PATH = f"/sandbox/{TEMPLATE_SEND_API}"
JSON_TYPE = "application/json; charset=utf-8"


class ConnectionPool:
    """At most ``size`` database connections (psycopg2, autocommit), each used by one thread at a time.

    The slots wait in a ``queue.SimpleQueue`` (a slot is a connection with its prepared statements, or None until
    one is opened): a thread that finds none blocks in C, and handing a slot back wakes one waiter without a
    semaphore's Python-level condition variable. In the push bench, where a batch of calls ends its latency at once,
    the semaphore's release took 16% of this server's CPU and the queue's put takes 10%.

    A statement with parameters is prepared on its connection the first time it runs there, and then only executed
    (``PreparingCursor``): PostgreSQL parses and plans each of the send's statements once per connection, not once
    per call (the send's read spent 0.035 ms of the server's CPU prepared against 0.11 planned each time).
    """

    def __init__(self, size: int, connect: Callable):
        self._slots: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(size):
            self._slots.put(None)
        self._connect = connect

    @contextmanager
    def cursor(self) -> Iterator[PreparingCursor]:
        slot = self._slots.get()
        try:
            if slot is None:
                slot = _Slot(self._connect())
            with slot.conn.cursor() as cursor:
                yield PreparingCursor(cursor, slot.prepared)
        except Exception as exc:
            if slot is not None and _db_error(exc):  # a broken connection is not handed out again
                slot.conn.close()
                slot = None
            raise
        finally:
            self._slots.put(slot)

    def close(self) -> None:
        """Close the idle connections (their slots stay, to open new ones if the pool is used again)."""
        idle = []
        while True:
            try:
                idle.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for slot in idle:
            if slot is not None:
                slot.conn.close()
            self._slots.put(None)


class _Slot:
    """One of the pool's connections and the statements prepared on it (SQL → the EXECUTE that runs it)."""

    __slots__ = ("conn", "prepared")

    def __init__(self, conn):
        self.conn = conn
        self.prepared: dict[str, str] = {}


class PreparingCursor:
    """A DB-API cursor whose statements with positional parameters are prepared on their connection the first time
    and then executed by name. The same SQL with ``%s`` placeholders as any cursor takes; the rest of the cursor as
    it is. Each distinct text stays prepared as long as its connection: it serves a fixed set of statements (the
    fast send's), not SQL built per call."""

    def __init__(self, cursor, prepared: dict[str, str]):
        self._cursor = cursor
        self._prepared = prepared

    def execute(self, sql: str, params=None):
        if not params or not isinstance(params, list | tuple) or "%%" in sql:
            # Nothing to bind, named parameters, or an escaped % that PREPARE would not read as the driver does.
            return self._cursor.execute(sql, params)
        execute = self._prepared.get(sql)
        if execute is None:
            prepare, execute = prepared_statement(f"sandbox_{len(self._prepared) + 1}", sql)
            self._cursor.execute(prepare)
            self._prepared[sql] = execute
        return self._cursor.execute(execute, params)

    def __getattr__(self, attr):
        return getattr(self._cursor, attr)


def _db_error(exc: Exception) -> bool:
    import psycopg2

    return isinstance(exc, psycopg2.Error)


def _pg_connect():
    """A connection made as Django makes its own (settings, JSON adapters), in autocommit, its clock in UTC."""
    from django.db import connections

    wrapper = connections["default"]
    conn = wrapper.get_new_connection(wrapper.get_connection_params())
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'; SET synchronous_commit TO OFF")
    return conn


def _template_send_build(settings) -> Callable | None:
    """message/template/send answered without Django in fast mode on PostgreSQL; None elsewhere."""
    from django.db import connection

    if not (settings.SANDBOX_FAST and connection.vendor == "postgresql"):
        return None
    from . import core
    from .endpoints import template
    from .models import SandboxApp, SandboxCredential, SandboxFault

    pool = ConnectionPool(settings.SANDBOX_SERVER_DB_SLOTS, _pg_connect)
    kinds = [SandboxCredential.Kind.TOKEN.value, SandboxCredential.Kind.STABLE_TOKEN.value]
    cred_fields = [f.attname for f in SandboxCredential._meta.concrete_fields]
    app_fields = [f.attname for f in SandboxApp._meta.concrete_fields]
    credential_sql = (
        "SELECT "  # noqa: S608  table and column names from model meta
        + ", ".join(
            [f"c.{f.column}" for f in SandboxCredential._meta.concrete_fields]
            + [f"a.{f.column}" for f in SandboxApp._meta.concrete_fields]
        )
        + f" FROM {SandboxCredential._meta.db_table} c JOIN {SandboxApp._meta.db_table} a ON a.id = c.app_id"
        " WHERE c.value = %s AND c.kind IN (%s, %s) ORDER BY c.id LIMIT 1"
    )
    fault_sql = f"SELECT EXISTS (SELECT 1 FROM {SandboxFault._meta.db_table})"  # noqa: S608  table name from model meta

    def answer(environ) -> bytes | None:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if content_type == "multipart/form-data" or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return None  # Django's way with uploads and oversized bodies
        with pool.cursor() as cursor:

            def fault_exists() -> bool:
                cursor.execute(fault_sql)
                return cursor.fetchone()[0]

            def credential(token: str) -> SandboxCredential | None:
                cursor.execute(credential_sql, [token, *kinds])
                row = cursor.fetchone()
                if row is None:
                    return None
                cred = SandboxCredential.from_db("default", cred_fields, row[: len(cred_fields)])
                cred.app = SandboxApp.from_db("default", app_fields, row[len(cred_fields) :])
                return cred

            if core.faults_any(fault_exists):
                return None  # faults are Django's (core.handle)
            call = core.Call(
                api=TEMPLATE_SEND_API,
                method="POST",
                query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
                body=environ["wsgi.input"].read(length) if length > 0 else b"",
                files={},
                post={},
            )
            errcode = 0
            try:
                core.authenticate(call, credential)
                body = template.send_at_once(cursor, call)
            except core.SandboxError as exc:
                errcode = exc.errcode
                body = exc.body()
            finally:
                core.call_record(call, errcode)
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    answer.pool = pool
    return answer


def _commit_without_waiting(sender, connection, **kwargs) -> None:
    """WeChat's side: its durability is not under test, its commits need not wait for the disk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


def push_later(delay: float, push: Callable, *args) -> None:
    """Run ``push(*args)`` in this process after ``delay`` seconds, on one of the pusher threads."""
    with _ready:
        if not _pushers:
            _pushers.append(threading.Thread(target=_time_forever, name="sandbox-push-timer", daemon=True))
            _pushers.extend(
                threading.Thread(target=_push_forever, name=f"sandbox-push-{n}", daemon=True) for n in range(PUSH_THREADS)
            )
            for thread in _pushers:
                thread.start()
        order = next(_order)
        heapq.heappush(_queue, (time.monotonic() + delay, order, push, args))
        if _queue[0][1] == order:
            _ready.notify()  # a new earliest push: the timer thread waits for it instead


def _time_forever() -> None:
    """One thread watches the clock and hands each due push to a pusher thread (the pushers wait on a queue)."""
    while True:
        with _ready:
            now = time.monotonic()
            while not _queue or _queue[0][0] > now:
                _ready.wait(timeout=(_queue[0][0] - now) if _queue else None)
                now = time.monotonic()
            while _queue and _queue[0][0] <= now:
                _, _, push, args = heapq.heappop(_queue)
                _due.put((push, args))


def _push_forever() -> None:
    while True:
        push, args = _due.get()
        try:
            push(*args)
        except Exception:  # a failed push is WeChat's loss, as with a callback that does not answer
            logger.exception("sandbox.push_failed")
        finally:
            close_old_connections()
