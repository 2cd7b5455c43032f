"""Full follower sync of a large account from the sandbox server into PostgreSQL.

Targets (DESIGN §5): 1,000,000 followers in ≤ 60 s, peak RSS ≤ 300 MB, within 3× of a bare COPY of the
same rows into an equivalent table (same columns, constraints and indexes), measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wxsite .venv/bin/python bench/follower_sync.py [--n 1000000]

The sync is the product's own ``followers.services.sync.follower_sync_all``: user/get pages of 10,000,
user/info/batchget calls of 100, through the gateway (token store, ApiCallLog) over HTTP to the sandbox
server (``manage.py sandbox_serve``, fast mode, ``--latency-ms`` per call), as production calls WeChat.
Our CPU (this process) is counted apart from the sandbox server's.

Last line: ``follower_sync: <S> s, <M> MB peak RSS, <X>x COPY, <C> cpu-ms per 1000 followers ours``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time

from _cpu import CORES, CpuMeter, busy_percent, machine_busy_seconds, parent_pid
from _servers import sandbox_point, sandbox_server
from _setup import throwaway_database


class _NoMigrations(dict):
    """Tables straight from the models (like pytest --nomigrations), whatever migrations exist."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="followers on WeChat's side")
    parser.add_argument("--queries", action="store_true", help="print where the database time went, by statement")
    parser.add_argument("--workers", type=int, default=None, help="parallel user/info calls (FOLLOWER_SYNC_WORKERS)")
    parser.add_argument("--latency-ms", type=int, default=20, help="the sandbox server's answer time per call")
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the bench compares against PostgreSQL's COPY.")
    settings.MIGRATION_MODULES = _NoMigrations()
    settings.DEBUG = False
    if args.workers:
        settings.FOLLOWER_SYNC_WORKERS = args.workers

    with throwaway_database():
        from django.db import connection

        from accounts.services import account_upsert
        from followers.models import Follower
        from followers.services import sync
        from sandbox.generator import followers_generate
        from sandbox.models import SandboxCall
        from sandbox.services import sandbox_app_configure

        account, _ = account_upsert(
            appid="wx0be0c0000000b001", name="bench", secret="bench-secret", token="benchtoken", verified=True
        )
        app = sandbox_app_configure(account=account)
        account.refresh_from_db()

        began = time.perf_counter()
        followers_generate(app=app, n=args.n)
        print(f"seeded {args.n:,} sandbox followers in {time.perf_counter() - began:.1f} s (not measured)")
        checkpoint(connection)
        rss_before = rss_mb()

        timings = QueryTimings()
        with sandbox_server(latency_ms=args.latency_ms) as (base_url, sandbox):
            sandbox_point(account=account, base_url=base_url)
            cpu = CpuMeter(not_ours=[sandbox.pid])
            wechat_cpu = CpuMeter(root=sandbox.pid)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                # PostgreSQL's server, every connection: the sync stores on several, and the sandbox server has its own.
                database_cpu = CpuMeter(root=parent_pid(cursor.fetchone()[0]) or 0)
            cpu.start()
            wechat_cpu.start()
            database_cpu.start()
            machine_began = machine_busy_seconds()
            began = time.perf_counter()
            if args.queries:
                with connection.execute_wrapper(timings):
                    job = sync.follower_sync_all(account=account)
            else:
                job = sync.follower_sync_all(account=account)
            sync_seconds = time.perf_counter() - began
            machine_seconds = machine_busy_seconds() - machine_began
            cpu_seconds = cpu.seconds()
            sandbox_seconds = wechat_cpu.seconds()
            database_seconds = database_cpu.seconds()
        # The server has stopped: its call records are all written.
        timings.report()
        peak = rss_mb()
        assert job.status == job.Status.SUCCEEDED, (job.status, job.error)
        stored = Follower.objects.filter(account=account, subscribed=True).count()
        assert stored == args.n == job.done, (stored, job.done)
        calls = SandboxCall.objects.count()
        memberships = Follower.tags.through.objects.count()

        checkpoint(connection)
        copy_seconds = bare_copy(connection, Follower._meta.db_table, account.pk)

        ratio = sync_seconds / copy_seconds
        print(
            f"sync: {sync_seconds:.1f} s for {stored:,} followers ({stored / sync_seconds:,.0f}/s), {calls:,} API calls, {memberships:,} tag memberships"
        )
        print(
            f"CPU: ours {cpu_seconds:.1f} s, the sandbox server's (WeChat's side, not ours) {sandbox_seconds:.1f} s "
            f"({1000 * sandbox_seconds / stored * 1000:.1f} cpu-ms per 1000 followers), PostgreSQL's, every "
            f"connection (the sync's and the sandbox server's) {database_seconds:.1f} s (0 if the server is on another host)"
        )
        print(
            f"the machine during the sync: {machine_seconds:.1f} cpu-s busy of {CORES} cores x {sync_seconds:.1f} s "
            f"({busy_percent(machine_seconds, sync_seconds):.0f}%)"
        )
        print(f"peak RSS: {peak:.0f} MB (before the sync: {rss_before:.0f} MB)")
        print(f"bare COPY of the same {stored:,} rows: {copy_seconds:.1f} s")
        print(f"ratio sync / COPY: {ratio:.2f}x")
        ok = sync_seconds <= 60 and peak <= 300 and ratio <= 3 and 1000 * cpu_seconds / stored * 1000 <= 20
        print("targets (≤ 60 s, ≤ 300 MB, ≤ 3x, ≤ 20 cpu-ms per 1000):", "met" if ok else "NOT met")
        per_1000 = 1000 * cpu_seconds / stored * 1000
        print(
            f"follower_sync: {sync_seconds:.1f} s, {peak:.0f} MB peak RSS, {ratio:.2f}x COPY, {per_1000:.1f} cpu-ms per 1000 followers ours"
        )


class QueryTimings:
    """Database time per statement shape (table + verb), to see what a slow run spends its time on."""

    def __init__(self):
        self.totals: dict[str, list] = {}

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:4])[:90]
            entry = self.totals.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - began

    def report(self):
        for key, (count, seconds) in sorted(self.totals.items(), key=lambda kv: -kv[1][1])[:15]:
            print(f"  {seconds:7.2f} s {count:7d}x  {key}")


def checkpoint(connection) -> None:
    """Write what the work before has left in PostgreSQL's buffers and WAL now, outside the clock. Seeding a million
    sandbox followers writes about a gigabyte of WAL: without this, the checkpoints it starts run on into the sync
    (and the sync's into the COPY), and every page first changed after one is logged whole again."""
    from django.db import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:  # CHECKPOINT needs a superuser or pg_checkpoint
        print(f"no CHECKPOINT between the phases ({exc}): the figures may carry the previous phase's")


def bare_copy(connection, table: str, account_id: int) -> float:
    """COPY the synced rows into a fresh table with the same columns, constraints and indexes; time only the COPY."""
    with tempfile.TemporaryFile("w+") as dump, connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY (SELECT * FROM {table} WHERE account_id = {int(account_id)}) TO STDOUT", dump)
        dump.seek(0)
        cursor.execute(f"CREATE TABLE bench_follower_copy (LIKE {table} INCLUDING ALL)")
        # The real table's foreign key, so the COPY checks what the sync's inserts check.
        cursor.execute(
            "ALTER TABLE bench_follower_copy ADD FOREIGN KEY (account_id) REFERENCES accounts_officialaccount (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )
        began = time.perf_counter()
        cursor.cursor.copy_expert("COPY bench_follower_copy FROM STDIN", dump)
        return time.perf_counter() - began


if __name__ == "__main__":
    main()
