"""Template push throughput (DESIGN §5): a push to a tag of 20,000 followers, sent by Celery workers through the
sandbox server with 20 ms latency per call, and the TEMPLATESENDJOBFINISH events it posts back to our web.

Every part is a process of its own, as in production: ``--workers`` Celery worker processes (thread pool,
``--threads`` each) on the real broker (Redis), our web under gunicorn (the callback), and the sandbox
server (``manage.py sandbox_serve``, fast mode) that stands for WeChat: it answers message/template/send over
HTTP and, ``SANDBOX_TEMPLATE_JOB_FINISH_DELAY`` seconds after each accepted send, posts the job-finish event
to our callback over HTTP. The push is created with the admin's service in this process.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/template_push.py [--messages 20000] [--latency-ms 20] [--workers 2]

Prints messages/s (push created → every message sent), our CPU (this process, web, workers) per message,
duplicate deliveries counted by the sandbox (must be 0), and job-finish events handled per second (first to
last message moved to its final status by an event).

Last line: ``template_push: <R> msg/s, <C> cpu-ms/msg ours, <D> duplicates, <J> job-finish events/s``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time

from _cpu import CORES, CpuMeter, busy_percent
from _servers import celery_workers, sandbox_point, sandbox_server, web_server
from _setup import throwaway_database

APPID = "wxbe0c7e0000000001"
DATA = {"keyword1": {"value": "巧克力"}, "keyword2": {"value": "39.8元"}, "keyword3": {"value": "2026年11月11日"}}


def setup(followers: int):
    from accounts.services import account_upsert
    from followers.models import Follower, Tag
    from messaging.templatemsg import services
    from sandbox.models import SandboxFollower
    from sandbox.services import sandbox_app_configure

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
    account.refresh_from_db()
    return account, app, template, tag


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="followers of the tag, one message each")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--threads", type=int, default=16, help="concurrent calls per batch (TEMPLATE_PUSH_CONCURRENCY)")
    parser.add_argument("--pool", type=int, default=4, help="Celery thread pool per worker")
    parser.add_argument("--batch", type=int, default=500, help="messages per batch task")
    parser.add_argument("--rate", type=int, default=5000, help="push rate limit, messages/s")
    parser.add_argument(
        "--job-finish-delay",
        type=int,
        default=2,
        help="seconds from a send to its TEMPLATESENDJOBFINISH; longer than the push takes measures sending and events apart",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the push and its events")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") and not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("Set REDIS_URL: the workers take their tasks from the real broker.")
    # Production settings in every process (no query log), keys for the throwaway data only.
    os.environ.update(DJANGO_DEBUG="false", SECURE_SSL_REDIRECT="false", SANDBOX_ENABLED="true")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("SALT_KEY", secrets.token_urlsafe(30))
    os.environ["TEMPLATE_PUSH_BATCH_SIZE"] = str(args.batch)
    os.environ["TEMPLATE_PUSH_CONCURRENCY"] = str(args.threads)
    os.environ["SANDBOX_TEMPLATE_JOB_FINISH_DELAY"] = str(args.job_finish_delay)
    with throwaway_database() as db:
        _queue_purge()  # the bench's broker database: nothing left from an earlier run reaches the workers
        try:
            return run(args, db)
        finally:
            _queue_purge()


def _queue_purge() -> None:
    from wxsite.celery import app as celery_app

    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(celery_app.conf.task_default_queue)


def _progress(push_id: int, *statuses: list[str]) -> tuple[bool, ...]:
    """Whether the push is expanded, and whether any of its messages has one of each list's statuses: one statement
    of lookups in the (push, status) index that stop at the first row they find. The bench polls five times a
    second, and must not load what it measures: a count by status would read every message of the push each time."""
    from django.db import connection

    from messaging.templatemsg.models import TemplateMessage, TemplatePush

    messages, pushes = TemplateMessage._meta.db_table, TemplatePush._meta.db_table
    checks, params = [f"(SELECT expanded FROM {pushes} WHERE id = %s)"], [push_id]
    for group in statuses:
        checks.append(f"EXISTS (SELECT 1 FROM {messages} WHERE push_id = %s AND status IN ({', '.join(['%s'] * len(group))}))")
        params += [push_id, *map(str, group)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(checks)}", params)
        return tuple(bool(value) for value in cursor.fetchone())


def run(args, db) -> int:
    from django.db import connections
    from django.db.models import Count

    from messaging.templatemsg import services
    from messaging.templatemsg.models import TemplateMessage, TemplatePush
    from sandbox.models import SandboxDelivery

    began = time.monotonic()
    account, app, template, tag = setup(args.messages)
    print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]}; seeded {args.messages} followers in {time.monotonic() - began:.1f}s")
    final = list(TemplateMessage.FINAL_STATUSES)
    in_flight = [TemplateMessage.Status.QUEUED, TemplateMessage.Status.SENDING]
    open_ = [*in_flight, TemplateMessage.Status.SENT]  # sent, awaiting its job-finish event
    connections.close_all()
    with (
        sandbox_server(latency_ms=args.latency_ms) as (base_url, sandbox),
        web_server(workers=2, threads=8) as (web_url, web),
        celery_workers(count=args.workers, concurrency=args.pool) as workers,
    ):
        sandbox_point(account=account, base_url=base_url, callback_base=web_url)
        cpu = CpuMeter(not_ours=[sandbox.pid], parts={"web": [web.pid], "workers": [w.pid for w in workers]})
        cpu.start()
        t0 = time.monotonic()
        push = services.template_push_create(
            account=account,
            name="bench",
            template=template,
            data=DATA,
            audience=TemplatePush.Audience.TAG,
            tag=tag,
            rate_limit=args.rate,
        )
        messages = TemplateMessage.objects.filter(push=push)
        t_sent = t_first_final = t_all_final = None
        cpu_at_sent: dict = {}
        deadline = t0 + args.timeout
        while time.monotonic() < deadline:
            now = time.monotonic()
            expanded, any_in_flight, any_final, any_open = _progress(push.pk, in_flight, final, open_)
            if t_sent is None and expanded and not any_in_flight:
                t_sent = now
                cpu_at_sent = cpu.breakdown()
            if t_first_final is None and any_final:
                t_first_final = now
            if t_sent is not None and not any_open:
                t_all_final = now
                break
            time.sleep(0.2)
        cpu_total = cpu.breakdown()
        cpu_seconds = cpu_total["ours"]
    push.refresh_from_db()
    if t_sent is None or t_all_final is None:
        print(f"timed out: {dict(messages.values_list('status').annotate(n=Count('id')))}")
        return 1
    per_openid = (
        SandboxDelivery.objects.filter(app=app, channel="template").values("openid").annotate(n=Count("id")).filter(n__gt=1)
    )
    duplicates = sum(row["n"] - 1 for row in per_openid)
    delivered = SandboxDelivery.objects.filter(app=app, channel="template").count()
    statuses = dict(messages.values_list("status").annotate(n=Count("id")))
    rate = push.sent_count / (t_sent - t0)
    events = sum(statuses.get(s, 0) for s in final)
    events_per_second = events / max(t_all_final - t_first_final, 0.2)
    print(f"push status: {push.status}  total={push.total} sent={push.sent_count} failed={push.failed_count}")
    print(
        f"workers: {args.workers} Celery processes x {args.pool} threads, {args.threads} calls per batch, {args.latency_ms} ms per call"
    )
    print(
        f"sent {push.sent_count} messages in {t_sent - t0:.2f}s; job-finish events handled over {t_all_final - t_first_final:.2f}s"
    )
    print(f"message statuses: {statuses}; deliveries: {delivered}")
    parts = ("workers", "web", "bench", "ours", "theirs")
    print(
        "cpu-ms/msg until every message was sent: "
        + ", ".join(f"{name} {1000 * cpu_at_sent[name] / args.messages:.2f}" for name in parts)
        + " (theirs: the sandbox server)"
    )
    print(
        "cpu-ms/msg over the whole run, job-finish events included: "
        + ", ".join(f"{name} {1000 * cpu_total[name] / args.messages:.2f}" for name in parts)
    )
    sending = t_sent - t0
    print(
        f"each worker process until every message was sent: {100 * cpu_at_sent['workers'] / args.workers / sending:.0f}%"
        " of one core (a process runs Python on one core at a time)"
    )
    for label, moment, seconds in (
        ("until every message was sent", cpu_at_sent, sending),
        ("over the whole run", cpu_total, t_all_final - t0),
    ):
        machine = moment["machine"]
        rest = machine - moment["ours"] - moment["theirs"]
        print(
            f"the machine {label}: {1000 * machine / args.messages:.2f} cpu-ms/msg busy on {CORES} cores"
            f" ({busy_percent(machine, seconds):.0f}% of them), of which neither ours nor theirs"
            f" (PostgreSQL, Redis, the kernel) {1000 * rest / args.messages:.2f}; {CORES} cores give {CORES:.2f}"
            f" cpu-ms per message at 1,000 msg/s"
        )
    print(
        f"template_push: {rate:.0f} msg/s, {1000 * cpu_seconds / max(push.sent_count, 1):.2f} cpu-ms/msg ours,"
        f" {duplicates} duplicates, {events_per_second:.0f} job-finish events/s"
    )
    return 0 if duplicates == 0 and delivered == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
