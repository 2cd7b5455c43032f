"""How many token refreshes do many concurrent readers cause across an expiry? Target: exactly 1.

8 worker processes x 125 reads each (1,000 reads), started together just before the stored
access_token falls under the refresh threshold, all reading through wechat.tokens against the
in-process sandbox. Run with DATABASE_URL pointing at PostgreSQL for real row locks:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wxsite .venv/bin/python bench/token_race.py
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

from _setup import throwaway_database


def reader(appid: str, start_at: float, reads: int, threads: int, out) -> None:
    import threading

    from django.db import connection

    from accounts.models import OfficialAccount
    from wechat import tokens

    account = OfficialAccount.objects.get(appid=appid)
    seen: set[str] = set()
    errors = 0

    def loop():
        nonlocal errors
        for _ in range(reads // threads):
            try:
                seen.add(tokens.access_token_get(account=account))
            except Exception:
                errors += 1
            time.sleep(0.024)  # spreads each thread's reads over ~0.6 s, across the threshold at +0.3 s
        connection.close()

    time.sleep(max(0.0, start_at - time.time()))
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((seen, errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--reads", type=int, default=125, help="reads per worker")
    parser.add_argument("--threads", type=int, default=5, help="threads per worker")
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
        account.refresh_from_db()
        api = "cgi-bin/stable_token" if args.stable else "cgi-bin/token"
        tokens.access_token_get(account=account)
        before = SandboxCall.objects.filter(api=api).count()
        # The stored token crosses the refresh threshold 0.3 s after the readers start.
        start_at = time.time() + 1.5
        expiry = timezone.now() + timedelta(seconds=settings.WECHAT_TOKEN_MIN_REMAINING + 1.8)
        AccessToken.objects.filter(account=account).update(expires_at=expiry)
        tokens.local_cache_clear()  # forked readers must not inherit this process's read of the old expiry
        connections.close_all()

        ctx = mp.get_context("fork")
        out = ctx.Queue()
        procs = [
            ctx.Process(target=reader, args=(account.appid, start_at, args.reads, args.threads, out)) for _ in range(args.workers)
        ]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        refreshes = SandboxCall.objects.filter(api=api).count() - before
        errors = sum(e for _, e in results)
        distinct = set().union(*(seen for seen, _ in results))
        total = args.workers * (args.reads // args.threads) * args.threads
        print(f"database: {db['ENGINE'].rsplit('.', 1)[-1]}")
        print(f"readers: {args.workers} processes x {args.threads} threads, {total} reads across the expiry")
        print(f"errors: {errors}")
        print(f"distinct tokens seen: {len(distinct)} (2 = the old one before the threshold, the new one after)")
        print(f"refresh calls to WeChat ({api}): {refreshes} (target: exactly 1)")


if __name__ == "__main__":
    main()
