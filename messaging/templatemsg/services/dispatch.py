"""Many message/template/send calls at once: a pool of threads, each with its own HTTP session, under a rate limit
shared by every worker through the cache.

The sending threads never touch the database: the token comes from the process's token cache (which the calling
thread renews), their call records are flushed by the calling thread, and only the calling thread asks whether to keep
going. So a worker holds one database connection however many calls it has in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from django.core.cache import cache
from django.db import connections

from wechat import call_log
from wechat.api import pool
from wechat.api import templates as templates_api
from wechat.errors import Category, WeChatError

# Errors that will hit every remaining receiver too: stop the push instead of burning through it.
PUSH_STOPPING_ERRCODES = frozenset({40037, 40164, 48001, 48004, 89503, 89506, 89507})


def stops_push(exc: WeChatError) -> bool:
    return exc.category in (Category.QUOTA, Category.AUTH) or exc.errcode in PUSH_STOPPING_ERRCODES


class RateLimiter:
    """At most ``rate`` permits per wall-clock second for ``key``, across threads and processes.

    Permits are taken from the shared counter in small blocks, so the cache sees a few calls per second per batch.
    """

    def __init__(self, key: str, rate: int):
        self.key = key
        self.rate = max(1, int(rate))
        self.block = max(1, min(50, self.rate // 20))
        self._local = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            while self._local <= 0:
                self._local = self._reserve()
            self._local -= 1

    def _reserve(self) -> int:
        now = time.time()
        window = int(now)
        key = f"tpl-rate:{self.key}:{window}"
        cache.add(key, 0, timeout=10)
        try:
            used = cache.incr(key, self.block)
        except ValueError:  # expired between add and incr
            return 0
        granted = min(self.block, self.rate - (used - self.block))
        if granted > 0:
            return granted
        time.sleep(max(0.0, window + 1 - time.time()))
        return 0


def send_all(
    *,
    account,
    template_id: str,
    content: Mapping,
    items: Iterable[tuple[int, str, str]],
    concurrency: int,
    limiter: RateLimiter | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> dict[int, str | WeChatError]:
    """Send ``content`` (``template_content``) with ``template_id`` to each (key, openid, client_msg_id); returns
    key → msgid or the WeChatError. Keys not in the result were not attempted
    (the push was stopped, by an error that stops pushes or by ``keep_going`` turning false)."""
    results: dict[int, str | WeChatError] = {}
    source = iter(items)
    lock = threading.Lock()
    stop = threading.Event()
    checked = [time.monotonic()]

    def still_going() -> bool:
        if keep_going is not None and not stop.is_set() and time.monotonic() - checked[0] > 1.0:
            checked[0] = time.monotonic()
            if not keep_going():
                stop.set()
        return not stop.is_set()

    def next_item(*, check: bool):
        with lock:
            if not (still_going() if check else not stop.is_set()):
                return None
            item = next(source, None)
        if item is not None and limiter is not None:
            limiter.acquire()
        return item

    send = templates_api.template_sender(account=account, template_id=template_id, **content)

    def work(*, check: bool = False):
        while (item := next_item(check=check)) is not None:
            key, openid, client_msg_id = item
            try:
                msgid = send(openid=openid, client_msg_id=client_msg_id)
            except WeChatError as exc:
                results[key] = exc
                if stops_push(exc):
                    stop.set()
            else:
                results[key] = msgid

    if concurrency <= 1:
        work(check=True)
        return results

    def threaded():
        try:
            with pool.pool_thread():
                work()
        finally:
            connections.close_all()  # only if something unexpected opened one

    threads = [threading.Thread(target=threaded, name=f"tpl-send-{n}", daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    # This thread alone uses the database: it asks whether to keep going, flushes the pool's call records and reads
    # the token again once the process's read has aged out (the pool's threads keep using that read meanwhile).
    while alive := [thread for thread in threads if thread.is_alive()]:
        alive[0].join(timeout=0.2)
        call_log.flush_due()
        still_going()
        pool.token_read(account=account)
    call_log.flush_due()
    return results
