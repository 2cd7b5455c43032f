"""The drafts admin: two articles with a cover saved and synced, bad input refused on the form, preview, scoping."""

import pytest
from django.contrib.auth.models import Permission, User

from media_assets.models import ArticleComment, Draft, PublishedArticle, PublishJob
from media_assets.services import comments as comment_services
from media_assets.services import publish as publish_services
from sandbox.endpoints.comments import comment_write
from sandbox.models import SandboxCall
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

from .factories import saved_draft

ADD_URL = "/en/admin/media_assets/draft/add/"


def form_data(account, articles):
    data = {
        "account": str(account.pk),
        "articles-TOTAL_FORMS": str(len(articles)),
        "articles-INITIAL_FORMS": "0",
        "articles-MIN_NUM_FORMS": "0",
        "articles-MAX_NUM_FORMS": "8",
    }
    for i, article in enumerate(articles):
        row = {"position": str(i), "title": f"文章{i + 1}", "author": "", "digest": "", "cover": "", "content": "<p>正文</p>"}
        row.update(content_source_url="", **article)
        data.update({f"articles-{i}-{k}": v for k, v in row.items()})
    return data


def test_a_two_article_draft_is_saved_and_synced(admin_client, account, cover, django_capture_on_commit_callbacks):
    articles = [{"cover": str(cover.pk), "show_cover": "on"}, {"cover": str(cover.pk), "need_open_comment": "on"}]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD_URL, form_data(account, articles))
    assert response.status_code == 302, response.content.decode()[:3000]
    draft = Draft.objects.get()
    assert draft.sync_status == SyncStatus.SYNCED and draft.media_id
    assert [(a.title, a.show_cover, a.need_open_comment) for a in draft.articles.order_by("position")] == [
        ("文章1", True, False),
        ("文章2", False, True),
    ]
    page = admin_client.get(f"/en/admin/media_assets/draft/{draft.pk}/preview/").content.decode()
    assert "width: 390px" in page and "文章1" in page and "文章2" in page and cover.file.url in page


@pytest.mark.parametrize(
    ("article", "message"),
    [
        ({"cover": ""}, "Choose a cover"),
        (
            {"content": '<p onclick="x()">hi</p><script>alert(1)</script>'},
            "markup WeChat does not allow: onclick=, &lt;script&gt;",
        ),
        ({"content": '<iframe src="https://a.example"></iframe><p>x</p>'}, "&lt;iframe&gt;"),
    ],
)
def test_bad_input_is_refused_on_the_form_and_nothing_is_saved(admin_client, account, cover, article, message):
    articles = [{"cover": str(cover.pk)}, {"cover": str(cover.pk), **article}]
    calls_before = SandboxCall.objects.count()
    response = admin_client.post(ADD_URL, form_data(account, articles))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Draft.objects.exists()
    assert SandboxCall.objects.count() == calls_before  # no call to WeChat at all


def test_an_operator_sees_only_their_accounts_drafts(client, account, make_account, cover, django_capture_on_commit_callbacks):
    other = make_account(appid="wx00000000000000bb")
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="media_assets"))
    other.operators.add(user)
    client.force_login(user)
    assert client.get(f"/en/admin/media_assets/draft/{draft.pk}/change/").status_code == 302  # not found: back to the list
    assert client.get(f"/en/admin/media_assets/draft/{draft.pk}/preview/").status_code == 404
    assert "第一篇" not in client.get("/en/admin/media_assets/draft/").content.decode()


def test_publish_action_and_a_refusal_shown_with_its_meaning(
    admin_client, account, cover, sandbox_app, django_capture_on_commit_callbacks
):

    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.FREEPUBLISH_SUBMIT.path, kind="errcode", value=53503, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/en/admin/media_assets/draft/", {"action": "publish_selected", "_selected_action": [str(draft.pk)]})
    job = PublishJob.objects.get()
    assert job.status == PublishJob.Status.REFUSED
    listing = admin_client.get("/en/admin/media_assets/publishjob/").content.decode()
    assert "53503: 该草稿未通过发布检查 / The draft failed WeChat&#x27;s publish check" in listing


def test_comment_reply_from_the_inbox(admin_client, account, cover, sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover, need_open_comment=True)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        publish_services.publish_request(draft=draft)
    article = PublishedArticle.objects.get(index=1)
    comment_write(sandbox_app, article_id=article.article_id, index=0, openid="oA", content="想要")
    admin_client.post(
        "/en/admin/media_assets/publishedarticle/", {"action": "pull_comments", "_selected_action": [str(article.pk)]}
    )
    comment = ArticleComment.objects.get()
    assert "想要" in admin_client.get("/en/admin/media_assets/articlecomment/?is_new__exact=1").content.decode()
    response = admin_client.post(f"/en/admin/media_assets/articlecomment/{comment.pk}/change/", {"new_reply": "已上架"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.reply, comment.is_new) == ("已上架", False)


def test_a_follower_comments_from_the_simulator_and_it_reaches_the_inbox(
    admin_client, account, cover, sandbox_app, django_capture_on_commit_callbacks
):
    url = f"/sandbox/simulator/?appid={account.appid}&openid=oReader00000000000000000001"
    admin_client.post(url, {"action": "comment", "content": "沙发"})
    from sandbox.models import SandboxComment

    assert not SandboxComment.objects.exists()  # nothing published yet
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover, need_open_comment=True)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        publish_services.publish_request(draft=draft)
    page = admin_client.post(url, {"action": "comment", "content": "沙发"}, follow=True).content.decode()
    assert "已在《第一篇》留言。" in page  # the simulator speaks zh-hans
    comment_services.comments_pull_recent()
    assert ArticleComment.objects.get().openid == "oReader00000000000000000001"


def test_a_published_article_page_lists_its_comments(
    admin_client, account, cover, sandbox_app, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover, need_open_comment=True)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        publish_services.publish_request(draft=draft)
    article = PublishedArticle.objects.get(index=1)
    comment_write(sandbox_app, article_id=article.article_id, index=0, openid="oA", content="第一条留言")
    comment_services.comments_pull(article=article)
    page = admin_client.get(f"/en/admin/media_assets/publishedarticle/{article.pk}/change/").content.decode()
    assert "第一条留言" in page
    assert "第一篇" in admin_client.get("/en/admin/media_assets/draft/").content.decode()


def test_editing_a_saved_draft_updates_it_on_wechat(admin_client, account, cover, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    first, second = draft.articles.order_by("position")
    data = form_data(account, [{"cover": str(cover.pk), "title": "改过的标题"}, {"cover": str(cover.pk), "title": "第二篇"}])
    data.update({"articles-INITIAL_FORMS": "2", "articles-0-id": str(first.pk), "articles-1-id": str(second.pk)})
    data.update({"articles-0-draft": str(draft.pk), "articles-1-draft": str(draft.pk)})
    data.update({f"publish_jobs-{k}": v for k, v in {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MAX_NUM_FORMS": "1000"}.items()})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/en/admin/media_assets/draft/{draft.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.sync_status == SyncStatus.SYNCED
    assert [
        b["index"] for b in SandboxCall.objects.filter(api=Endpoint.DRAFT_UPDATE.path).values_list("request_json", flat=True)
    ] == [0, 1]
    from wechat.api import drafts as drafts_api

    assert drafts_api.draft_get(account=account, media_id=draft.media_id).articles[0].title == "改过的标题"
