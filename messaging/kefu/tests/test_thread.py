"""One thread per follower: their messages, the passive replies they got and customer-service messages, in order."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu import selectors as kefu_selectors
from messaging.kefu import services as customer_service
from messaging.kefu.models import Conversation
from sandbox import phone
from sandbox.seeders.autoreply import sandbox_rules_seed
from wechat.outgoing import Text, custom_payloads

OPENID = "oFollower000000000000000001"
WELCOME = "欢迎关注沙箱公众号"
GREETING = "你好！有什么可以帮您？"


@pytest.fixture
def chat(account, sandbox_app, django_capture_on_commit_callbacks):
    """A follower follows (welcome reply), says hello (keyword reply), clicks a menu, and an operator answers."""
    sandbox_rules_seed(account=account, app=sandbox_app)
    with django_capture_on_commit_callbacks(execute=True):
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "event", "Event": "subscribe", "EventKey": ""})
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "text", "Content": "你好"})
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "event", "Event": "CLICK", "EventKey": "V1001_TODAY_MUSIC"})
    # Distinct times a minute apart, so the order does not depend on the clock's resolution.
    for minutes, key in enumerate(("subscribe", "text", "CLICK")):
        inbound = InboundMessage.objects.get(account=account, openid=OPENID, msg_type__in=[key, "event"], event__in=[key, ""])
        InboundMessage.objects.filter(pk=inbound.pk).update(create_time=timezone.now() - timedelta(minutes=10 - minutes))
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.operator_reply_queue(
            account=account, openid=OPENID, payload=custom_payloads(Text("人工客服来了"))[0], operator=None
        )
    return Conversation.objects.get(account=account, openid=OPENID)


def test_the_thread_shows_passive_replies_after_the_message_they_answer(account, chat):
    items = kefu_selectors.follower_thread(account=account, openid=OPENID)
    inbound = [item for item in items if item.inbound is not None]
    assert [item.inbound.event or item.inbound.msg_type for item in inbound] == ["subscribe", "text", "CLICK"]
    assert WELCOME in inbound[0].reply.text  # welcome reply (关注回复)
    assert GREETING in inbound[1].reply.text and inbound[1].reply.kind == "text"  # keyword reply
    assert "今日歌曲" in inbound[2].reply.text  # menu click reply
    assert items[-1].outbound is not None and items[-1].outbound.payload["text"]["content"] == "人工客服来了"


def test_the_conversation_page_shows_passive_replies(admin_client, account, chat):
    page = admin_client.get(reverse("admin:kefu_conversation_change", args=[chat.pk])).content.decode()
    assert page.index(WELCOME) < page.index(">你好<") < page.index(GREETING) < page.index("今日歌曲") < page.index("人工客服来了")
    assert "问候 Greeting" in page  # the rule that chose the reply


def test_the_message_log_and_the_follower_link_to_the_one_thread(admin_client, account, chat):
    thread_url = reverse("admin:kefu_conversation_thread", args=[account.pk, OPENID])
    assert thread_url in admin_client.get(reverse("admin:inbound_inboundmessage_changelist")).content.decode()
    response = admin_client.get(thread_url)
    assert response.status_code == 302 and response.url == reverse("admin:kefu_conversation_change", args=[chat.pk])


def test_a_follower_without_a_conversation_has_a_read_only_thread(admin_client, account):
    InboundMessageFactory(
        account=account,
        openid=OPENID,
        msg_type="text",
        content="收件箱之前的消息",
        dedupe_key="msg:1",
        raw_xml="<xml/>",
        reply_xml="<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[自动答复内容]]></Content></xml>",
        create_time=timezone.now() - timedelta(days=5),
    )
    response = admin_client.get(reverse("admin:kefu_conversation_thread", args=[account.pk, OPENID]))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("收件箱之前的消息") < page.index("自动答复内容")
    assert 'id="kf-reply"' not in page and 'id="kf-closed"' in page
    assert not Conversation.objects.exists()


def test_events_all_shows_every_event_of_the_follower(account):
    for i, event in enumerate(["LOCATION", "VIEW"]):
        InboundMessageFactory(
            account=account,
            openid=OPENID,
            msg_type="event",
            event=event,
            dedupe_key=f"e{i}",
            raw_xml="<xml/>",
            create_time=timezone.now(),
        )
    assert [i.inbound.event for i in kefu_selectors.follower_thread(account=account, openid=OPENID)] == ["VIEW"]
    every = kefu_selectors.follower_thread(account=account, openid=OPENID, events="all")
    assert sorted(i.inbound.event for i in every) == ["LOCATION", "VIEW"]


def test_an_operator_of_another_account_cannot_open_the_thread(client, account, chat, make_account):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_conversation", "change_conversation"]))
    make_account(appid="wx00000000000000aa").operators.add(user)
    client.force_login(user)
    assert client.get(reverse("admin:kefu_conversation_thread", args=[account.pk, OPENID])).status_code == 404
