"""Template push throughput (DESIGN §5): a push to a tag of 20,000 followers against the sandbox with 20 ms
latency per message/template/send call.

Runs the real services and Celery task bodies in-process, the way prefork workers with a thread pool would:
the push is created with the admin's service, its start task runs, and the batch tasks it enqueues are
executed by a pool of worker processes (``--workers``), each sending with ``--threads`` concurrent calls.
The sandbox's TEMPLATESENDJOBFINISH pushes, which WeChat sends to the web servers, are collected and posted
to the callback afterwards, and measured separately.

    .venv/bin/python bench/template_push.py [--followers 20000] [--workers 2] [--threads 24]

Runs on a throwaway database (test_<name>) of DATABASE_URL, created and dropped per run. Prints messages/s and the number of duplicate
deliveries counted from SandboxDelivery (must be 0).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wxsite.settings")

import django

django.setup()

from _setup import throwaway_database  # noqa: E402
from celery import Task  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.models import Count  # noqa: E402

from accounts.models import Follower, OfficialAccount, Tag  # noqa: E402
from accounts.services import account_upsert  # noqa: E402
from messaging.inbound import services as inbound_services  # noqa: E402
from messaging.templatemsg import services  # noqa: E402
from messaging.templatemsg.models import TemplateMessage, TemplatePush  # noqa: E402
from messaging.templatemsg.tasks import template_push_send_batch  # noqa: E402
from sandbox.endpoints.template import template_job_finish  # noqa: E402
from sandbox.models import SandboxApp, SandboxDelivery, SandboxFault, SandboxFollower  # noqa: E402
from sandbox.services import sandbox_app_configure  # noqa: E402
from wechat.gateway import client_for  # noqa: E402

APPID = "wxbe0c7e0000000001"
SEND_API = "cgi-bin/message/template/send"
DATA = {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}, "keyword3": {"value": "2026年11月11日"}}

# Tasks the code enqueues are routed here instead of a broker: batches go to the worker pool, the job-finish
# pushes are kept for the callback phase, everything else runs at once (as an idle worker would pick it up).
_batches: list[tuple] = []
_job_finishes: list[int] = []
_lock = threading.Lock()
_original_apply_async = Task.apply_async


def _route(self, args=None, kwargs=None, **options):
    args = tuple(args or ())
    if self.name == template_push_send_batch.name:
        with _lock:
            _batches.append(args)
        return None
    if self.name == template_job_finish.name:
        with _lock:
            _job_finishes.append(args[0])
        return None
    return self.apply(args, kwargs or {})


def setup(followers: int):
    OfficialAccount.objects.filter(appid=APPID).delete()
    SandboxApp.objects.filter(appid=APPID).delete()
    account, _ = account_upsert(
        appid=APPID,
        name="Bench 模板消息",
        secret="bench-secret",
        token="bench",
        aes_key="",
        mode="plain",
        account_type="service",
        verified=True,
    )
    app = sandbox_app_configure(account=account, original_id="gh_be0c7e000001")
    template = services.message_template_add(account=account, template_id_short="TM00015")
    tag = Tag.objects.create(account=account, name="bench", wechat_id=100, sync_status="synced")
    openids = [f"oBench{n:022d}" for n in range(followers)]
    SandboxFollower.objects.bulk_create([SandboxFollower(app=app, openid=o, tagids=[100]) for o in openids], batch_size=5000)
    rows = Follower.objects.bulk_create([Follower(account=account, openid=o) for o in openids], batch_size=5000)
    through = Follower.tags.through
    through.objects.bulk_create([through(follower_id=f.pk, tag_id=tag.pk) for f in rows], batch_size=5000)
    return account, app, template, tag


def _run_batch(args):
    """One batch task in a worker process, retried as Celery would until it has nothing left to retry."""
    _batches.clear()
    _job_finishes.clear()
    for _attempt in range(10):
        result = template_push_send_batch.apply(args=args, throw=False)
        if result.state != "RETRY":
            break
    connections.close_all()
    return list(_job_finishes)


def _worker_init(threads: int):
    settings.TEMPLATE_PUSH_CONCURRENCY = threads
    Task.apply_async = _route


def _post_job_finishes(send_ids: list[int], threads: int) -> None:
    chunks = [send_ids[i::threads] for i in range(threads)]

    def post(chunk):
        try:
            for send_id in chunk:
                template_job_finish.apply(args=(send_id,))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=post, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _floor(account, calls: int = 200) -> float:
    """ms per call, one thread, of an endpoint that does nothing (getcallbackip): the gateway, the in-process
    HTTP round trip and the sandbox's pipeline (token check, faults, quota, call log), without any template work."""
    client = client_for(account)
    client.get("getcallbackip")
    started = time.perf_counter()
    for _ in range(calls):
        client.get("getcallbackip")
    return (time.perf_counter() - started) * 1000 / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=16, help="concurrent calls per worker")
    parser.add_argument("--batch", type=int, default=500, help="messages per batch task")
    parser.add_argument("--rate", type=int, default=5000, help="push rate limit, messages/s")
    options = parser.parse_args()
    with throwaway_database():
        run(options)


def run(options):
    settings.TEMPLATE_PUSH_BATCH_SIZE = options.batch
    Task.apply_async = _route
    db = settings.DATABASES["default"]
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}")
    started = time.monotonic()
    account, app, template, tag = setup(options.followers)
    print(f"seeded {options.followers} followers in {time.monotonic() - started:.1f}s")
    floor_ms = _floor(account)
    SandboxFault.objects.create(app=app, api=SEND_API, kind="latency", value=options.latency_ms)

    t0 = time.monotonic()
    push = services.template_push_create(
        account=account,
        name="bench",
        template=template,
        data=DATA,
        audience=TemplatePush.Audience.TAG,
        tag=tag,
        rate_limit=options.rate,
    )
    t_expanded = time.monotonic()
    batches = list(_batches)
    _batches.clear()
    connections.close_all()  # the workers are forked: each opens its own connections
    context = multiprocessing.get_context("fork")
    with context.Pool(options.workers, initializer=_worker_init, initargs=(options.threads,)) as pool:
        finished = [sid for ids in pool.imap_unordered(_run_batch, batches) for sid in ids]
    t_sent = time.monotonic()
    push.refresh_from_db()
    sent_elapsed = t_sent - t0

    _post_job_finishes(finished, options.workers * 8)
    # Let the last gathered sweep requests go out, then finish any sweep still owed, so the statuses are final.
    time.sleep(4 * inbound_services.DISPATCH_COALESCE_SECONDS)
    inbound_services.inbound_dispatch_stale(older_than=0)
    t_done = time.monotonic()

    per_openid = (
        SandboxDelivery.objects.filter(app=app, channel="template").values("openid").annotate(n=Count("id")).filter(n__gt=1)
    )
    duplicates = sum(row["n"] - 1 for row in per_openid)
    delivered = SandboxDelivery.objects.filter(app=app, channel="template").count()
    statuses = dict(TemplateMessage.objects.filter(push=push).values_list("status").annotate(n=Count("id")))
    print(f"push status: {push.status}  total={push.total} sent={push.sent_count} failed={push.failed_count}")
    print(f"expand {options.followers} receivers: {t_expanded - t0:.2f}s; {len(batches)} batches of {options.batch}")
    print(f"workers: {options.workers} processes x {options.threads} concurrent calls, {options.latency_ms} ms latency per call")
    print(f"sent {push.sent_count} messages in {sent_elapsed:.2f}s: {push.sent_count / sent_elapsed:,.0f} messages/s")
    print(
        f"floor: {floor_ms:.2f} ms of one thread per API call through gateway + sandbox pipeline (getcallbackip); "
        f"{os.cpu_count()} cores → at most ~{1000 * (os.cpu_count() or 1) / floor_ms:,.0f} calls/s of any kind"
    )
    print(
        f"job-finish callbacks: {len(finished)} in {t_done - t_sent:.2f}s ({len(finished) / max(t_done - t_sent, 1e-9):,.0f}/s)"
    )
    print(f"message statuses: {statuses}")
    print(f"deliveries: {delivered}; duplicate deliveries: {duplicates}")
    return 0 if duplicates == 0 and delivered == options.followers else 1


if __name__ == "__main__":
    sys.exit(main())
