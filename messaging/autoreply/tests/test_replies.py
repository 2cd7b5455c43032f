"""A rule's reply contents become wechat.outgoing values; the passive reply bytes are WeChat's samples."""

import pytest

from conftest import sample_text
from messaging.autoreply.models import AutoReplyContent
from messaging.autoreply.replies import content_message
from wechat.outgoing import reply_xml


@pytest.mark.parametrize(
    ("fields", "sample"),
    [
        ({"reply_type": "text", "text": "你好"}, "reply_text.xml"),
        ({"reply_type": "image", "media_id": "media_id"}, "reply_image.xml"),
        ({"reply_type": "voice", "media_id": "media_id"}, "reply_voice.xml"),
        ({"reply_type": "video", "media_id": "media_id", "title": "title", "description": "description"}, "reply_video.xml"),
        (
            {
                "reply_type": "music",
                "title": "TITLE",
                "description": "DESCRIPTION",
                "music_url": "MUSIC_Url",
                "hq_music_url": "HQ_MUSIC_Url",
                "thumb_media_id": "media_id",
            },
            "reply_music.xml",
        ),
        (
            {
                "reply_type": "news",
                "articles": [{"title": "title1", "description": "description1", "url": "url", "picurl": "picurl"}],
            },
            "reply_news_1_article.xml",
        ),
    ],
)
def test_a_reply_content_renders_as_the_sample(fields, sample):
    xml = reply_xml(content_message(AutoReplyContent(**fields)), to_user="toUser", from_user="fromUser", create_time=12345678)
    assert xml == sample_text(f"replies/{sample}").strip()


def test_a_transfer_to_an_agent_renders_as_the_sample():
    content = AutoReplyContent(reply_type="transfer_customer_service", kf_account="test1@test")
    xml = reply_xml(content_message(content), to_user="touser", from_user="fromuser", create_time=1399197672)
    assert xml == sample_text("replies/reply_transfer_customer_service.xml").strip()


def test_music_without_a_high_quality_url_falls_back_to_the_music_url():
    message = content_message(AutoReplyContent(reply_type="music", music_url="m"))
    assert message.hq_music_url == "m"
