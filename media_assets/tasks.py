"""Celery tasks of articles: each takes ids and calls a service."""

from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError

from .services import comments, drafts, publish


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
