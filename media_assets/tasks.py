"""Tiny tasks of media_assets (the media library, then articles): each takes ids and calls a service."""

from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError
from wechat.retry import JOB, SYNC, is_last_attempt, retry_or_give_up

from .services import comments, drafts, materials, publish, pull, received


@shared_task(name="media_assets.tasks.material_sync", bind=True, max_retries=SYNC.attempts - 1)
def material_sync(self, material_id: int):
    try:
        material = materials.material_sync(material_id=material_id, last_attempt=is_last_attempt(self, policy=SYNC))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return material.media_id if material else None


@shared_task(name="media_assets.tasks.material_file_fetch", bind=True, max_retries=SYNC.attempts - 1)
def material_file_fetch(self, material_id: int):
    try:
        return materials.material_file_fetch(material_id=material_id)
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}


@shared_task(name="media_assets.tasks.material_pull_run", bind=True, max_retries=JOB.attempts - 1)
def material_pull_run(self, job_id: int):
    try:
        job = pull.material_pull_run(job_id=job_id, last_attempt=is_last_attempt(self, policy=JOB))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=JOB)
        return {"errcode": exc.errcode}
    return job.status if job else None


@shared_task(name="media_assets.tasks.received_media_download", bind=True, max_retries=SYNC.attempts - 1)
def received_media_download(self, media_pk: int):
    try:
        media = received.received_media_download(media_pk=media_pk, last_attempt=is_last_attempt(self, policy=SYNC))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return media.sync_status if media else None


@shared_task(name="media_assets.tasks.material_pulls_resume_stale")
def material_pulls_resume_stale():
    return pull.material_pulls_resume_stale()


@shared_task(name="media_assets.tasks.draft_sync")
def draft_sync(draft_id: int) -> bool:
    try:
        return drafts.draft_sync(draft_id=draft_id)
    except WeChatError:
        return False  # recorded on the draft (failed, with WeChat's error); the operator syncs again


@shared_task(name="media_assets.tasks.drafts_pull")
def drafts_pull(account_id: int) -> int:
    return drafts.drafts_pull(account=OfficialAccount.objects.get(pk=account_id))


@shared_task(name="media_assets.tasks.publish_submit")
def publish_submit(job_id: int) -> str | None:
    job = publish.publish_submit(job_id=job_id)
    return job.status if job else None


@shared_task(name="media_assets.tasks.publish_jobs_poll")
def publish_jobs_poll() -> int:
    return publish.publish_jobs_poll_due()


@shared_task(name="media_assets.tasks.comments_pull_recent")
def comments_pull_recent() -> int:
    return comments.comments_pull_recent()
