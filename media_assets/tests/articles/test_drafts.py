"""Drafts through the services: checked before anything is saved, sanitized, synced to the sandbox and pulled back."""

import pytest
from django.core.exceptions import ValidationError

from media_assets import html
from media_assets.models import Article, ArticleImage, Draft
from media_assets.services import drafts as draft_services
from sandbox.models import SandboxCall, SandboxDraft
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api import drafts as drafts_api
from wechat.api.endpoints import Endpoint
from wechat.models import SyncStatus

from .factories import article_input, png_bytes, saved_draft


def calls(endpoint: Endpoint) -> list:
    return list(SandboxCall.objects.filter(api=endpoint.path).order_by("id").values_list("request_json", flat=True))


def test_sanitizer_strips_scripts_frames_and_event_attributes():
    dirty = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p><iframe src="https://evil.example"></iframe>'
        '<a href="javascript:alert(1)">x</a><img src="https://mmbiz.qpic.cn/a/0" onerror="steal()">'
    )
    clean = html.sanitize(dirty)
    assert "script" not in clean and "iframe" not in clean and "onclick" not in clean and "onerror" not in clean
    assert "javascript" not in clean
    assert clean == '<p>Hi</p><a rel="noopener noreferrer">x</a><img src="https://mmbiz.qpic.cn/a/0">'
    assert html.forbidden_markup(dirty) == ["onclick=", "<script>", "<iframe>", 'href="javascript:…"', "onerror="]


def test_draft_round_trip(account, cover, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    assert draft.sync_status == SyncStatus.SYNCED and draft.media_id and draft.last_error == ""
    remote = drafts_api.draft_get(account=account, media_id=draft.media_id)
    assert [a.title for a in remote.articles] == ["第一篇", "第二篇"]
    assert {a.thumb_media_id for a in remote.articles} == {cover.media_id}
    assert [a.url for a in draft.articles.order_by("position")] == [a.url for a in remote.articles]

    # An edit with the same number of articles is one draft/update per article, on the same media_id.
    with django_capture_on_commit_callbacks(execute=True):
        draft_services.draft_save(
            account=account, draft=draft, articles=[article_input(cover, title="改"), article_input(cover, title="第二篇")]
        )
    assert [b["index"] for b in calls(Endpoint.DRAFT_UPDATE)] == [0, 1]
    assert drafts_api.draft_get(account=account, media_id=draft.media_id).articles[0].title == "改"

    # A third article needs a new draft: added, and the old one deleted.
    old = draft.media_id
    with django_capture_on_commit_callbacks(execute=True):
        draft_services.draft_save(account=account, draft=draft, articles=[article_input(cover, title=t) for t in "ABC"])
    draft.refresh_from_db()
    assert draft.media_id != old and calls(Endpoint.DRAFT_DELETE) == [{"media_id": old}]

    # Pulled back: the same draft, articles as WeChat holds them, the cover matched to the library.
    Article.objects.filter(draft=draft).delete()
    assert draft_services.drafts_pull(account=account) == 1
    pulled = Draft.objects.get()
    assert pulled.pk == draft.pk
    assert [(a.title, a.cover_id) for a in pulled.articles.order_by("position")] == [(t, cover.pk) for t in "ABC"]

    draft_services.draft_delete(draft=pulled)
    assert not Draft.objects.exists() and not SandboxDraft.objects.exists()


def test_a_draft_without_cover_is_refused_and_nothing_is_saved_or_sent(account, cover):
    with pytest.raises(ValidationError) as refused:
        draft_services.draft_save(account=account, articles=[article_input(cover), article_input(None, title="无封面")])
    assert any("Article 2" in m and "cover" in m for m in refused.value.messages)
    assert not Draft.objects.exists() and calls(Endpoint.DRAFT_ADD) == []


def test_script_markup_is_refused_with_a_message_naming_it(account, cover):
    content = '<p onmouseover="x()">hi</p><script>alert(1)</script><iframe src="https://a.example"></iframe>'
    with pytest.raises(ValidationError) as refused:
        draft_services.draft_save(account=account, articles=[article_input(cover, content=content)])
    (message,) = refused.value.messages
    assert "<script>" in message and "<iframe>" in message and "onmouseover=" in message
    assert not Draft.objects.exists()


def test_an_external_image_is_refused_before_any_call(account, cover):
    with pytest.raises(ValidationError) as refused:
        draft_services.draft_save(
            account=account, articles=[article_input(cover, content='<p>x</p><img src="https://example.com/a.png">')]
        )
    assert "WeChat strips external images" in refused.value.messages[0]
    assert calls(Endpoint.MEDIA_UPLOADIMG) == []


def test_local_article_images_are_uploaded_and_replaced_at_save(account, cover, django_capture_on_commit_callbacks):
    image = draft_services.article_image_add(account=account, content=png_bytes(), name="inside.png")
    local = image.file.url
    with django_capture_on_commit_callbacks(execute=True):
        draft = draft_services.draft_save(
            account=account, articles=[article_input(cover, content=f'<p>图</p><img src="{local}">')]
        )
    image.refresh_from_db()
    assert image.url and image.url != local
    article = Draft.objects.get(pk=draft.pk).articles.get()
    assert article.content == f'<p>图</p><img src="{image.url}">'
    remote = drafts_api.draft_get(account=account, media_id=Draft.objects.get(pk=draft.pk).media_id)
    assert remote.articles[0].content == f'<p>图</p><img src="{image.url}">'
    # Saved again: the image is not uploaded twice.
    with django_capture_on_commit_callbacks(execute=True):
        draft_services.draft_save(account=account, draft=draft, articles=[article_input(cover, content=f'<img src="{local}">')])
    assert len(calls(Endpoint.MEDIA_UPLOADIMG)) == 1 and ArticleImage.objects.count() == 1


def test_a_wechat_refusal_is_kept_on_the_draft_with_its_meaning(account, cover, sandbox_app, django_capture_on_commit_callbacks):

    SandboxFaultFactory(app=sandbox_app, api=Endpoint.DRAFT_ADD.path, kind="errcode", value=45002, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    assert draft.sync_status == SyncStatus.FAILED and draft.media_id == ""
    assert draft.last_error == "45002: 消息内容超过限制 / Content too long"


def test_a_draft_deleted_on_wechat_is_saved_again_as_a_new_one(account, cover, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    draft.refresh_from_db()
    drafts_api.draft_delete(account=account, media_id=draft.media_id)
    gone = draft.media_id
    with django_capture_on_commit_callbacks(execute=True):
        draft_services.draft_save(account=account, draft=draft, articles=[article_input(cover, title="重新保存")])
    draft.refresh_from_db()
    assert draft.sync_status == SyncStatus.SYNCED and draft.media_id not in ("", gone)
    assert drafts_api.draft_get(account=account, media_id=draft.media_id).articles[0].title == "重新保存"


def test_a_published_draft_is_not_edited(account, cover, django_capture_on_commit_callbacks):
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    Draft.objects.filter(pk=draft.pk).update(published_at=timezone.now())
    draft.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        draft_services.draft_save(account=account, draft=draft, articles=[article_input(cover, title="改")])
    assert "published" in refused.value.messages[0]
    assert [a.title for a in draft.articles.order_by("position")] == ["第一篇", "第二篇"]


def test_a_pull_keeps_an_edit_not_yet_sent(account, cover, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover)
    with django_capture_on_commit_callbacks(execute=False):  # the sync has not run yet
        draft_services.draft_save(account=account, draft=draft, articles=[article_input(cover, title="本地修改")])
    assert draft_services.drafts_pull(account=account) == 1
    assert [a.title for a in Draft.objects.get().articles.all()] == ["本地修改"]
