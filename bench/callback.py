"""Callback throughput (in-process WSGI) and latency (gunicorn) against auto-reply rules. DESIGN §5.

In-process, through Django's WSGI handler with the project's middleware, each message unique (own MsgId):
  (a) a bare Django view: signature check + wechatpy parse_message + a fixed reply
  (b) the real callback, account with 0 rules
  (c) the real callback, account with 1,000 keyword rules (exact/contains/regex mixed), text matching a late rule
  (e) the bare view + one durable INSERT of the row the callback stores, as cheap as it can be written (one
      statement prepared once, autocommit)
The real callback stores each row (committed before the reply) and enqueues the Celery dispatch after commit,
on whatever broker the settings give. Targets: (c)/(a) >= 0.5, (c)/(e) >= 0.8.

    .venv/bin/python bench/callback.py [--requests 3000] [--rounds 15] [--breakdown] [--profile]
    .venv/bin/python bench/callback.py --gunicorn [--rate 200] [--seconds 10] [--workers 2*cores+1]

The cases run in many short interleaved rounds and the medians are printed, so load from other
processes on the machine shifts all cases alike. --breakdown adds a diagnostic (d), the 0-rule callback
with the after-commit Celery enqueue skipped, to show what the enqueue costs; it is not the real path. It also
serves the floors through the callback's own short middleware list, (f) and (g), the strictest comparison.

--gunicorn starts gunicorn on a free port with the real app and fires --rate requests/s (open loop, one
connection per request, like WeChat) at the 1,000-rule account; latency counts from each request's
scheduled send time. Target: p99 < 50 ms. Uses DATABASE_URL/REDIS_URL as set; everything runs on a
throwaway database (test_<name>, or a temporary SQLite file) that is dropped at the end, and Celery
messages go to a queue of their own that is purged at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))  # also when gunicorn imports this module as bench.callback

from _cpu import CORES, CpuMeter, busy_percent, machine_busy_seconds  # noqa: E402

from wxsite.heap import heap_freeze  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")

TOKEN = "benchtoken"
ZERO_APPID = "wx0be0c0000000c001"
RULES_APPID = "wx0be0c0000000c002"
LATE_TEXT = "order 8812345 status"
LATE_REPLY = "bench: late rule"
QUEUE = f"bench_callback_{os.getpid()}"


def _production_like_env(var_dir: str) -> None:
    """DEBUG off (no query log), keys for the throwaway data only, broker files and SQLite under a temp dir."""
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SALT_KEY", secrets.token_urlsafe(30))
    os.environ["WXSITE_VAR_DIR"] = var_dir
    # Plain HTTP to the local gunicorn, as behind a TLS proxy; the broker folders are made here, not by settings.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    from wxsite.var import var_prepare

    var_prepare()


def _isolate_cache_and_queue() -> None:
    """Called in every process before first use: cache keys and Celery messages of the bench stay apart."""
    from django.conf import settings

    from wxsite.celery import app

    settings.CACHES["default"]["KEY_PREFIX"] = "bench_callback"
    app.conf.task_default_queue = os.environ.get("BENCH_CELERY_QUEUE", QUEUE)
    if settings.CELERY_BROKER_URL == "filesystem://":
        # kombu's filesystem transport writes exchange files to ./control unless told otherwise.
        control = Path(settings.VAR_DIR) / "celery" / "control"
        control.mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "control_folder": str(control)}


def bench_wsgi():
    """gunicorn entry point: the project's WSGI application, with the bench's cache prefix and queue."""
    from django.conf import settings

    from wxsite.handlers import wsgi_application

    application = wsgi_application()
    _isolate_cache_and_queue()
    settings.ROOT_URLCONF = _bare_urlconf()  # the floors are served too (--target)
    return application


@contextmanager
def throwaway_database():
    import django

    django.setup()
    _isolate_cache_and_queue()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    test = db.setdefault("TEST", {})
    test["MIGRATE"] = False  # the schema straight from the models, as the tests build it
    if db["ENGINE"].endswith("sqlite3"):
        test["NAME"] = str(Path(settings.VAR_DIR) / "bench_callback.sqlite3")  # a file, so gunicorn workers share it
    config = setup_databases(verbosity=0, interactive=False)
    try:
        yield db
    finally:
        from django.db import connection, connections

        if connection.vendor == "postgresql":
            # Pool threads may still hold connections; the database cannot be dropped under them.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [connection.settings_dict["NAME"]],
                )
        for conn in connections.all():
            conn.close()
        teardown_databases(config, verbosity=0)


def _purge_queue() -> None:
    from wxsite.celery import app

    try:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            purged = channel.queue_purge(app.conf.task_default_queue) or 0
            channel.queue_delete(app.conf.task_default_queue)
        # On stderr: the figures line stays the last line of the output.
        print(f"purged {purged} bench messages from queue {app.conf.task_default_queue}", file=sys.stderr)
    except Exception as exc:  # the broker may not keep the queue at all (filesystem, removed with the temp dir)
        print(f"queue cleanup: {exc!r}", file=sys.stderr)


def _create_accounts(rule_count: int):
    from accounts.models import OfficialAccount
    from accounts.services import account_upsert
    from messaging.autoreply import matching as autoreply_matching
    from messaging.autoreply.models import AutoReplyContent, AutoReplyRule

    accounts = {}
    for appid in (ZERO_APPID, RULES_APPID):
        account, _ = account_upsert(appid=appid, name=f"bench {appid}", secret="bench-secret", token=TOKEN)
        OfficialAccount.objects.filter(pk=account.pk).update(original_id="gh_bench000001")
        accounts[appid] = OfficialAccount.objects.get(pk=account.pk)
    account = accounts[RULES_APPID]
    kinds = ("exact", "contains", "regex")
    specs = []
    for i in range(rule_count - 1):
        kind = kinds[i % 3]
        keyword = {
            "exact": f"code {i}\n编号{i}",
            "contains": f"needle{i}x\n关键词{i}号",
            "regex": rf"^item[-\s]?{i}\s+\d+$",
        }[kind]
        specs.append(AutoReplyRule(account=account, name=f"bench {i}", trigger="keyword", keywords=keyword, match_type=kind))
    specs.append(
        AutoReplyRule(account=account, name="late", trigger="keyword", keywords=r"^order\s+(\d+)\s+status$", match_type="regex")
    )
    created = AutoReplyRule.objects.bulk_create(specs)
    AutoReplyContent.objects.bulk_create(
        [AutoReplyContent(rule=rule, reply_type="text", text=f"reply to {rule.name}") for rule in created[:-1]]
        + [AutoReplyContent(rule=created[-1], reply_type="text", text=LATE_REPLY)]
    )
    autoreply_matching.rules_changed(account_id=account.pk)
    return accounts


def _signed_query() -> str:
    """A query signed now with a nonce of its own, as WeChat signs each push: the callback refuses a timestamp
    outside its window and a signature already used with another body."""
    from wechat.crypto import sha1_signature

    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    return f"signature={sha1_signature(TOKEN, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}&openid=oBenchFollower"


def _text_xml(content: str, msg_id: int) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_bench000001]]></ToUserName><FromUserName><![CDATA[oBenchFollower]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


# --- (a) the bare view ---------------------------------------------------------------------------------

BARE_REPLY = (
    "<xml><ToUserName><![CDATA[oBenchFollower]]></ToUserName><FromUserName><![CDATA[gh_bench000001]]></FromUserName>"
    "<CreateTime>0</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[fixed]]></Content></xml>"
)


def bare_view(request):
    from django.http import HttpResponse, HttpResponseForbidden
    from wechatpy import parse_message
    from wechatpy.exceptions import InvalidSignatureException
    from wechatpy.utils import check_signature

    try:
        check_signature(TOKEN, request.GET.get("signature", ""), request.GET.get("timestamp", ""), request.GET.get("nonce", ""))
    except InvalidSignatureException:
        return HttpResponseForbidden()
    message = parse_message(request.body)
    assert message.type == "text"
    return HttpResponse(BARE_REPLY, content_type="application/xml; charset=utf-8")


_insert_statement: list = []


def _insert_prepare() -> tuple[str, list, int, int, int, int]:
    """The callback's own INSERT of an inbound row (``messaging.inbound.services._insert_sql``) with the values every
    row shares bound once: (statement, values, and where in them the message id, dedupe key, payload and XML go). The
    row's values are those the callback stores."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import OfficialAccount
    from messaging.inbound.services import _insert_params, _insert_sql

    account = OfficialAccount.objects.get(appid=ZERO_APPID)
    row = {
        "account_id": account.pk,
        "openid": "oBenchFollower",
        "msg_type": "text",
        "content": "hello",
        "create_time": timezone.now(),
        "received_at": timezone.now(),
        "reply_xml": BARE_REPLY,
        "reply_sent": True,
    }
    sql, columns = _insert_sql(connection.vendor)
    values = _insert_params(row)
    names = [attname for attname, _, _ in columns]
    return sql, values, *(names.index(name) for name in ("msg_id", "dedupe_key", "payload", "raw_xml"))


def bare_insert_view(request):
    """(e) the bare view plus one durable INSERT of the row the callback stores (autocommit: its own commit), as
    cheap as it can be written: one statement prepared once, only what differs between messages bound per request."""
    import json

    from django.db import connection

    response = bare_view(request)
    if not _insert_statement:
        _insert_statement.append(_insert_prepare())
    sql, values, msg_id_at, dedupe_at, payload_at, raw_at = _insert_statement[0]
    message_id = request.body.split(b"<MsgId>", 1)[1].split(b"<", 1)[0].decode()
    values = list(values)
    values[msg_id_at] = message_id
    values[dedupe_at] = f"floor:{message_id}"
    # The message's fields as the callback keeps them (its payload column), encoded per message as it does.
    values[payload_at] = json.dumps(
        {"ToUserName": "gh_bench000001", "FromUserName": "oBenchFollower", "CreateTime": str(int(time.time())),
         "MsgType": "text", "Content": "hello", "MsgId": message_id}
    )  # fmt: skip
    values[raw_at] = request.body.decode()
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
    return response


def _bare_urlconf():
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from wxsite import urls as project_urls

    module = type(sys)("bench_callback_urls")
    module.urlpatterns = [
        path("bench/bare/", csrf_exempt(bare_view)),
        path("bench/bare-insert/", csrf_exempt(bare_insert_view)),
        # The same views at paths the callback's short middleware list serves (wxsite.handlers).
        path("wechat/bench-bare/callback/", csrf_exempt(bare_view)),
        path("wechat/bench-bare-insert/callback/", csrf_exempt(bare_insert_view)),
        *project_urls.urlpatterns,
    ]
    sys.modules["bench_callback_urls"] = module
    return "bench_callback_urls"


# --- in-process run ---------------------------------------------------------------------------------------


def _environs(path: str, bodies: list[bytes]) -> list[dict]:
    base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "SCRIPT_NAME": "",
        "CONTENT_TYPE": "text/xml",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    return [{**base, "QUERY_STRING": _signed_query(), "CONTENT_LENGTH": str(len(b)), "wsgi.input": io.BytesIO(b)} for b in bodies]


def _run(handler, environs, expect: bytes, pool=None, threads: int = 1) -> float:
    def serve(chunk):
        status_seen = []

        def start_response(status, headers, exc_info=None):
            status_seen.append(status)

        for environ in chunk:
            body = b"".join(handler(environ, start_response))
            if expect not in body:
                raise SystemExit(f"unexpected reply {status_seen[-1]}: {body[:300]!r}")

    started = time.perf_counter()
    if pool is None:
        serve(environs)
    else:
        # Concurrent pushes, as WeChat sends them: one process, `threads` requests in flight.
        for future in [pool.submit(serve, environs[i::threads]) for i in range(threads)]:
            future.result()
    return time.perf_counter() - started


def in_process(args) -> None:
    from django.conf import settings

    from messaging.inbound.models import InboundMessage
    from wxsite.handlers import wsgi_application

    _create_accounts(args.rules)
    settings.ROOT_URLCONF = _bare_urlconf()
    handler = wsgi_application()  # as a web process builds it
    pool = None
    if args.threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(args.threads)
    msg_id = iter(range(7_000_000_000_000_000_000, 8_000_000_000_000_000_000))
    cases = {
        "a": ("/bench/bare/", "hello", b"fixed"),
        "e": ("/bench/bare-insert/", "hello", b"fixed"),
        "b": (f"/wechat/{ZERO_APPID}/callback/", "hello", b"success"),
        "c": (f"/wechat/{RULES_APPID}/callback/", LATE_TEXT, LATE_REPLY.encode()),
    }

    cpu_ms: dict[str, list[float]] = {}

    def batch(case: str, n: int) -> float:
        path, text, expect = cases[case]
        # Each request signed just before its batch runs, with its own nonce (signing is not timed).
        environs = _environs(path, [_text_xml(text, next(msg_id)) for _ in range(n)])
        began = time.process_time()
        seconds = _run(handler, environs, expect, pool, args.threads)
        cpu_ms.setdefault(case, []).append(1000 * (time.process_time() - began) / n)
        return seconds

    for case in cases:
        batch(case, 200)  # warm-up: URLconf, compiled rules, connections
    cpu_ms.clear()
    cpu = CpuMeter()
    cpu.start()
    served = 0
    # Many short interleaved rounds: each ratio compares neighbouring moments, so load from other
    # processes on the machine shifts all cases alike; the medians are reported.
    rounds = args.rounds
    per_round = max(1, args.requests // rounds)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    from messaging.inbound import services

    real_enqueue = services.dispatch_request
    if args.breakdown:
        cases["d"] = cases["b"]
        cases["f"] = ("/wechat/bench-bare/callback/", "hello", b"fixed")
        cases["g"] = ("/wechat/bench-bare-insert/callback/", "hello", b"fixed")
    ms: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            if case == "d":
                # Diagnostic only, not the real path: the same callback with the after-commit enqueue skipped.
                services.dispatch_request = lambda account_id: None
            if profiler and case == "c":
                profiler.enable()
            try:
                ms[case].append(1000 * batch(case, per_round) / per_round)
                served += per_round
            finally:
                services.dispatch_request = real_enqueue
                if profiler and case == "c":
                    profiler.disable()
    if pool is not None:
        import threading

        from django.db import connections

        barrier = threading.Barrier(args.threads)

        def close_thread_connections():
            barrier.wait()  # every pool thread takes exactly one of these
            connections.close_all()

        for future in [pool.submit(close_thread_connections) for _ in range(args.threads)]:
            future.result()
        pool.shutdown()
    cpu_seconds = cpu.seconds()
    median = {case: statistics.median(values) for case, values in ms.items()}
    ratio = {case: statistics.median(a / x for a, x in zip(ms["a"], ms[case], strict=True)) for case in cases}
    of_insert = statistics.median(e / c for e, c in zip(ms["e"], ms["c"], strict=True))
    stored = InboundMessage.objects.count()
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}, broker: {settings.CELERY_BROKER_URL.split(':', 1)[0]}, load average: {os.getloadavg()[0]:.1f}")
    print(
        f"{rounds} interleaved rounds x {per_round} unique messages per case, {args.threads} in flight;"
        f" {stored} inbound rows stored; medians:"
    )
    labels = {
        "a": "(a) bare view (verify + wechatpy parse + fixed reply)",
        "b": "(b) real callback, 0 rules",
        "c": f"(c) real callback, {args.rules} rules, late match",
        "d": "(d) diagnostic: (b) without the Celery enqueue",
        "e": "(e) bare view + one durable INSERT of the same row",
        "f": "(f) diagnostic: (a) through the callback's middleware",
        "g": "(g) diagnostic: (e) through the callback's middleware",
    }
    for case in cases:
        print(
            f"{labels[case]:<56} {1000 / median[case]:8.0f} req/s  {median[case]:.3f} ms/req"
            f"  {statistics.median(cpu_ms[case]):.3f} cpu-ms/req in this process"
        )
    print(f"ratio (b)/(a) = {ratio['b']:.2f}   (target >= 0.5)")
    print(f"ratio (c)/(a) = {ratio['c']:.2f}   (target >= 0.5)")
    print(f"ratio (c)/(e) = {of_insert:.2f}   (target >= 0.8)")
    # What the stored-before-the-reply contract alone allows: the floor with its one INSERT, against the bare view.
    print(
        f"ratio (e)/(a) = {ratio['e']:.2f}   (the floor of (c)/(a): what storing each message before the reply leaves of the bare view)"
    )
    if args.breakdown:
        print(
            f"diagnostic: the after-commit enqueue costs {median['b'] - median['d']:.3f} ms per message; (d)/(a) = {ratio['d']:.2f}"
        )
        of = {floor: statistics.median(x / c for x, c in zip(ms[floor], ms["c"], strict=True)) for floor in ("f", "g")}
        print(f"diagnostic, the floors through the callback's own middleware: (c)/(f) = {of['f']:.2f}, (c)/(g) = {of['g']:.2f}")
    print(f"our cpu: {1000 * cpu_seconds / served:.3f} cpu-ms per request (every case)")
    if profiler:
        import pstats

        print(f"\nprofile of (c), by {args.profile_sort}:")
        pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(35)
    print(f"callback: {ratio['c']:.2f} of bare view, {of_insert:.2f} of bare view + durable insert, {args.rules} rules")


# --- gunicorn run -------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


timeline: list[tuple[float, float]] = []  # (scheduled second of the run, latency) of the last _fire


async def _fire(port: int, path: str, rate: float, seconds: float, msg_ids, expect: bytes, text: str) -> tuple[list[float], int]:
    latencies: list[float] = []
    timeline.clear()
    errors = 0
    total = int(rate * seconds)

    async def one(scheduled: float, body: bytes):
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            head = (
                f"POST {path}?{_signed_query()} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head + body)
            await writer.drain()
            response = await reader.read()
            writer.close()
            latencies.append(time.perf_counter() - scheduled)
            timeline.append((scheduled - start, latencies[-1]))
            if not response.startswith(b"HTTP/1.1 200") or expect not in response:
                errors += 1
        except OSError:
            errors += 1

    start = time.perf_counter() + 0.2
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        body = _text_xml(text, next(msg_ids))
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, body)))
    await asyncio.gather(*tasks)
    return latencies, errors


@contextmanager
def _client_without_gc_pauses():
    """The client stands for WeChat: its own pauses must not show as the server's latency. This process holds Django
    and the bench (hundreds of thousands of objects), and the run keeps a task, a latency and a timeline entry per
    request, so Python's full collections (tens of milliseconds each, a few times a run) stalled the event loop and
    every request in flight with it. The heap is frozen before the run and collection is off during it (the run
    makes little garbage that only a collection frees)."""
    heap_freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def under_gunicorn(args, db: dict, var_dir: str) -> None:
    from django.conf import settings

    _create_accounts(args.rules)
    from django.db import connections

    for conn in connections.all():
        conn.close()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(db),
        "BENCH_CELERY_QUEUE": QUEUE,
        "SECRET_KEY": settings.SECRET_KEY,
        "SALT_KEY": ",".join(settings.SALT_KEY),
        "WXSITE_VAR_DIR": var_dir,
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [
        gunicorn,
        "bench.callback:bench_wsgi()",
        "--config",
        "python:wxsite.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        path, text, expect = {
            "callback": (f"/wechat/{RULES_APPID}/callback/", LATE_TEXT, LATE_REPLY.encode()),
            "bare": ("/bench/bare/", "hello", b"fixed"),
            "bare-insert": ("/bench/bare-insert/", "hello", b"fixed"),
        }[args.target]
        msg_ids = iter(range(8_000_000_000_000_000_000, 9_000_000_000_000_000_000))
        asyncio.run(_fire(port, path, rate=50, seconds=2, msg_ids=msg_ids, expect=expect, text=text))  # warm-up every worker
        cpu = CpuMeter()
        cpu.start()
        client_began = time.process_time()
        machine_began, wall_began = machine_busy_seconds(), time.perf_counter()
        with _client_without_gc_pauses():
            latencies, errors = asyncio.run(
                _fire(port, path, rate=args.rate, seconds=args.seconds, msg_ids=msg_ids, expect=expect, text=text)
            )
        machine_seconds, wall_seconds = machine_busy_seconds() - machine_began, time.perf_counter() - wall_began
        client_seconds = time.process_time() - client_began
        cpu_seconds = cpu.seconds()
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    target = {
        "callback": f"the callback, {args.rules} rules",
        "bare": "floor: the bare view",
        "bare-insert": "floor: bare view + insert",
    }
    print(f"gunicorn: {args.workers} sync workers, {target[args.target]}, {args.rate:.0f} req/s for {args.seconds:.0f} s")
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]}, broker: {settings.CELERY_BROKER_URL.split(':', 1)[0]}")
    print(f"requests: {n}, errors: {errors}")
    print(
        f"latency p50 {pct(0.50):.1f} ms   p90 {pct(0.90):.1f} ms   p99 {pct(0.99):.1f} ms   max {pct(1.0):.1f} ms   (target p99 < 50 ms)"
    )
    print(
        f"our cpu (gunicorn and this client): {1000 * cpu_seconds / max(n, 1):.2f} cpu-ms per request,"
        f" of which the client (this process, standing for WeChat) {1000 * client_seconds / max(n, 1):.2f}"
    )
    print(
        f"the machine: {1000 * machine_seconds / max(n, 1):.2f} cpu-ms per request busy on {CORES} cores"
        f" ({busy_percent(machine_seconds, wall_seconds):.0f}% of them: gunicorn, the client, PostgreSQL, Redis,"
        " the kernel)"
    )
    if args.timeline:
        per_second: dict[int, list[float]] = {}
        for at, latency in timeline:
            per_second.setdefault(int(at), []).append(latency * 1000)
        for second, values in sorted(per_second.items()):
            values.sort()
            print(
                f"  second {second:3d}: {len(values):4d} requests, p50 {values[len(values) // 2]:7.1f} ms, max {values[-1]:7.1f} ms"
            )
    label = "callback_load" if args.target == "callback" else f"callback_load floor {args.target}"
    print(f"{label}: p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, {errors} errors at {args.rate:.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="messages per case (in-process)")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (in-process)")
    parser.add_argument("--threads", type=int, default=1, help="requests in flight at once (in-process), same for every case")
    parser.add_argument("--profile", action="store_true", help="cProfile case (c) and print the top functions")
    parser.add_argument("--profile-sort", default="cumulative", help="pstats sort key for --profile (e.g. tottime)")
    parser.add_argument("--breakdown", action="store_true", help="also time (b) without the Celery enqueue (diagnostic)")
    parser.add_argument("--gunicorn", action="store_true", help="latency under gunicorn instead of in-process throughput")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--target",
        choices=("callback", "bare", "bare-insert"),
        default="callback",
        help="what the load run (--gunicorn) calls: the callback, or one of its floors",
    )
    parser.add_argument("--timeline", action="store_true", help="latency per second of the load run (--gunicorn)")
    parser.add_argument("--workers", type=int, default=2 * CORES + 1, help="gunicorn sync workers")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="bench_callback_")
    _production_like_env(var_dir)
    try:
        with throwaway_database() as db:
            try:
                if args.gunicorn:
                    under_gunicorn(args, db, var_dir)
                else:
                    in_process(args)
            finally:
                _purge_queue()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
