"""Followers from WeChat: the full sync (user/get + user/info/batchget), single refreshes.

The full sync runs as a ``SyncJob``: pages of 10,000 openids from user/get, user info 100 at a time
from user/info/batchget, upserted in chunks of ``CHUNK_SIZE`` rows; each chunk commits together with
the job's cursor (page token + offset in the page), so a crashed job resumes where it stopped. Rows the
job did not see are marked unsubscribed at the end with one UPDATE.
"""

from __future__ import annotations

import io
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

import jobs
from accounts.models import OfficialAccount
from followers.models import Follower, SyncJob, Tag
from wechat.api import users as wechat_users
from wechat.errors import Category, WeChatError, describe
from wechat.models import SyncStatus
from wechat.retry import IN_PROCESS, call_with_retry

from .tags import tags_pull

logger = logging.getLogger(__name__)

BATCHGET_SIZE = 100  # user/info/batchget takes at most 100 openids
CHUNK_SIZE = 2_000  # followers per committed transaction (and cursor step)
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


# Reading WeChat's answers


def _timestamp(value) -> datetime | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def user_info_parse(data: dict) -> dict:
    """Follower field values from one user/info entry, current or legacy (pre-2021, with nickname) shape."""
    openid = str(data.get("openid") or "")
    if not int(data.get("subscribe") or 0):
        return {"openid": openid, "subscribed": False, "unionid": str(data.get("unionid") or "").strip()[:64]}
    qr_scene = str(data.get("qr_scene_str") or "")
    if not qr_scene and data.get("qr_scene"):
        qr_scene = str(data["qr_scene"])
    tagids = []
    for value in data.get("tagid_list") or []:
        try:
            tagids.append(int(value))
        except (TypeError, ValueError):
            continue
    return {
        "openid": openid,
        "subscribed": True,
        "unionid": str(data.get("unionid") or "").strip()[:64],
        "subscribe_time": _timestamp(data.get("subscribe_time")),
        "subscribe_scene": str(data.get("subscribe_scene") or "")[:32],
        "qr_scene": qr_scene[:64],
        "language": str(data.get("language") or "")[:16],
        "remark": str(data.get("remark") or "")[:30],
        "tagids": tagids,
    }


# Writing followers


class TagMap:
    """WeChat tag id → local Tag id for one account; unknown ids get a placeholder row named 'tag <id>'."""

    def __init__(self, account: OfficialAccount):
        self.account = account
        self.ids = dict(Tag.objects.filter(account=account, wechat_id__isnull=False).values_list("wechat_id", "id"))
        self.created = 0

    def resolve(self, wechat_ids) -> dict[int, int]:
        missing = {w for w in wechat_ids if w not in self.ids}
        if missing:
            self._create(missing)
        return self.ids

    def _create(self, wechat_ids: set[int]) -> None:
        taken = set(Tag.objects.filter(account=self.account).values_list("name", flat=True))
        rows = []
        for wechat_id in sorted(wechat_ids):
            name = f"tag {wechat_id}"
            while name in taken:
                name += "*"
            taken.add(name)
            # Synced, not pending: the name is WeChat's to give (the next tags pull renames it), not ours to push.
            rows.append(Tag(account=self.account, wechat_id=wechat_id, name=name[:30], sync_status=SyncStatus.SYNCED))
        # A concurrent tags pull may have created some of them: keep its rows.
        Tag.objects.bulk_create(rows, ignore_conflicts=True)
        self.ids = dict(Tag.objects.filter(account=self.account, wechat_id__isnull=False).values_list("wechat_id", "id"))
        self.created += len(rows)


def followers_store(*, account: OfficialAccount, users: list[dict], tag_map: TagMap, now: datetime | None = None) -> int:
    """Upsert parsed user/info entries: one INSERT .. ON CONFLICT for the subscribed, one UPDATE for the gone.

    WeChat-held tag memberships (tags with a WeChat id) are made equal to each follower's ``tagid_list``.
    Returns the number of entries written.
    """
    now = now or timezone.now()
    # One row per openid (a repeated openid would make the upsert touch a row twice).
    present = list({u["openid"]: u for u in users if u["subscribed"]}.values())
    gone = [u["openid"] for u in users if not u["subscribed"]]
    if gone:
        Follower.objects.filter(account=account, openid__in=gone, subscribed=True).update(
            subscribed=False, unsubscribed_at=now, updated_at=now
        )
        Follower.objects.filter(account=account, openid__in=gone).update(synced_at=now)
    if not present:
        return len(gone)
    columns = {
        "openid": [u["openid"] for u in present],
        "unionid": [u["unionid"] for u in present],
        "subscribe_time": [u["subscribe_time"] for u in present],
        "subscribe_scene": [u["subscribe_scene"] for u in present],
        "qr_scene": [u["qr_scene"] for u in present],
        "language": [u["language"] for u in present],
        "remark": [u["remark"] for u in present],
    }
    # The same for every row: bound once as parameters instead of repeated in every row.
    same = {"subscribed": True, "unsubscribed_at": None, "synced_at": now, "updated_at": now}
    rows = _upsert(account, columns, same=same, now=now)
    _memberships_set(
        tag_map,
        {rows[u["openid"]][0]: u["tagids"] for u in present},
        new_followers={pk for pk, inserted in rows.values() if inserted},
    )
    return len(users)


# What a sync must not erase: user/info without a subscribe_scene keeps the stored one, and without a QR scene
# (while it still says, or does not say, ADD_SCENE_QR_CODE) keeps the scene the follow event recorded.
_KEEP = {
    "subscribe_scene": "CASE WHEN EXCLUDED.subscribe_scene = '' THEN {table}.subscribe_scene ELSE EXCLUDED.subscribe_scene END",
    "qr_scene": "CASE WHEN EXCLUDED.qr_scene = '' AND EXCLUDED.subscribe_scene IN ('', 'ADD_SCENE_QR_CODE') "
    "THEN {table}.qr_scene ELSE EXCLUDED.qr_scene END",
}


def _upsert(
    account: OfficialAccount, columns: dict[str, list], *, same: dict[str, object], now: datetime
) -> dict[str, tuple[int, bool]]:
    """INSERT .. ON CONFLICT (account, openid) DO UPDATE of the given columns, one statement per chunk.

    ``columns`` holds a value per row, ``same`` one value for every row; both are written on conflict.
    Hand-written because the ORM's bulk_create spends ~30 µs a row preparing values, which is most of a
    million-follower sync; columns not given take the model's default (timestamps: ``now``).
    Returns {openid: (id, inserted)}; ``inserted`` is only known on PostgreSQL (elsewhere False).
    """
    fields = [f for f in Follower._meta.concrete_fields if not f.primary_key]
    by_column = {f.column: f for f in fields}
    constants = {}
    for field in fields:
        if field.attname in columns:
            continue
        if field.attname in same:
            constants[field.column] = field.get_db_prep_save(same[field.attname], connection)
        elif field.attname == "account_id":
            constants[field.column] = account.pk
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constants[field.column] = field.get_db_prep_save(now, connection)
        else:
            constants[field.column] = field.get_db_prep_save(field.get_default(), connection)
    table = connection.ops.quote_name(Follower._meta.db_table)
    quote = connection.ops.quote_name
    names = [f.column for f in fields]
    written = [c for c in names if (c in columns or c in same) and c != "openid"]
    keep = {c: sql.format(table=table) for c, sql in _KEEP.items()}
    updates = ", ".join(f"{quote(c)} = {keep.get(c) or f'EXCLUDED.{quote(c)}'}" for c in written)
    conflict = f"ON CONFLICT ({quote('account_id')}, {quote('openid')}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            given = [c for c in names if c in columns]
            # COPY into a per-connection staging table, then one INSERT .. SELECT: ~1.5x a bare COPY.
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS follower_sync_stage AS SELECT {', '.join(map(quote, given))} "  # noqa: S608
                f"FROM {table} WITH NO DATA"
            )
            cursor.execute("TRUNCATE follower_sync_stage")
            cursor.cursor.copy_expert(
                f"COPY follower_sync_stage ({', '.join(map(quote, given))}) FROM STDIN",
                _copy_text([columns[c] for c in given], [by_column[c] for c in given]),
            )
            select = ", ".join(quote(c) if c in columns else "%s" for c in names)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(map(quote, names))}) SELECT {select} FROM follower_sync_stage "  # noqa: S608
                # xmax = 0: the row was inserted, so it has no tag memberships to compare with.
                f"{conflict} RETURNING id, openid, (xmax = 0)",
                [constants[c] for c in names if c not in columns],
            )
            return {openid: (pk, inserted) for pk, openid, inserted in cursor.fetchall()}
        adapt = {f.column for f in fields if f.get_internal_type() == "DateTimeField"}
        params = []
        for i in range(len(columns["openid"])):
            row = []
            for c in names:
                value = columns[c][i] if c in columns else constants[c]
                if c in adapt and c in columns:
                    value = connection.ops.adapt_datetimefield_value(value)
                row.append(value)
            params.append(row)
        placeholders = ", ".join(["%s"] * len(names))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(map(quote, names))}) VALUES ({placeholders}) {conflict}", params)  # noqa: S608
    openids = columns["openid"]
    return {o: (pk, False) for o, pk in Follower.objects.filter(account=account, openid__in=openids).values_list("openid", "id")}


def _memberships_set(tag_map: TagMap, wanted_by_follower: dict[int, list[int]], *, new_followers: set[int]) -> None:
    through = Follower.tags.through
    ids = tag_map.resolve({w for tagids in wanted_by_follower.values() for w in tagids})
    wanted = {(fid, ids[w]) for fid, tagids in wanted_by_follower.items() for w in tagids}
    known = [fid for fid in wanted_by_follower if fid not in new_followers]
    existing = {}
    if known:
        # Only tags WeChat knows (a local tag not yet created there is ours to keep).
        existing = {
            (fid, tid): pk
            for pk, fid, tid in through.objects.filter(follower_id__in=known, tag_id__in=list(ids.values())).values_list(
                "id", "follower_id", "tag_id"
            )
        }
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    if stale:
        through.objects.filter(pk__in=stale).delete()
    new = [pair for pair in wanted if pair not in existing]
    if not new:
        return
    if connection.vendor == "postgresql":
        # Two arrays in one statement: no model instance per membership.
        quote = connection.ops.quote_name
        table, follower, tag = (
            quote(through._meta.db_table),
            quote(through._meta.get_field("follower").column),
            quote(through._meta.get_field("tag").column),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({follower}, {tag}) SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                [[fid for fid, _ in new], [tid for _, tid in new]],
            )
        return
    through.objects.bulk_create([through(follower_id=fid, tag_id=tid) for fid, tid in new], ignore_conflicts=True)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_column(values: list, field) -> list[str]:
    """One column in PostgreSQL's COPY text format (None → \\N), converted by the field's type, not per value."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return ["\\N" if v is None else v.isoformat() for v in values]
    if kind == "BooleanField":
        return ["\\N" if v is None else ("t" if v else "f") for v in values]
    return ["\\N" if v is None else str(v).translate(_COPY_ESCAPES) for v in values]


def _copy_text(columns: list[list], fields: list) -> io.StringIO:
    """Rows in PostgreSQL's COPY text format from column lists."""
    converted = [_copy_column(values, field) for values, field in zip(columns, fields, strict=True)]
    buf = io.StringIO()
    buf.writelines(f"{line}\n" for line in map("\t".join, zip(*converted, strict=True)))
    buf.seek(0)
    return buf


# Calling WeChat


def _with_retries(fn, **kwargs):
    """Transient errors (-1, 45011, timeouts) are retried in the call; after that the job fails and its task retries later."""
    return call_with_retry(partial(fn, **kwargs), policy=IN_PROCESS)


def _batch_info(account: OfficialAccount, batch: list[str]) -> tuple[list[dict], int]:
    """user/info/batchget for ≤ 100 openids. Returns (parsed users, openids WeChat refused)."""
    try:
        entries = _with_retries(wechat_users.user_info_batch, account=account, openids=batch)
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
        return [user_info_parse(e) for e in entries if e.get("openid")], failed
    return [user_info_parse(e) for e in entries if e.get("openid")], 0


class InfoFetcher:
    """user/info for a chunk of openids, 100 per batchget call, on ``workers`` threads.

    Against WeChat each call waits ~50 ms on the network, so a million followers (10,000 calls) need
    calls in parallel. Each thread has its own HTTP session and database connection (for the call log),
    closed when the fetcher closes. SQLite, which serialises writers anyway, fetches in this thread,
    and so does a caller inside a transaction.
    """

    def __init__(self, account: OfficialAccount, *, workers: int = 1):
        self.account = account
        # Other connections cannot see this one's uncommitted rows: inside a transaction, fetch here.
        parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.workers = workers if parallel else 1
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="follower-sync") if self.workers > 1 else None

    def _fetch(self, batch: list[str]) -> tuple[list[dict], int]:
        return _batch_info(self.account, batch)

    def submit(self, openids: list[str]):
        """Start fetching ``openids`` (on the threads; in sequence: when ``result`` is called)."""
        batches = [openids[i : i + BATCHGET_SIZE] for i in range(0, len(openids), BATCHGET_SIZE)]
        if self._pool is None:
            return batches
        return [self._pool.submit(self._fetch, batch) for batch in batches]

    def result(self, pending) -> tuple[list[dict], int]:
        """(parsed users in WeChat's order, openids WeChat refused) of a ``submit``; raises the first batch's error."""
        if self._pool is None:
            results = [_batch_info(self.account, batch) for batch in pending]
        else:
            results = [future.result() for future in pending]
        return [u for users, _ in results for u in users], sum(failed for _, failed in results)

    def close(self) -> None:
        if self._pool is None:
            return
        # One task per thread (the barrier holds each until all have one): each closes its own connection.
        barrier = threading.Barrier(self.workers)

        def close_connection():
            barrier.wait(timeout=30)
            connections.close_all()

        for future in [self._pool.submit(close_connection) for _ in range(self.workers)]:
            future.result()
        self._pool.shutdown()


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


class _FollowerSync:
    def __init__(self, job: SyncJob):
        self.job = job
        self.account = job.account
        self.tag_map = TagMap(job.account)
        self.fetcher = InfoFetcher(job.account, workers=settings.FOLLOWER_SYNC_WORKERS)

    def _commit_chunk(self, users: list[dict], failed: int, *, total: int, cursor: tuple[str, int]) -> None:
        now = timezone.now()
        with transaction.atomic():
            # The cursor moves in the same transaction as the rows, and only while we still hold the job.
            held = SyncJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt, status=SyncJob.Status.RUNNING).update(
                page_token=cursor[0],
                page_offset=cursor[1],
                total=total,
                done=F("done") + len(users),
                failed=F("failed") + failed,
                lease_until=now + LEASE,
            )
            if not held:
                raise SyncLeaseLost()
            followers_store(account=self.account, users=users, tag_map=self.tag_map, now=now)

    def run(self) -> None:
        try:
            self._pages()
        finally:
            self.fetcher.close()
        self._finish()

    def _pages(self) -> None:
        token, offset = self.job.page_token, self.job.page_offset
        while True:
            page = _with_retries(wechat_users.followers_page, account=self.account, next_openid=token)
            openids = list(page.openids)
            following = page.next_openid
            total = page.total or 0
            if not openids:
                break
            last_page = not following or following == token
            starts = list(range(offset, len(openids), CHUNK_SIZE))
            pending = self.fetcher.submit(openids[offset : offset + CHUNK_SIZE]) if starts else None
            for i, start in enumerate(starts):
                users, failed = self.fetcher.result(pending)
                if i + 1 < len(starts):
                    # The next chunk is fetched while this one is stored.
                    pending = self.fetcher.submit(openids[starts[i + 1] : starts[i + 1] + CHUNK_SIZE])
                end = min(start + CHUNK_SIZE, len(openids))
                cursor = (following, 0) if end >= len(openids) and not last_page else (token, end)
                self._commit_chunk(users, failed, total=total, cursor=cursor)
            if last_page:
                break
            token, offset = following, 0

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
    with transaction.atomic():
        followers_store(account=account, users=[user_info_parse(data)], tag_map=TagMap(account))
    return Follower.objects.filter(account=account, openid=openid).first()
