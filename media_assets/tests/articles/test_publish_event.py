"""PUBLISHJOBFINISH as WeChat writes it (API.md §2: PublishEventInfo, repeated fail_idx), posted to the callback."""

import pytest
from django.utils import timezone

from media_assets.models import Draft, PublishedArticle, PublishJob
from media_assets.tests.factories import PublishJobFactory
from messaging.inbound.tests.callback_client import post_callback

from .factories import saved_draft

S = PublishJob.Status


def event_xml(info: str, *, event: str = "PUBLISHJOBFINISH") -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]>"
        f"</FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]>"
        f"</Event><PublishEventInfo>{info}</PublishEventInfo></xml>"
    )


@pytest.fixture
def job(account, cover, django_capture_on_commit_callbacks):
    """A job WeChat accepted (publish_id 2247503051) whose result has not come yet."""
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    return PublishJobFactory(
        account=account,
        draft=draft,
        media_id=draft.media_id,
        status=S.PUBLISHING,
        publish_id="2247503051",
        msg_data_id="2247503052",
        submitted_at=timezone.now(),
    )


def test_success_records_the_article_id_and_each_url(client, account, job, django_capture_on_commit_callbacks):
    info = (
        "<publish_id>2247503051</publish_id><publish_status>0</publish_status>"
        "<article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4]]></article_id>"
        "<article_detail><count>2</count>"
        "<item><idx>1</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/one]]></article_url></item>"
        "<item><idx>2</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/two]]></article_url></item>"
        "</article_detail>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_callback(client, account, event_xml(info)).status_code == 200
    job.refresh_from_db()
    assert (job.status, job.article_id, job.result_from) == (S.PUBLISHED, "b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4", "event")
    assert list(PublishedArticle.objects.order_by("index").values_list("index", "url", "msg_data_id")) == [
        (1, "https://mp.weixin.qq.com/s/one", "2247503052"),
        (2, "https://mp.weixin.qq.com/s/two", "2247503052"),
    ]
    assert Draft.objects.get().published_at is not None


@pytest.mark.parametrize(
    ("status", "fails", "expected"),
    [("2", "<fail_idx>1</fail_idx><fail_idx>2</fail_idx>", S.ORIGINAL_FAILED), ("4", "<fail_idx>2</fail_idx>", S.AUDIT_REJECTED)],
)
def test_failures_keep_the_failing_article_indexes(
    client, account, job, status, fails, expected, django_capture_on_commit_callbacks
):
    info = f"<publish_id>2247503051</publish_id><publish_status>{status}</publish_status>{fails}"
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, event_xml(info, event="FREEPUBLISHJOBFINISH"))
    job.refresh_from_db()
    assert job.status == expected and job.fail_idx == [int(i) for i in fails.replace("</fail_idx>", "").split("<fail_idx>")[1:]]
    assert not PublishedArticle.objects.exists() and Draft.objects.get().published_at is None


def test_articles_banned_after_success_are_marked_deleted(client, account, job, django_capture_on_commit_callbacks):
    ok = (
        "<publish_id>2247503051</publish_id><publish_status>0</publish_status><article_id><![CDATA[AID]]></article_id>"
        "<article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/one]]>"
        "</article_url></item></article_detail>"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, event_xml(ok))
    # The callback log keeps one row per publish_id, so the later state is applied through the service directly.
    from media_assets.services import publish as publish_services

    info = {"PublishEventInfo": {"publish_id": "2247503051", "publish_status": "6", "article_id": "AID"}}
    publish_services.publish_job_finished(account=account, data=info)
    job.refresh_from_db()
    assert job.status == S.BANNED
    assert set(PublishedArticle.objects.values_list("is_deleted", flat=True)) == {True}
