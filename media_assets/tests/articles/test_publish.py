"""Publishing: submitted from a task, finished by PUBLISHJOBFINISH pushed to the callback (or by polling)."""

from datetime import timedelta

from django.utils import timezone

from media_assets.models import Draft, PublishedArticle, PublishJob
from media_assets.services import publish as publish_services
from messaging.inbound.models import InboundMessage
from sandbox.models import SandboxPublish
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import drafts as drafts_api
from wechat.api.endpoints import Endpoint

from .factories import saved_draft

S = PublishJob.Status


def published_job(account, cover, capture, *, fault_status=None, sandbox_app=None) -> PublishJob:
    with capture(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    if fault_status is not None:
        SandboxFaultFactory(app=sandbox_app, api="PUBLISHJOBFINISH", kind="errcode", value=fault_status, remaining=1)
    with capture(execute=True):  # the submit task, then (after the sandbox's commit) its PUBLISHJOBFINISH push
        job = publish_services.publish_request(draft=draft)
    job.refresh_from_db()
    return job


def test_success_from_publishjobfinish_records_the_articles_and_their_urls(account, cover, django_capture_on_commit_callbacks):
    job = published_job(account, cover, django_capture_on_commit_callbacks)
    event = InboundMessage.objects.get(event="PUBLISHJOBFINISH")
    assert event.payload["PublishEventInfo"]["publish_id"] == job.publish_id
    assert (job.status, job.result_from, job.fail_idx) == (S.PUBLISHED, "event", [])
    assert job.article_id and job.msg_data_id and job.finished_at
    articles = list(PublishedArticle.objects.filter(job=job).order_by("index"))
    assert [(a.index, a.title) for a in articles] == [(1, "第一篇"), (2, "第二篇")]
    remote = drafts_api.published_get(account=account, article_id=job.article_id)
    assert [a.url for a in articles] == [r.url for r in remote]
    assert all(a.cover_url == cover.url and a.msg_data_id == job.msg_data_id for a in articles)
    assert Draft.objects.get().published_at is not None


def test_an_audit_rejection_names_the_failing_article(account, cover, sandbox_app, django_capture_on_commit_callbacks):
    job = published_job(account, cover, django_capture_on_commit_callbacks, fault_status=4, sandbox_app=sandbox_app)
    assert (job.status, job.fail_idx, job.errcode) == (S.AUDIT_REJECTED, [2], 4)
    assert job.last_error == "audit rejected (审核不通过): article(s) 2"
    assert not PublishedArticle.objects.exists() and Draft.objects.get().published_at is None


def test_an_original_check_failure_is_recorded(account, cover, sandbox_app, django_capture_on_commit_callbacks):
    job = published_job(account, cover, django_capture_on_commit_callbacks, fault_status=2, sandbox_app=sandbox_app)
    assert (job.status, job.fail_idx) == (S.ORIGINAL_FAILED, [2])


def test_a_refused_submit_keeps_wechats_error(account, cover, sandbox_app, django_capture_on_commit_callbacks):
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.FREEPUBLISH_SUBMIT.path, kind="errcode", value=53505, remaining=1)
    job = published_job(account, cover, django_capture_on_commit_callbacks)
    assert (job.status, job.errcode) == (S.REFUSED, 53505)
    assert job.last_error == "53505: 请手动保存成功后再发表 / Save the draft once in the WeChat console, then publish it"


def test_a_job_without_event_is_finished_by_polling(account, cover, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False):  # WeChat's push never arrives
        job = publish_services.publish_request(draft=draft)
        publish_services.publish_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.PUBLISHING
    assert publish_services.publish_jobs_poll_due() == 0  # too early
    # WeChat finished the job on its side (the push was lost).
    sandbox_job = SandboxPublish.objects.get()
    SandboxPublish.objects.filter(pk=sandbox_job.pk).update(status=0, article_id="AID", articles=[
        {**a, "url": f"https://mp.weixin.qq.com/s/x-{i}"} for i, a in enumerate(sandbox_job.articles, 1)
    ])  # fmt: skip
    later = timezone.now() + timedelta(minutes=11)
    assert publish_services.publish_jobs_poll_due(now=later) == 1
    job.refresh_from_db()
    assert (job.status, job.result_from, job.article_id) == (S.PUBLISHED, "poll", "AID")
    assert PublishedArticle.objects.filter(job=job).count() == 2


def test_the_same_event_twice_changes_nothing(account, cover, django_capture_on_commit_callbacks):
    job = published_job(account, cover, django_capture_on_commit_callbacks)
    info = InboundMessage.objects.get(event="PUBLISHJOBFINISH").payload
    again = publish_services.publish_job_finished(account=account, data=info)
    assert again.pk == job.pk and again.finished_at == job.finished_at
    assert PublishedArticle.objects.count() == 2


def test_published_articles_are_pulled_and_deleted(account, cover, django_capture_on_commit_callbacks):
    job = published_job(account, cover, django_capture_on_commit_callbacks)
    PublishedArticle.objects.all().delete()
    assert publish_services.published_pull(account=account) == 2
    second = PublishedArticle.objects.get(article_id=job.article_id, index=2)
    publish_services.published_article_delete(article=second)
    second.refresh_from_db()
    assert second.is_deleted
    assert [a.is_deleted for a in drafts_api.published_get(account=account, article_id=job.article_id)] == [False, True]
