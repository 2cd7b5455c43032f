"""Pull the account's material library from WeChat (get_materialcount, batchget_material): bulk upsert by media_id.

One ``MaterialPullJob`` per run holds the progress (done / total) and the cursor (type + offset). Each page is
committed with the cursor that follows it, so a job that failed or whose worker died resumes at the next page and
never creates a row twice (the unique media_id per account backs this up). When every type is listed, the
materials we have that WeChat did not list are marked as removed there.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

import jobs
from media_assets.models import Material, MaterialPullJob, MediaKind
from wechat.api import media as wechat_media
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .materials import REMOVED_ON_WECHAT

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
PAGE_SIZE = wechat_media.BATCHGET_MAX


def material_pull_start(*, account, user=None) -> tuple[MaterialPullJob, bool]:
    """The account's active pull, or a new one enqueued after commit. Returns (job, created)."""
    job = MaterialPullJob.objects.filter(account=account, status__in=MaterialPullJob.ACTIVE).first()
    if job is not None:
        return job, False
    try:
        with transaction.atomic():
            job = MaterialPullJob.objects.create(
                account=account, created_by=user if user is not None and user.is_authenticated else None
            )
    except IntegrityError:  # another request started one just now
        return MaterialPullJob.objects.get(account=account, status__in=MaterialPullJob.ACTIVE), False
    _enqueue(job.pk)
    return job, True


def material_pull_resume(*, job: MaterialPullJob) -> bool:
    """Run a failed job again from its cursor (the "resume" of the admin)."""
    if not MaterialPullJob.objects.filter(pk=job.pk, status=MaterialPullJob.Status.FAILED).update(
        status=MaterialPullJob.Status.QUEUED, errcode=None, error="", finished_at=None
    ):
        return False
    _enqueue(job.pk)
    return True


def _enqueue(job_id: int) -> None:
    task = jobs.task("media_assets.tasks.material_pull_run")

    transaction.on_commit(lambda: task.delay(job_id))


def _claim(job_id: int) -> MaterialPullJob | None:
    now = timezone.now()
    claimable = Q(status=MaterialPullJob.Status.QUEUED) | Q(status=MaterialPullJob.Status.RUNNING, lease_until__lt=now)
    job = MaterialPullJob.objects.filter(claimable, pk=job_id).first()
    if job is None:
        return None
    claimed = MaterialPullJob.objects.filter(claimable, pk=job_id, attempt=job.attempt).update(
        status=MaterialPullJob.Status.RUNNING, attempt=job.attempt + 1, lease_until=now + LEASE, started_at=job.started_at or now
    )
    if not claimed:
        return None
    job.refresh_from_db()
    return job


def _upsert(account, kind: str, items: list[wechat_media.RemoteMaterial]) -> int:
    """Create the materials not known yet, refresh the others. Returns how many were created."""
    now = timezone.now()
    ids = [item.media_id for item in items if item.media_id]
    existing = {m.media_id: m for m in Material.objects.filter(account=account, media_id__in=ids)}
    new, changed = [], []
    for item in items:
        if not item.media_id:
            continue
        material = existing.get(item.media_id)
        if material is None:
            new.append(
                Material(
                    account=account,
                    kind=kind,
                    media_id=item.media_id,
                    name=item.name[:255],
                    url=item.url[:1024],
                    wechat_update_time=item.update_time,
                    sync_status=SyncStatus.SYNCED,
                    synced_at=now,
                )
            )
            existing[item.media_id] = new[-1]
            continue
        material.url = item.url[:1024] or material.url
        material.name = material.name or item.name[:255]
        material.wechat_update_time = item.update_time
        material.removed_on_wechat_at = None
        material.sync_status, material.synced_at, material.last_error = SyncStatus.SYNCED, now, ""
        changed.append(material)
    Material.objects.bulk_create(new, ignore_conflicts=True)
    Material.objects.bulk_update(
        changed, ["url", "name", "wechat_update_time", "removed_on_wechat_at", "sync_status", "synced_at", "last_error"]
    )
    return len(new)


def _kinds_from(current: str) -> list[str]:
    kinds = [str(k) for k in MaterialPullJob.PULL_KINDS]
    return kinds[kinds.index(current) :] if current in kinds else kinds


def material_pull_run(*, job_id: int, last_attempt: bool = True) -> MaterialPullJob | None:
    """Run (or resume) one pull to the end. A WeChat error fails the job with its cursor kept, and is raised."""
    job = _claim(job_id)
    if job is None:
        return None
    account = job.account
    try:
        counts = wechat_media.material_count(account=account)
        total = counts.image + counts.voice + counts.video
        MaterialPullJob.objects.filter(pk=job.pk).update(total=max(total, job.done))
        for kind in _kinds_from(job.current_kind):
            offset = job.offset if kind == job.current_kind else 0
            while True:
                page = wechat_media.material_batchget(account=account, kind=kind, offset=offset, count=PAGE_SIZE)
                with transaction.atomic():
                    created = _upsert(account, kind, page.items)
                    offset += len(page.items)
                    job.done += len(page.items)
                    job.created += created
                    job.current_kind, job.offset = kind, offset
                    MaterialPullJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
                        done=job.done,
                        created=job.created,
                        current_kind=kind,
                        offset=offset,
                        lease_until=timezone.now() + LEASE,
                    )
                if created:
                    _enqueue_file_fetches(account, kind, [i.media_id for i in page.items])
                if not page.items or offset >= page.total_count:
                    break
    except WeChatError as exc:
        status = MaterialPullJob.Status.QUEUED if exc.is_transient and not last_attempt else MaterialPullJob.Status.FAILED
        MaterialPullJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
            status=status, errcode=exc.errcode, error=exc.display[:255], finished_at=timezone.now(), lease_until=None
        )
        logger.warning("media_assets.pull_failed", extra={"job_id": job.pk, "errcode": exc.errcode})
        raise
    removed = _mark_unlisted_removed(job)
    MaterialPullJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
        status=MaterialPullJob.Status.SUCCEEDED, finished_at=timezone.now(), lease_until=None, errcode=None, error=""
    )
    logger.info("media_assets.pull_done", extra={"job_id": job.pk, "done": job.done, "removed": removed})
    job.refresh_from_db()
    return job


def _mark_unlisted_removed(job: MaterialPullJob) -> int:
    """Materials WeChat did not list in this pull (and not uploaded since it began): deleted in WeChat's console.
    Thumbs are left alone: WeChat's listing of them is not documented."""
    unlisted = (
        Material.objects.filter(account=job.account, kind__in=MaterialPullJob.PULL_KINDS, removed_on_wechat_at__isnull=True)
        .exclude(media_id="")
        .filter(Q(synced_at__lt=job.created_at) | Q(synced_at__isnull=True))
    )
    return unlisted.update(removed_on_wechat_at=timezone.now(), sync_status=SyncStatus.FAILED, last_error=REMOVED_ON_WECHAT[:255])


def _enqueue_file_fetches(account, kind: str, media_ids: list[str]) -> None:
    if kind not in (MediaKind.IMAGE, MediaKind.VOICE, MediaKind.VIDEO):
        return
    task = jobs.task("media_assets.tasks.material_file_fetch")

    ids = list(Material.objects.filter(account=account, media_id__in=media_ids, file="").values_list("pk", flat=True))
    transaction.on_commit(lambda: [task.delay(pk) for pk in ids])


def material_pulls_resume_stale() -> int:
    """Beat: enqueue again the pulls whose worker died (lease run out) or whose enqueue was lost (queued > a lease)."""
    now = timezone.now()
    stale = Q(status=MaterialPullJob.Status.RUNNING, lease_until__lt=now) | Q(
        status=MaterialPullJob.Status.QUEUED, created_at__lt=now - LEASE
    )
    ids = list(MaterialPullJob.objects.filter(stale).values_list("pk", flat=True))
    for job_id in ids:
        _enqueue(job_id)
    return len(ids)
