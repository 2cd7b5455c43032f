"""Publishing (发布): freepublish/submit from a task, results from PUBLISHJOBFINISH or freepublish/get, published articles.

A job is claimed with a conditional update (queued → submitting) so it is submitted once. WeChat's answer is only
an acceptance (publish_id); the outcome arrives as PUBLISHJOBFINISH (``publish_job_finished``), and a beat task
polls freepublish/get for jobs that heard nothing after ``PUBLISH_JOB_POLL_AFTER_MINUTES``.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import jobs
from wechat.api import drafts as drafts_api
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from ..models import Draft, PublishedArticle, PublishJob

logger = logging.getLogger(__name__)

POLL_AFTER = timedelta(minutes=settings.PUBLISH_JOB_POLL_AFTER_MINUTES)


class PublishJobUnknown(LookupError):
    """A PUBLISHJOBFINISH for a publish_id no job holds yet while a submit is in flight: the effect is retried."""


def publish_request(*, draft: Draft, actor=None) -> PublishJob:
    """Queue the publishing of a synced draft; the submit runs in a task after the commit."""
    if not draft.media_id or draft.sync_status != SyncStatus.SYNCED:
        raise ValidationError(_("Save the draft to WeChat first (it must be synced before it can be published)."))
    if draft.published_at is not None:
        raise ValidationError(_("This draft is published already."))
    if PublishJob.objects.filter(draft=draft, status__in=PublishJob.WAITING).exists():
        raise ValidationError(_("This draft is being published already."))
    with transaction.atomic():
        job = PublishJob.objects.create(account=draft.account, draft=draft, media_id=draft.media_id, created_by=actor)
        publish_submit = jobs.task("media_assets.tasks.publish_submit")

        job_id = job.pk
        transaction.on_commit(lambda: publish_submit.delay(job_id))
    return job


def publish_submit(*, job_id: int) -> PublishJob | None:
    """Submit a queued job once; a refusal (53503, 53505, 40007…) ends it with WeChat's error."""
    if not PublishJob.objects.filter(pk=job_id, status=PublishJob.Status.QUEUED).update(
        status=PublishJob.Status.SUBMITTING, submitted_at=timezone.now()
    ):
        return None
    job = PublishJob.objects.select_related("account").get(pk=job_id)
    try:
        # The call and the publish_id land in one transaction that locks nothing during the call (the claim above
        # is committed): an event that follows its commit (the in-process sandbox's) finds the publish_id stored.
        with transaction.atomic():
            submitted = drafts_api.publish_submit(account=job.account, media_id=job.media_id)
            PublishJob.objects.filter(pk=job.pk).update(
                status=PublishJob.Status.PUBLISHING, publish_id=submitted.publish_id, msg_data_id=submitted.msg_data_id
            )
    except WeChatError as exc:
        PublishJob.objects.filter(pk=job.pk).update(
            status=PublishJob.Status.REFUSED, errcode=exc.errcode, last_error=exc.display[:255], finished_at=timezone.now()
        )
        logger.warning("publish.refused", extra={"job_id": job.pk, "errcode": exc.errcode})
        job.refresh_from_db()
        return job
    logger.info("publish.submitted", extra={"job_id": job.pk, "publish_id": submitted.publish_id})
    job.refresh_from_db()
    return job


def publish_result_apply(*, job: PublishJob, result: drafts_api.PublishResult, source: str) -> PublishJob:
    """Record a publish outcome on the job; success creates the published articles and takes the draft out of the box."""
    status = PublishJob.FROM_WECHAT.get(result.status, PublishJob.Status.FAILED)
    if status == PublishJob.Status.PUBLISHING:
        return job
    now = timezone.now()
    with transaction.atomic():
        job = PublishJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in PublishJob.WAITING and job.status == status:
            return job  # the same outcome again (event after poll, or a retried event)
        job.status = status
        job.article_id = result.article_id or job.article_id
        job.fail_idx = list(result.fail_idx)
        job.result_from = source
        job.finished_at = job.finished_at or now
        job.errcode = None if status == PublishJob.Status.PUBLISHED else result.status
        job.last_error = "" if status == PublishJob.Status.PUBLISHED else _publish_failure_text(status, result.fail_idx)
        job.save()
        if status == PublishJob.Status.PUBLISHED:
            _published_articles_create(job=job, result=result, now=now)
            if job.draft_id:
                Draft.objects.filter(pk=job.draft_id).update(published_at=now)
        elif status in (PublishJob.Status.DELETED, PublishJob.Status.BANNED):
            # After a success: every article was deleted in the console, or banned.
            PublishedArticle.objects.filter(job=job).update(is_deleted=True, synced_at=now)
    logger.info("publish.finished", extra={"job_id": job.pk, "status": status, "source": source})
    return job


def _publish_failure_text(status: str, fail_idx) -> str:
    label = PublishJob.Status(status).label
    if fail_idx:
        return _("%(status)s: article(s) %(idx)s") % {"status": label, "idx": ", ".join(str(i) for i in fail_idx)}
    return str(label)


def _published_articles_create(*, job: PublishJob, result: drafts_api.PublishResult, now) -> None:
    articles = list(job.draft.articles.select_related("cover").order_by("position", "id")) if job.draft_id else []
    for index, article in enumerate(articles, start=1):
        PublishedArticle.objects.update_or_create(
            account=job.account,
            article_id=job.article_id,
            index=index,
            defaults={
                "job": job,
                "msg_data_id": job.msg_data_id,
                "draft_media_id": job.media_id,
                "title": article.title,
                "author": article.author,
                "digest": article.digest or _digest(article.content),
                "url": result.article_urls.get(index, ""),
                "thumb_media_id": article.thumb_media_id,
                "cover_url": article.cover.url if article.cover else "",
                "comments_open": article.need_open_comment,
                "only_fans_can_comment": article.only_fans_can_comment,
                "published_at": now,
                "sync_status": SyncStatus.SYNCED,
                "synced_at": now,
            },
        )


def _digest(content: str) -> str:
    """WeChat's default digest: the first 54 characters of the text."""
    return re.sub(r"<[^>]+>", "", content or "").strip()[:54]


def publish_job_finished(*, account, data: dict) -> PublishJob | None:
    """PUBLISHJOBFINISH: apply the PublishEventInfo to the job with that publish_id."""
    info = data.get("PublishEventInfo") or {}
    result = drafts_api.publish_result_parse(info if isinstance(info, dict) else {})
    if not result.publish_id:
        return None
    job = PublishJob.objects.filter(account=account, publish_id=result.publish_id).first()
    if job is None:
        if PublishJob.objects.filter(account=account, status=PublishJob.Status.SUBMITTING).exists():
            raise PublishJobUnknown(f"no publish job with publish_id {result.publish_id} yet")
        logger.info("publish.event_unknown", extra={"appid": account.appid, "publish_id": result.publish_id})
        return None
    return publish_result_apply(job=job, result=result, source="event")


def publish_job_poll(*, job_id: int) -> PublishJob:
    """freepublish/get for one job that is still publishing."""
    job = PublishJob.objects.select_related("account").get(pk=job_id)
    if job.status != PublishJob.Status.PUBLISHING or not job.publish_id:
        return job
    try:
        result = drafts_api.publish_status(account=job.account, publish_id=job.publish_id)
    except WeChatError as exc:
        PublishJob.objects.filter(pk=job.pk).update(last_error=exc.display[:255])
        raise
    return publish_result_apply(job=job, result=result, source="poll")


def publish_jobs_poll_due(*, now=None) -> int:
    """Beat: poll the jobs that heard no PUBLISHJOBFINISH within POLL_AFTER. Returns how many were polled."""
    now = now or timezone.now()
    due = list(
        PublishJob.objects.filter(status=PublishJob.Status.PUBLISHING, submitted_at__lte=now - POLL_AFTER)
        .exclude(publish_id="")
        .values_list("pk", flat=True)[:200]
    )
    for job_id in due:
        try:
            publish_job_poll(job_id=job_id)
        except WeChatError:
            continue  # recorded on the job; the next beat tries again
    return len(due)


def published_article_delete(*, article: PublishedArticle) -> None:
    """freepublish/delete of one article (index from 1). Irreversible on WeChat."""
    try:
        drafts_api.published_delete(account=article.account, article_id=article.article_id, index=article.index)
    except WeChatError as exc:
        if exc.errcode != 53600:
            PublishedArticle.objects.filter(pk=article.pk).update(sync_status=SyncStatus.FAILED, last_error=exc.display[:255])
            raise
    PublishedArticle.objects.filter(pk=article.pk).update(is_deleted=True, synced_at=timezone.now(), last_error="")


def published_pull(*, account) -> int:
    """Upsert every published item (freepublish/batchget) as published articles. Returns how many articles."""
    count = 0
    now = timezone.now()
    for item in drafts_api.published_iter(account=account):
        for index, remote in enumerate(item.articles, start=1):
            PublishedArticle.objects.update_or_create(
                account=account,
                article_id=item.article_id,
                index=index,
                defaults={
                    "title": remote.title[:64],
                    "author": remote.author[:16],
                    "digest": remote.digest[:255],
                    "url": remote.url[:1024],
                    "thumb_media_id": remote.thumb_media_id,
                    "cover_url": remote.thumb_url[:1024],
                    "comments_open": remote.need_open_comment,
                    "only_fans_can_comment": remote.only_fans_can_comment,
                    "is_deleted": remote.is_deleted,
                    "sync_status": SyncStatus.SYNCED,
                    "synced_at": now,
                    "last_error": "",
                },
            )
            count += 1
    return count
