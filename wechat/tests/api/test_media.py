import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from conftest import sample_json
from sandbox import images
from sandbox.endpoints.media import follower_media_put
from sandbox.models import SandboxCall, SandboxMaterial, SandboxMedia
from wechat.api import media
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.tokens import access_token_get


def calls(endpoint: Endpoint) -> int:
    return SandboxCall.objects.filter(api=endpoint.path).count()


def test_upload_returns_the_samples_shape_and_the_file_comes_back(account):
    sample = sample_json("api/media_upload_response.json")
    content = images.png(label="hi")
    uploaded = media.media_upload(account=account, kind="image", media=media.MediaFile("a.png", content, "image/png"))
    assert set(sample) == {"type", "media_id", "created_at"}
    assert uploaded.kind == "image" and uploaded.media_id
    assert abs(uploaded.created_at - datetime.now(tz=UTC)) < timedelta(minutes=1)
    assert media.media_get(account=account, media_id=uploaded.media_id).content == content


def test_a_thumb_upload_answers_thumb_media_id(account):
    uploaded = media.media_upload(account=account, kind="thumb", media=media.MediaFile("t.jpg", images.jpeg(), "image/jpeg"))
    assert SandboxMedia.objects.get(media_id=uploaded.media_id).type == "thumb"


def test_an_expired_temporary_media_is_40007(account, sandbox_app):
    uploaded = media.media_upload(account=account, kind="image", media=media.MediaFile("a.png", images.png()))
    sandbox_app.clock_offset = int(timedelta(days=3, seconds=1).total_seconds())
    sandbox_app.save(update_fields=["clock_offset"])
    with pytest.raises(WeChatError) as refused:
        media.media_get(account=account, media_id=uploaded.media_id)
    assert refused.value.errcode == 40007


def test_a_video_is_downloaded_as_a_link(account, sandbox_app):
    media_id = follower_media_put(sandbox_app, kind="video", content=images.mp4())
    downloaded = media.media_get(account=account, media_id=media_id)
    assert downloaded.content == b"" and downloaded.video_url.endswith(".mp4")


def test_an_oversize_file_is_refused_before_any_call(account):
    big = images.png() + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(media.MediaRefused) as refused:
        media.media_upload(account=account, kind="image", media=media.MediaFile("big.png", big))
    assert refused.value.errcode == 45001
    with pytest.raises(media.MediaRefused):
        media.material_add(account=account, kind="thumb", media=media.MediaFile("t.jpg", images.jpeg() + b"\x00" * 65536))
    assert calls(Endpoint.MEDIA_UPLOAD) == calls(Endpoint.MATERIAL_ADD) == 0


def test_a_wrong_format_is_refused_before_any_call_with_40004(account):
    with pytest.raises(media.MediaRefused) as refused:
        media.material_add(account=account, kind="voice", media=media.MediaFile("song.wav", b"RIFF...."))
    assert refused.value.errcode == 40004
    assert "MP3" in refused.value.errmsg
    assert calls(Endpoint.MATERIAL_ADD) == 0


def test_wechat_itself_refuses_bytes_that_are_not_the_named_format(account):
    with pytest.raises(WeChatError) as refused:
        media.media_upload(account=account, kind="image", media=media.MediaFile("fake.png", b"not an image"))
    assert refused.value.errcode == 40004 and not isinstance(refused.value, media.MediaRefused)


def test_a_video_material_without_a_title_is_refused_before_any_call(account):
    with pytest.raises(media.MediaRefused) as refused:
        media.material_add(account=account, kind="video", media=media.MediaFile("v.mp4", images.mp4()))
    assert refused.value.errcode == 40035
    assert calls(Endpoint.MATERIAL_ADD) == 0


def test_a_video_material_sends_its_title_and_introduction(account):
    added = media.material_add(
        account=account, kind="video", media=media.MediaFile("v.mp4", images.mp4()), title="开箱", introduction="第一期"
    )
    fetched = media.material_get(account=account, media_id=added.media_id)
    shape = sample_json("api/material_get_material_video_response.json")
    assert set(shape) == {"title", "description", "down_url"}
    assert (fetched.title, fetched.description) == ("开箱", "第一期") and fetched.down_url
    assert added.url == ""


def test_an_image_material_has_a_url_like_the_sample_and_its_bytes_come_back(account):
    content = images.png(color="red")
    added = media.material_add(account=account, kind="image", media=media.MediaFile("r.png", content, "image/png"))
    assert set(sample_json("api/material_add_material_response.json")) == {"media_id", "url"}
    assert added.media_id and added.url.startswith("http")
    assert media.material_get(account=account, media_id=added.media_id) == content


def test_count_and_pages_follow_the_samples(account, received):
    for i in range(3):
        media.material_add(account=account, kind="image", media=media.MediaFile(f"{i}.png", images.png(label=str(i))))
    media.material_add(account=account, kind="voice", media=media.MediaFile("v.mp3", images.mp3()))
    counted = media.material_count(account=account)
    assert set(sample_json("api/material_get_materialcount_response.json")) == {
        "voice_count",
        "video_count",
        "image_count",
        "news_count",
    }
    assert (counted.image, counted.voice, counted.video, counted.news) == (3, 1, 0, 0)
    first = media.material_batchget(account=account, kind="image", offset=0, count=2)
    second = media.material_batchget(account=account, kind="image", offset=2, count=2)
    assert (first.total_count, first.item_count, second.item_count) == (3, 2, 1)
    assert len({i.media_id for i in first.items + second.items}) == 3
    assert all(i.url and i.name and i.update_time for i in first.items)
    sample = sample_json("api/material_batchget_material_request.json")
    assert received(Endpoint.MATERIAL_BATCHGET)[0] == {**sample, "type": "image", "offset": 0, "count": 2}


def test_the_samples_page_parses_news_and_files(account, monkeypatch):
    page = sample_json("api/material_batchget_material_response.json")
    monkeypatch.setattr(media.gateway, "call", lambda *a, **k: page)
    parsed = media.material_batchget(account=account, kind="news", offset=0, count=1)
    news, image = parsed.items
    assert news.news_item[0]["title"] == "TITLE" and image.name == "NAME" and image.url == "URL"
    assert image.update_time == datetime.fromtimestamp(123456, tz=UTC)


def test_a_page_size_over_20_is_refused_before_any_call(account):
    with pytest.raises(ValueError):
        media.material_batchget(account=account, kind="image", offset=0, count=21)
    assert calls(Endpoint.MATERIAL_BATCHGET) == 0


def test_deleting_a_material_twice_is_40007(account):
    added = media.material_add(account=account, kind="image", media=media.MediaFile("a.png", images.png()))
    media.material_delete(account=account, media_id=added.media_id)
    assert not SandboxMaterial.objects.filter(media_id=added.media_id).exists()
    with pytest.raises(WeChatError) as refused:
        media.material_delete(account=account, media_id=added.media_id)
    assert refused.value.errcode == 40007


def test_add_news_is_offline_with_45106_as_in_the_sample(sandbox_app, account):
    token = access_token_get(account=account)
    answer = Client().post(
        f"/sandbox/cgi-bin/material/add_news?access_token={token}", data={"articles": []}, content_type="application/json"
    )
    expected = sample_json("api/errors/45106_api_unsupported_add_news.json")
    assert answer.json()["errcode"] == expected["errcode"] == 45106

    def text(errmsg: str) -> str:
        return re.split(r" (?:hint|rid):", errmsg)[0]

    assert text(answer.json()["errmsg"]) == text(expected["errmsg"])
