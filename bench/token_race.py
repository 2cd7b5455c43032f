"""How many token refreshes do concurrent readers cause when the stored access_token crosses the threshold?

Target (DESIGN §5): exactly 1 refresh call. The crossing is controlled, not timed: the readers (8 processes x
5 threads) start and each reads the token once, all of them wait, the bench moves the stored token's
expires_at below the refresh threshold, then all read again (``--reads`` each). Every read goes through
wechat.tokens to the sandbox server over HTTP; the per-process read cache is off (each read sees the row).
Run with DATABASE_URL pointing at PostgreSQL for real row locks:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wxsite .venv/bin/python bench/token_race.py [--latency-ms 20]

Last line: ``token_race: <K> refresh calls, <B> reads before and <A> after the threshold, <E> errors``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp

from _cpu import CpuMeter
from _servers import sandbox_point, sandbox_server
from _setup import throwaway_database

from wechat.api.endpoints import Endpoint


def reader(appid: str, threads: int, reads: int, barrier, out) -> None:
    import threading

    from django.conf import settings
    from django.db import connection

    from accounts.models import OfficialAccount
    from wechat import tokens

    settings.WECHAT_TOKEN_LOCAL_CACHE_SECONDS = 0
    account = OfficialAccount.objects.get(appid=appid)
    counts = {"before": 0, "after": 0, "errors": 0}
    lock = threading.Lock()

    def read(when: str) -> None:
        try:
            tokens.access_token_get(account=account)
            outcome = when
        except Exception:
            outcome = "errors"
        with lock:
            counts[outcome] += 1

    def loop():
        read("before")
        barrier.wait()  # every reader has read once
        barrier.wait()  # the stored token is now below the threshold
        for _ in range(reads):
            read("after")
        connection.close()

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8, help="reader processes")
    parser.add_argument("--threads", type=int, default=5, help="threads per reader process")
    parser.add_argument("--reads", type=int, default=5, help="reads per thread after the threshold")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--stable", action="store_true", help="use stable_token (WeChat then returns the same value)")
    args = parser.parse_args()

    with throwaway_database() as db:
        from datetime import timedelta

        from django.conf import settings
        from django.db import connections
        from django.utils import timezone

        from accounts.services import account_upsert
        from sandbox.models import SandboxCall
        from sandbox.services import sandbox_app_configure
        from wechat import tokens
        from wechat.models import AccessToken

        account, _ = account_upsert(appid="wx0be0c0000000a001", name="bench", secret="bench-secret", token="benchtoken")
        account.use_stable_token = args.stable
        account.save()
        sandbox_app_configure(account=account)
        api = Endpoint.STABLE_TOKEN.path if args.stable else Endpoint.TOKEN.path
        with sandbox_server(latency_ms=args.latency_ms) as (base_url, sandbox):
            sandbox_point(account=account, base_url=base_url)
            tokens.access_token_get(account=account)  # the token the readers start with (one call, not counted)
            tokens.local_cache_clear()
            connections.close_all()  # the readers are forked: each opens its own connections

            cpu = CpuMeter(not_ours=[sandbox.pid])
            cpu.start()
            ctx = mp.get_context("fork")
            out = ctx.Queue()
            barrier = ctx.Barrier(args.workers * args.threads + 1)
            procs = [
                ctx.Process(target=reader, args=(account.appid, args.threads, args.reads, barrier, out))
                for _ in range(args.workers)
            ]
            for p in procs:
                p.start()
            barrier.wait()
            expiry = timezone.now() + timedelta(seconds=settings.WECHAT_TOKEN_MIN_REMAINING - 1)
            AccessToken.objects.filter(account=account).update(expires_at=expiry)
            connections.close_all()
            barrier.wait()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            cpu_seconds = cpu.seconds()
        # The server has stopped: every call it answered is recorded.
        refreshes = SandboxCall.objects.filter(api=api).count() - 1
        before = sum(r["before"] for r in results)
        after = sum(r["after"] for r in results)
        errors = sum(r["errors"] for r in results)
        print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]}; sandbox over HTTP, {args.latency_ms} ms per call")
        print(f"readers: {args.workers} processes x {args.threads} threads; refresh calls to WeChat ({api}), target exactly 1")
        print(f"our cpu: {1000 * cpu_seconds / max(before + after, 1):.2f} cpu-ms per read")
        print(f"token_race: {refreshes} refresh calls, {before} reads before and {after} after the threshold, {errors} errors")


if __name__ == "__main__":
    main()
