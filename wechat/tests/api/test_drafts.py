"""Article images, drafts and publishing against the sandbox, in the shapes of the draft_* / freepublish_* samples."""

import io

import pytest
from django.test import Client
from PIL import Image

from conftest import sample_json
from sandbox.models import SandboxDraft, SandboxMaterial
from sandbox.tests.factories import SandboxFaultFactory
from wechat import crypto
from wechat.api import drafts
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError


def png_bytes(size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def cover(sandbox_app):
    """A permanent image material on WeChat's side: the only kind of thumb_media_id a draft takes."""
    return SandboxMaterial.objects.create(
        app=sandbox_app, media_id="COVER_MEDIA_ID", type="image", url="http://mmbiz.qpic.cn/cover/0", update_time=1
    ).media_id


def sample_article(cover: str, **changes) -> dict:
    article = dict(sample_json("api/draft_add_request.json")["articles"][0])
    article.update(thumb_media_id=cover, content_source_url="https://example.com/source", **changes)
    article["content"] = changes.get("content", "<p>CONTENT</p>")
    return article


def test_uploadimg_answers_a_url_the_sandbox_serves(account):
    url = drafts.article_image_upload(account=account, image=io.BytesIO(png_bytes()), filename="a.png")
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_uploadimg_refuses_a_file_that_is_not_jpg_or_png(account):
    with pytest.raises(WeChatError) as refused:
        drafts.article_image_upload(account=account, image=io.BytesIO(b"GIF89a..."), filename="a.png")
    assert refused.value.errcode == 40005  # the sandbox reads the bytes, as WeChat does


def test_uploadimg_limits_known_in_advance_make_no_call(account, received):
    for name, content, errcode in (("a.gif", png_bytes(), 40005), ("big.png", png_bytes() + b"\0" * (1 << 20), 40009)):
        with pytest.raises(WeChatError) as refused:
            drafts.article_image_upload(account=account, image=io.BytesIO(content), filename=name)
        assert refused.value.errcode == errcode
    assert received(Endpoint.MEDIA_UPLOADIMG) == []


def test_draft_round_trip_in_the_samples_shapes(account, cover, received):
    first, second = sample_article(cover), sample_article(cover, title="第二篇", content="<p>二</p>")
    media_id = drafts.draft_add(account=account, articles=[first, second])
    assert received(Endpoint.DRAFT_ADD) == [{"articles": [first, second]}]
    assert set(received(Endpoint.DRAFT_ADD)[0]["articles"][0]) == set(sample_json("api/draft_add_request.json")["articles"][0])

    changed = sample_article(cover, title="改过的标题")
    drafts.draft_update(account=account, media_id=media_id, index=1, article=changed)
    sample = sample_json("api/draft_update_request.json")
    assert received(Endpoint.DRAFT_UPDATE) == [{**sample, "media_id": media_id, "index": 1, "articles": changed}]

    remote = drafts.draft_get(account=account, media_id=media_id)
    assert [a.title for a in remote.articles] == ["TITLE", "改过的标题"]
    assert remote.articles[0].thumb_media_id == cover and remote.articles[0].show_cover_pic
    assert remote.articles[0].url.startswith("https://mp.weixin.qq.com/")
    assert [d.media_id for d in drafts.drafts_iter(account=account)] == [media_id]
    assert drafts.draft_count(account=account) == 1

    drafts.draft_delete(account=account, media_id=media_id)
    with pytest.raises(WeChatError) as gone:
        drafts.draft_get(account=account, media_id=media_id)
    assert gone.value.errcode == 40007


def test_the_sandbox_strips_scripts_and_external_images_as_wechat_does(account, cover):
    url = drafts.article_image_upload(account=account, image=io.BytesIO(png_bytes()))
    content = f'<p>a</p><script>alert(1)</script><img src="https://example.com/x.png"><img src="{url}">'
    media_id = drafts.draft_add(account=account, articles=[sample_article(cover, content=content)])
    assert drafts.draft_get(account=account, media_id=media_id).articles[0].content == f'<p>a</p><img src="{url}">'


def test_a_draft_without_a_cover_is_refused_without_a_call(account, received):
    with pytest.raises(WeChatError) as refused:
        drafts.draft_add(account=account, articles=[sample_article("")])
    assert refused.value.errcode == 40007
    assert received(Endpoint.DRAFT_ADD) == []


def test_a_cover_that_is_not_a_permanent_material_is_40007(account):
    with pytest.raises(WeChatError) as refused:
        drafts.draft_add(account=account, articles=[sample_article("TEMPORARY_MEDIA_ID")])
    assert refused.value.errcode == 40007


def test_nine_articles_are_refused_without_a_call(account, cover, received):
    with pytest.raises(WeChatError) as refused:
        drafts.draft_add(account=account, articles=[sample_article(cover)] * 9)
    assert refused.value.errcode == 45008 and received(Endpoint.DRAFT_ADD) == []


def test_publish_pushes_publishjobfinish_and_the_item_is_listed(account, cover, django_capture_on_commit_callbacks):
    media_id = drafts.draft_add(account=account, articles=[sample_article(cover), sample_article(cover, title="B")])
    with django_capture_on_commit_callbacks(execute=True):  # the PUBLISHJOBFINISH push follows the commit
        submitted = drafts.publish_submit(account=account, media_id=media_id)
    assert submitted.publish_id and submitted.msg_data_id

    result = drafts.publish_status(account=account, publish_id=submitted.publish_id)
    assert result.status == drafts.Status.SUCCESS and result.finished
    assert sorted(result.article_urls) == [1, 2] and result.fail_idx == ()
    # The published draft left the box, but its media_id still names the articles (mass sends).
    assert drafts.draft_count(account=account) == 0
    assert SandboxDraft.objects.get(media_id=media_id).state == "published"

    items = list(drafts.published_iter(account=account))
    assert [i.article_id for i in items] == [result.article_id]
    assert [a.url for a in drafts.published_get(account=account, article_id=result.article_id)] == [
        result.article_urls[1],
        result.article_urls[2],
    ]
    drafts.published_delete(account=account, article_id=result.article_id, index=2)
    assert [a.is_deleted for a in drafts.published_get(account=account, article_id=result.article_id)] == [False, True]


def test_publish_of_an_unknown_article_id_is_53600(account):
    with pytest.raises(WeChatError) as refused:
        drafts.published_get(account=account, article_id="nope")
    assert refused.value.errcode == 53600


def test_an_article_without_text_fails_the_publish_check_53503(account, cover):
    media_id = drafts.draft_add(account=account, articles=[sample_article(cover, content="<p> </p>")])
    with pytest.raises(WeChatError) as refused:
        drafts.publish_submit(account=account, media_id=media_id)
    assert refused.value.errcode == 53503
    assert "发布检查" in refused.value.meaning_zh


def test_53505_asks_for_a_manual_save_first(account, cover, fault):
    media_id = drafts.draft_add(account=account, articles=[sample_article(cover)])
    fault(Endpoint.FREEPUBLISH_SUBMIT, 53505)
    with pytest.raises(WeChatError) as refused:
        drafts.publish_submit(account=account, media_id=media_id)
    assert refused.value.errcode == 53505


def test_an_audit_rejection_names_the_failing_article(account, cover, sandbox_app, django_capture_on_commit_callbacks):
    media_id = drafts.draft_add(account=account, articles=[sample_article(cover), sample_article(cover, title="B")])
    SandboxFaultFactory(app=sandbox_app, api="PUBLISHJOBFINISH", kind="errcode", value=4, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = drafts.publish_submit(account=account, media_id=media_id)
    result = drafts.publish_status(account=account, publish_id=submitted.publish_id)
    assert (result.status, result.fail_idx, result.article_id) == (drafts.Status.AUDIT_FAIL, (2,), "")
    assert drafts.draft_count(account=account) == 1  # still in the box, to fix and publish again


def test_the_freepublish_get_sample_parses():
    result = drafts.publish_result_parse(sample_json("api/freepublish_get_response.json"))
    assert result == drafts.PublishResult(
        publish_id="100000001", status=0, article_id="ARTICLE_ID", article_urls={1: "ARTICLE_URL"}, fail_idx=()
    )


def test_the_event_xml_with_repeated_fail_idx_parses():
    xml = (
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]>"
        "</FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>2247503051</publish_id>"
        "<publish_status>2</publish_status><fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo></xml>"
    )
    info = crypto.parse_xml(xml, max_bytes=1 << 16)["PublishEventInfo"]
    result = drafts.publish_result_parse(info)
    assert (result.publish_id, result.status, result.fail_idx) == ("2247503051", 2, (1, 2))
