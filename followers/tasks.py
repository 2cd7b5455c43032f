from celery import shared_task

from accounts.models import OfficialAccount
from wechat.errors import WeChatError
from wechat.retry import JOB, SYNC, is_last_attempt, retry_or_give_up

from .models import Tag
from .services import operations, stats, sync, tags

# Each task keeps the name it was registered under in accounts.tasks: beat rows and queued messages carry it.

# Follower sync: full sync jobs, the nightly schedule, single follower refreshes.


@shared_task(name="accounts.tasks.follower_sync_run", bind=True, max_retries=JOB.attempts - 1)
def follower_sync_run(self, job_id: int):
    """Run a queued sync job; a job failed by a transient error is resumed from its cursor later."""
    job = sync.follower_sync_run(job_id=job_id)
    if job is None:
        return None
    if sync.job_failed_transiently(job) and not is_last_attempt(self, policy=JOB):
        try:
            sync.follower_sync_start(account=job.account, enqueue=False)
        except sync.SyncAlreadyRunning:
            return job.status
        retry_or_give_up(self, None, policy=JOB)
    return job.status


@shared_task(name="accounts.tasks.follower_sync_all")
def follower_sync_all(account_id: int):
    try:
        return sync.follower_sync_all(account=OfficialAccount.objects.get(pk=account_id)).status
    except sync.SyncAlreadyRunning:
        return "already_running"


@shared_task(name="accounts.tasks.followers_sync_nightly")
def followers_sync_nightly():
    """Beat: queue a full follower sync of every account (one task per account)."""
    return sync.followers_sync_every_account()


@shared_task(name="accounts.tasks.follower_info_fetch", bind=True, max_retries=SYNC.attempts - 1)
def follower_info_fetch(self, account_id: int, openid: str):
    try:
        follower = sync.follower_info_refresh(account=OfficialAccount.objects.get(pk=account_id), openid=openid)
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return follower.pk if follower else None


# Tags, blacklist and follower changes (tags, blacklist, remarks).


# Transient WeChat errors (busy, timeouts) are retried with backoff; the last try records the failure on the row.


@shared_task(name="accounts.tasks.tag_sync", bind=True, max_retries=SYNC.attempts - 1)
def tag_sync(self, tag_id: int):
    try:
        tag = tags.tag_sync(tag_id=tag_id, last_attempt=is_last_attempt(self, policy=SYNC))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return tag.wechat_id if tag else None


@shared_task(name="accounts.tasks.follower_operation_run", bind=True, max_retries=SYNC.attempts - 1)
def follower_operation_run(self, operation_id: int):
    try:
        operation = operations.follower_operation_run(operation_id=operation_id, last_attempt=is_last_attempt(self, policy=SYNC))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}
    return operation.sync_status if operation else None


@shared_task(name="accounts.tasks.tags_pull_all")
def tags_pull_all(account_id: int):
    result = tags.tags_pull_all(account=OfficialAccount.objects.get(pk=account_id))
    return {"created": result.created, "updated": result.updated, "deleted": result.deleted}


@shared_task(name="accounts.tasks.blacklist_pull")
def blacklist_pull(account_id: int):
    return operations.blacklist_pull(account=OfficialAccount.objects.get(pk=account_id))


@shared_task(name="accounts.tasks.tag_members_pull")
def tag_members_pull(tag_id: int):
    tag = Tag.objects.select_related("account").filter(pk=tag_id, wechat_id__isnull=False).first()
    return tags.tag_members_pull(tag=tag) if tag else None


@shared_task(name="accounts.tasks.blacklists_pull_nightly")
def blacklists_pull_nightly():
    """The blacklist can change in the WeChat console and no follower sync reports it: pull it once a day."""
    for account_id in OfficialAccount.objects.values_list("pk", flat=True):
        blacklist_pull.delay(account_id)


# Follower statistics from WeChat's data cube.


@shared_task(name="followers.tasks.follower_stats_pull", bind=True, max_retries=SYNC.attempts - 1)
def follower_stats_pull(self, account_id: int):
    try:
        return stats.follower_stats_pull(account=OfficialAccount.objects.get(pk=account_id))
    except WeChatError as exc:
        retry_or_give_up(self, exc, policy=SYNC)
        return {"errcode": exc.errcode}


@shared_task(name="followers.tasks.follower_stats_pull_nightly")
def follower_stats_pull_nightly():
    """Beat: pull the last days of follower figures of every account WeChat gives statistics to."""
    ids = list(stats.accounts_with_datacube().values_list("pk", flat=True))
    for account_id in ids:
        follower_stats_pull.delay(account_id)
    return len(ids)
