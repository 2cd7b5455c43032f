"""'Reply all' rules with more replies than one passive reply: the rest go out as customer-service messages."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import sample_text
from messaging.autoreply.services import rule_create
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.callback_client import post_callback
from sandbox.models import SandboxDelivery
from sandbox.tests.factories import SandboxFollowerFactory
from wechat.api.endpoints import Endpoint

OPENID = "fromUser"


def text_xml(content: str, msg_id: int = 1234567890123456) -> str:
    return (
        f"<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


@pytest.fixture
def follower(sandbox_app):
    """WeChat's side: the follower wrote just now, so the 48-hour customer-service window is open."""
    return SandboxFollowerFactory(app=sandbox_app, openid=OPENID, last_interaction_at=timezone.now())


def custom_sent(app):
    return list(SandboxDelivery.objects.filter(app=app, channel="custom").order_by("id"))


def three_replies_rule(account, **fields):
    return rule_create(
        account=account,
        name="menu",
        trigger="keyword",
        keywords="菜单",
        replies=[
            {"reply_type": "text", "text": "第一条"},
            {"reply_type": "image", "media_id": "IMG_MEDIA_1"},
            {
                "reply_type": "news",
                "articles": [
                    {"title": "文章", "description": "d", "url": "https://example.com/a", "picurl": "https://example.com/p.jpg"}
                ],
            },
        ],
        **fields,
    )


def test_first_reply_is_passive_and_the_rest_go_through_customer_service_in_order(
    client, account, sandbox_app, follower, django_capture_on_commit_callbacks
):
    rule = three_replies_rule(account)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, account, text_xml("菜单"))
    assert "<Content><![CDATA[第一条]]></Content>" in response.content.decode()
    sent = custom_sent(sandbox_app)
    assert [d.payload for d in sent] == [
        {"touser": OPENID, "msgtype": "image", "image": {"media_id": "IMG_MEDIA_1"}},
        {
            "touser": OPENID,
            "msgtype": "news",
            "news": {
                "articles": [
                    {"title": "文章", "description": "d", "url": "https://example.com/a", "picurl": "https://example.com/p.jpg"}
                ]
            },
        },
    ]
    assert InboundMessage.objects.get().matched_rule == rule


def test_a_retried_message_sends_nothing_again(client, account, sandbox_app, follower, django_capture_on_commit_callbacks):
    three_replies_rule(account)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_callback(client, account, text_xml("菜单"))
    with django_capture_on_commit_callbacks(execute=True):
        retry = post_callback(client, account, text_xml("菜单"))
    assert retry.content == first.content
    assert len(custom_sent(sandbox_app)) == 2


def test_random_mode_sends_only_the_passive_reply(client, account, sandbox_app, follower, django_capture_on_commit_callbacks):
    three_replies_rule(account, reply_mode="random")
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, text_xml("菜单"))
    assert custom_sent(sandbox_app) == []


def test_closed_window_45015_is_logged_and_the_passive_reply_still_goes(
    client, account, sandbox_app, follower, django_capture_on_commit_callbacks, caplog
):
    follower.last_interaction_at = timezone.now() - timedelta(hours=49)
    follower.save()
    three_replies_rule(account)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = post_callback(client, account, text_xml("菜单"))
    assert response.status_code == 200
    assert "第一条" in response.content.decode()
    assert custom_sent(sandbox_app) == []
    failures = [r for r in caplog.records if r.getMessage() == "autoreply.followup_failed"]
    assert [r.errcode for r in failures] == [45015]
    # The chain stopped at the first failure: one call reached WeChat, not two.
    from sandbox.models import SandboxCall

    assert list(SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).values_list("errcode", flat=True)) == [45015]


def test_event_news_with_many_articles_goes_one_article_per_message(
    client, account, sandbox_app, follower, django_capture_on_commit_callbacks
):
    follower.openid = "FromUser"
    follower.save()
    rule_create(
        account=account,
        name="welcome",
        trigger="subscribe",
        replies=[
            {"reply_type": "text", "text": "欢迎"},
            {
                "reply_type": "news",
                "articles": [{"title": f"t{i}", "url": f"https://example.com/{i}"} for i in range(3)],
            },
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, sample_text("inbound/event_subscribe.xml"))
    sent = custom_sent(sandbox_app)
    assert [d.payload["news"]["articles"][0]["title"] for d in sent] == ["t0", "t1", "t2"]
    assert all(len(d.payload["news"]["articles"]) == 1 for d in sent)


def test_every_reply_type_maps_to_customer_service_json(
    client, account, sandbox_app, follower, django_capture_on_commit_callbacks
):
    rule_create(
        account=account,
        name="all types",
        trigger="keyword",
        keywords="all",
        replies=[
            {"reply_type": "text", "text": "passive"},
            {"reply_type": "text", "text": '见 <a href="https://example.com">官网</a>'},
            {"reply_type": "voice", "media_id": "VOICE_1"},
            {"reply_type": "video", "media_id": "VIDEO_1", "title": "片", "description": "说明"},
            {
                "reply_type": "music",
                "title": "歌",
                "description": "d",
                "music_url": "https://m.example.com/a.mp3",
                "thumb_media_id": "THUMB_1",
            },
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, account, text_xml("all"))
    bodies = [{k: v for k, v in d.payload.items() if k != "touser"} for d in custom_sent(sandbox_app)]
    assert bodies == [
        {"msgtype": "text", "text": {"content": '见 <a href="https://example.com">官网</a>'}},
        {"msgtype": "voice", "voice": {"media_id": "VOICE_1"}},
        {"msgtype": "video", "video": {"media_id": "VIDEO_1", "title": "片", "description": "说明"}},
        {
            "msgtype": "music",
            "music": {
                "title": "歌",
                "description": "d",
                "musicurl": "https://m.example.com/a.mp3",
                "hqmusicurl": "https://m.example.com/a.mp3",
                "thumb_media_id": "THUMB_1",
            },
        },
    ]


def test_follower_phone_shows_passive_then_customer_service_messages(account, sandbox_app):
    """Through the sandbox phone (signed push, window opened by the message itself)."""
    from sandbox import phone

    three_replies_rule(account)
    result = phone.follower_sends(sandbox_app, "oPhone1", {"MsgType": "text", "Content": "菜单"})
    assert result.fields["Content"] == "第一条"
    channels = list(SandboxDelivery.objects.filter(openid="oPhone1").values_list("channel", "msgtype"))
    assert ("passive", "text") in channels
    assert InboundMessage.objects.get(openid="oPhone1").matched_rule.name == "menu"
