"""Followers from WeChat: the full sync (user/get + user/info/batchget), single refreshes.

The full sync runs as a ``SyncJob``: pages of 10,000 openids from user/get, user info 100 at a time
from user/info/batchget, upserted in chunks of ``CHUNK_SIZE`` rows; each chunk commits together with
the job's cursor (page token + offset in the page), so a crashed job resumes where it stopped. Rows the
job did not see are marked unsubscribed at the end with one UPDATE.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

import jobs
from accounts.models import OfficialAccount
from followers.models import Follower, SyncJob
from wechat import call_log
from wechat.api import pool
from wechat.api import users as wechat_users
from wechat.errors import Category, WeChatError, describe
from wechat.retry import IN_PROCESS, call_with_retry

from .sync_rows import UserInfoRows, copy_lines, user_info_rows
from .sync_store import TagMap, followers_store
from .tags import tags_pull

logger = logging.getLogger(__name__)

BATCHGET_SIZE = 100  # user/info/batchget takes at most 100 openids
CHUNK_SIZE = 2_000  # followers per committed transaction (and cursor step)
STORE_CONNECTIONS = 2  # chunks stored at once, each on a connection of its own, committed in order
LEASE = timedelta(minutes=5)
RESUME_WITHIN = timedelta(days=2)


class SyncAlreadyRunning(Exception):
    def __init__(self, job: SyncJob | None):
        self.job = job
        super().__init__(
            f"A follower sync is already queued or running ({job})." if job else "A follower sync is already running."
        )


class SyncLeaseLost(Exception):
    """Another runner resumed this job (our lease ran out); stop without writing."""


# Calling WeChat


def _with_retries(fn, **kwargs):
    """Transient errors (-1, 45011, timeouts) are retried in the call; after that the job fails and its task retries later."""
    return call_with_retry(partial(fn, **kwargs), policy=IN_PROCESS)


def _batch_info(account: OfficialAccount, batch: list[str]) -> tuple[list[dict], int]:
    """user/info/batchget for ≤ 100 openids. Returns (WeChat's entries, openids WeChat refused)."""
    try:
        return _with_retries(wechat_users.user_info_batch, account=account, openids=batch), 0
    except WeChatError as exc:
        if exc.errcode != 40003:
            raise
    # One bad openid fails the whole batch: ask for each one alone and skip the refused.
    entries, failed = [], 0
    for openid in batch:
        try:
            entries.append(_with_retries(wechat_users.user_info, account=account, openid=openid))
        except WeChatError as single:
            if single.errcode != 40003:
                raise
            failed += 1
    return entries, failed


def _pool_close(pool: ThreadPoolExecutor, threads: int) -> None:
    """Shut ``pool`` down once each of its ``threads`` has closed its database connections, if it opened any: one
    task per thread, which the barrier holds until every thread has one."""
    barrier = threading.Barrier(threads)

    def close_connection():
        barrier.wait(timeout=30)
        connections.close_all()

    for future in [pool.submit(close_connection) for _ in range(threads)]:
        future.result()
    pool.shutdown()


class Chunk(NamedTuple):
    """The followers of one chunk of openids, ready to store: rows, unfollowed openids, WeChat tag ids, the rows as
    COPY text on PostgreSQL (else None), and how many openids WeChat refused."""

    rows: list
    gone: list[str]
    tagids: set[int]
    copy_text: str | None
    failed: int


class InfoFetcher:
    """user/info for chunks of openids, 100 per batchget call, on ``workers`` threads, and the next user/get page.

    Against WeChat each call waits ~50 ms on the network, so a million followers (10,000 calls) need calls in
    parallel. The threads turn WeChat's answers into rows (and COPY text) as they come, and touch no database: the
    call log is buffered for this thread to write, and the access token is read here before each chunk so that they
    find it in the process's token cache (``wechat.api.pool``). SQLite, which serialises writers anyway, fetches
    in this thread when a result is asked for, and so does a caller inside a transaction.
    """

    def __init__(self, account: OfficialAccount, *, workers: int = 1):
        self.account = account
        self.copy = connection.vendor == "postgresql"
        # Other connections cannot see this one's uncommitted rows: inside a transaction, fetch here.
        parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.workers = workers if parallel else 1
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="follower-sync") if self.workers > 1 else None
        self._pending: set[Future] = set()
        # Chunks fetched ahead of the one being stored: enough to keep every thread busy meanwhile.
        self.ahead = -(-2 * self.workers * BATCHGET_SIZE // CHUNK_SIZE) if self._pool is not None else 0

    def _start(self, fn, *args):
        if self._pool is None:
            return partial(fn, *args)
        future = self._pool.submit(self._deferred, fn, *args)
        self._pending.add(future)
        return future

    @staticmethod
    def _deferred(fn, *args):
        with pool.pool_thread():
            return fn(*args)

    def _wait(self, pending):
        if self._pool is None:
            return pending()
        self._pending.discard(pending)
        return pending.result()

    def _batch(self, batch: list[str]) -> tuple[UserInfoRows, list[str] | None, int]:
        entries, failed = _batch_info(self.account, batch)
        rows = user_info_rows(entries)
        return rows, copy_lines(rows.rows) if self.copy else None, failed

    def _page(self, next_openid: str) -> wechat_users.OpenidPage:
        return _with_retries(wechat_users.followers_page, account=self.account, next_openid=next_openid)

    def page(self, next_openid: str):
        """Start fetching the user/get page after ``next_openid`` (in sequence: when ``page_result`` is called)."""
        return self._start(self._page, next_openid)

    def page_result(self, pending) -> wechat_users.OpenidPage:
        return self._wait(pending)

    def submit(self, openids: list[str]) -> list:
        """Start fetching ``openids`` (on the threads; in sequence: when ``result`` is called)."""
        if self._pool is not None:
            pool.token_read(account=self.account)
        return [self._start(self._batch, openids[i : i + BATCHGET_SIZE]) for i in range(0, len(openids), BATCHGET_SIZE)]

    def result(self, pending: list) -> Chunk:
        """The chunk of a ``submit``, in WeChat's order; raises the first batch's error."""
        rows, gone, tagids, lines, failed = [], [], set(), [], 0
        for batch in pending:
            users, copy, refused = self._wait(batch)
            rows += users.rows
            gone += users.gone
            tagids |= users.tagids
            if copy is not None:
                lines += copy
            failed += refused
        call_log.flush_due()
        return Chunk(rows, gone, tagids, "".join(lines) if self.copy else None, failed)

    def close(self) -> None:
        if self._pool is None:
            return
        # Calls not started yet are not made (the job stopped on an error); those under way finish.
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        _pool_close(self._pool, self.workers)
        call_log.flush()


# The full sync


def _latest_job(account: OfficialAccount) -> SyncJob | None:
    return SyncJob.objects.filter(account=account, kind=SyncJob.Kind.FOLLOWERS).order_by("-created_at", "-id").first()


def follower_sync_start(*, account: OfficialAccount, user=None, enqueue: bool = True) -> SyncJob:
    """Queue a full follower sync, or resume the interrupted one (failed recently, or its worker died).

    Raises ``SyncAlreadyRunning`` while another sync of the account is queued or running.
    """
    now = timezone.now()
    job = _latest_job(account)
    resumable = None
    if job is not None and job.status in SyncJob.ACTIVE:
        if job.lease_until and job.lease_until > now:
            raise SyncAlreadyRunning(job)
        resumable = Q(status__in=SyncJob.ACTIVE, lease_until__lte=now) | Q(status__in=SyncJob.ACTIVE, lease_until__isnull=True)
    elif job is not None and job.status == SyncJob.Status.FAILED and job.created_at >= now - RESUME_WITHIN:
        resumable = Q(status=SyncJob.Status.FAILED)
    try:
        with transaction.atomic():
            if resumable is not None:
                claimed = SyncJob.objects.filter(resumable, pk=job.pk).update(
                    status=SyncJob.Status.QUEUED, lease_until=now + LEASE, errcode=None, error="", finished_at=None
                )
                if not claimed:
                    raise SyncAlreadyRunning(_latest_job(account))
                job.refresh_from_db()
            else:
                job = SyncJob.objects.create(
                    account=account,
                    kind=SyncJob.Kind.FOLLOWERS,
                    status=SyncJob.Status.QUEUED,
                    lease_until=now + LEASE,
                    created_by=user,
                )
    except IntegrityError as exc:
        raise SyncAlreadyRunning(_latest_job(account)) from exc
    if enqueue:
        follower_sync_run = jobs.task("accounts.tasks.follower_sync_run")

        job_id = job.pk
        transaction.on_commit(lambda: follower_sync_run.delay(job_id))
    logger.info("followers.sync_queued", extra={"appid": account.appid, "job": job.pk, "resumed": resumable is not None})
    return job


def follower_sync_all(*, account: OfficialAccount, user=None) -> SyncJob:
    """Sync every follower of the account now, in this process (resuming an interrupted job)."""
    job = follower_sync_start(account=account, user=user, enqueue=False)
    return follower_sync_run(job_id=job.pk) or job


def follower_sync_run(*, job_id: int) -> SyncJob | None:
    """Claim a queued (or abandoned) job and run it to the end, or until WeChat refuses (the job is then failed,
    with the errcode). Returns None if someone else holds the job."""
    now = timezone.now()
    claimable = Q(status=SyncJob.Status.QUEUED) | Q(status=SyncJob.Status.RUNNING, lease_until__lte=now)
    claimed = SyncJob.objects.filter(claimable, pk=job_id).update(
        status=SyncJob.Status.RUNNING,
        lease_until=now + LEASE,
        started_at=Coalesce("started_at", now),
        attempt=F("attempt") + 1,
    )
    if not claimed:
        return None
    job = SyncJob.objects.select_related("account").get(pk=job_id)
    try:
        _FollowerSync(job).run()
    except SyncLeaseLost:
        logger.warning("followers.sync_lease_lost", extra={"job": job_id})
        return None
    except WeChatError as exc:
        # 45009 quota, 48001 unauthorised, or transient errors that outlived the in-call retries.
        _job_fail(job, errcode=exc.errcode, error=exc.display)
        logger.warning("followers.sync_failed", extra={"job": job_id, "errcode": exc.errcode})
    except Exception as exc:
        _job_fail(job, errcode=None, error=f"{type(exc).__name__}: {exc}")
        raise
    job.refresh_from_db()
    return job


def job_failed_transiently(job: SyncJob) -> bool:
    return (
        job.status == SyncJob.Status.FAILED and job.errcode is not None and describe(job.errcode).category == Category.TRANSIENT
    )


def followers_sync_every_account() -> int:
    """Queue a full sync for each account (the nightly beat job). Returns how many were queued."""
    queued = 0
    for account in OfficialAccount.objects.order_by("pk"):
        try:
            follower_sync_start(account=account)
        except SyncAlreadyRunning:
            continue
        queued += 1
    return queued


def _job_fail(job: SyncJob, *, errcode: int | None, error: str) -> None:
    SyncJob.objects.filter(pk=job.pk, attempt=job.attempt, status=SyncJob.Status.RUNNING).update(
        status=SyncJob.Status.FAILED, errcode=errcode, error=error[:255], finished_at=timezone.now(), lease_until=None
    )


class ChunkStore:
    """Stores chunks on ``STORE_CONNECTIONS`` threads, each with its own connection, and commits them in order.

    A chunk's store statement is PostgreSQL's work of one backend process: on one connection the sync waits for it
    chunk after chunk, with the other core idle. Here the next chunk is written while the one before it is, and its
    transaction commits only once that one has (the cursor is a position: a commit must not count rows that a
    crash could still lose before it). A chunk that shares an openid with the chunk still being written starts
    after it: the later one would wait for that row's lock while holding up the earlier one's commit. SQLite, which
    writes one transaction at a time, and a caller inside a transaction store in this thread, one chunk after
    another.
    """

    def __init__(self, commit, *, parallel: bool):
        self.commit = commit  # commit(chunk, total, cursor, before): store, wait for ``before``, move the cursor
        self._pool = ThreadPoolExecutor(STORE_CONNECTIONS, thread_name_prefix="follower-store") if parallel else None
        self._last: tuple[Future, set[str]] | None = None

    def put(self, chunk: Chunk, *, total: int, cursor: tuple[str, int]) -> None:
        if self._pool is None:
            self.commit(chunk, total, cursor, None)
            return
        openids = {row[0] for row in chunk.rows}.union(chunk.gone)
        before = None
        if self._last is not None:
            before, written = self._last
            if before.done() or not openids.isdisjoint(written):
                before.result()  # raises the earlier chunk's error
                before = None
        future = self._pool.submit(self.commit, chunk, total, cursor, before)
        self._last = (future, openids)
        if before is not None:
            # At most two chunks at once: the one just submitted and the one it waits for.
            before.result()

    def finish(self) -> None:
        """Wait for every chunk; raises the first error."""
        if self._last is not None:
            self._last[0].result()

    def close(self) -> None:
        if self._pool is None:
            return
        # The chunk under way ends (a failure before it rolls it back); then each thread closes its connection.
        if self._last is not None:
            self._last[0].exception()
        _pool_close(self._pool, STORE_CONNECTIONS)


class _FollowerSync:
    def __init__(self, job: SyncJob):
        self.job = job
        self.account = job.account
        self.tag_map = TagMap(job.account)
        self.fetcher = InfoFetcher(job.account, workers=settings.FOLLOWER_SYNC_WORKERS)
        self.store = ChunkStore(self._commit_chunk, parallel=self.fetcher.workers > 1)

    def _commit_chunk(self, chunk: Chunk, total: int, cursor: tuple[str, int], before: Future | None) -> None:
        now = timezone.now()
        with transaction.atomic():
            followers_store(
                account=self.account,
                rows=chunk.rows,
                gone=chunk.gone,
                tag_map=self.tag_map,
                tagids=chunk.tagids,
                copy_text=chunk.copy_text,
                now=now,
                # A chunk need not wait for its commit to reach the disk: a database crash can only lose the last
                # chunks together with the cursor that counts them, and the resumed job fetches them again.
                wait_for_disk=False,
            )
            if before is not None:
                before.result()  # the chunk before commits first; if it failed, this one rolls back
            # The cursor moves in the same transaction as the rows, and only while we still hold the job.
            held = SyncJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt, status=SyncJob.Status.RUNNING).update(
                page_token=cursor[0],
                page_offset=cursor[1],
                total=total,
                done=F("done") + len(chunk.rows) + len(chunk.gone),
                failed=F("failed") + chunk.failed,
                lease_until=now + LEASE,
            )
            if not held:
                raise SyncLeaseLost()

    def run(self) -> None:
        try:
            self._pages()
            self.store.finish()
        finally:
            self.fetcher.close()
            self.store.close()
        self._finish()

    def _chunks(self):
        """(openids, cursor after them, total) of each chunk from the job's cursor on. The next user/get page is asked
        for as soon as a page arrives, so that chunks flow on across pages."""
        token, offset = self.job.page_token, self.job.page_offset
        pending = self.fetcher.page(token)
        while True:
            page = self.fetcher.page_result(pending)
            openids, following, total = page.openids, page.next_openid, page.total or 0
            if not openids:
                return
            last_page = not following or following == token
            if not last_page:
                pending = self.fetcher.page(following)
            for start in range(offset, len(openids), CHUNK_SIZE):
                end = min(start + CHUNK_SIZE, len(openids))
                cursor = (following, 0) if end >= len(openids) and not last_page else (token, end)
                yield list(openids[start:end]), cursor, total
            if last_page:
                return
            token, offset = following, 0

    def _pages(self) -> None:
        # Chunks are fetched ahead while the oldest one is stored, then committed in order (the cursor is a position).
        window: deque = deque()
        for openids, cursor, total in self._chunks():
            window.append((self.fetcher.submit(openids), cursor, total))
            if len(window) > self.fetcher.ahead:
                self._commit_pending(*window.popleft())
        while window:
            self._commit_pending(*window.popleft())

    def _commit_pending(self, pending, cursor: tuple[str, int], total: int) -> None:
        chunk = self.fetcher.result(pending)
        # Unknown tags are created here, before the chunk's transaction: its statement only reads the tags.
        self.tag_map.resolve(chunk.tagids)
        self.store.put(chunk, total=total, cursor=cursor)

    def _finish(self) -> None:
        now = timezone.now()
        started = self.job.started_at
        with transaction.atomic():
            # Subscribed rows this job never saw have unfollowed; new follows during the job are kept.
            gone = (
                Follower.objects.filter(account=self.account, subscribed=True)
                .filter(Q(synced_at__isnull=True) | Q(synced_at__lt=started))
                .filter(Q(subscribe_time__isnull=True) | Q(subscribe_time__lt=started))
                .update(subscribed=False, unsubscribed_at=now, updated_at=now)
            )
            held = SyncJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt, status=SyncJob.Status.RUNNING).update(
                status=SyncJob.Status.SUCCEEDED, finished_at=now, lease_until=None, errcode=None, error=""
            )
            if not held:
                raise SyncLeaseLost()
        logger.info("followers.sync_done", extra={"appid": self.account.appid, "job": self.job.pk, "unsubscribed": gone})
        if self.tag_map.created:
            self._name_placeholder_tags()

    def _name_placeholder_tags(self) -> None:

        try:
            tags_pull(account=self.account)
        except WeChatError as exc:
            logger.warning("followers.tags_pull_failed", extra={"appid": self.account.appid, "errcode": exc.errcode})


# One follower


def follower_info_refresh(*, account: OfficialAccount, openid: str) -> Follower | None:
    """Fill one follower from user/info (language, unionid, tags, remark...). None if WeChat refuses the openid."""
    try:
        data = wechat_users.user_info(account=account, openid=openid)
    except WeChatError as exc:
        if exc.errcode == 40003:
            return None
        raise
    users = user_info_rows([data])
    with transaction.atomic():
        followers_store(account=account, rows=users.rows, gone=users.gone, tag_map=TagMap(account), tagids=users.tagids)
    return Follower.objects.filter(account=account, openid=openid).first()
