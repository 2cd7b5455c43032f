"""Conversations, the 48-hour window and customer-service sends (message/custom/send) against the sandbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followers.models import Follower
from followers.tests.factories import FollowerFactory
from messaging.inbound.models import InboundMessage
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu import selectors as kefu_selectors
from messaging.kefu import services as customer_service
from messaging.kefu.models import Conversation, OutboundMessage
from messaging.kefu.tasks import custom_message_send
from messaging.kefu.tests.factories import ConversationFactory
from sandbox import phone
from sandbox.models import SandboxCall, SandboxDelivery
from sandbox.tests.factories import SandboxFaultFactory
from wechat.api.endpoints import Endpoint
from wechat.outgoing import Article, Image, MiniProgramPage, News, Text, custom_payloads, summary

OPENID = "oFollower000000000000000001"
OTHER = "oFollower000000000000000002"


@pytest.fixture
def worker_retries(monkeypatch):
    """Let eager tasks retry as a worker would (Celery re-applies a retried eager task when errors do not propagate)."""
    from wxsite.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def follower_says(app, capture, text="你好", openid=OPENID):
    with capture(execute=True):
        phone.follower_sends(app, openid, {"MsgType": "text", "Content": text})


def reply(account, payload, capture, openid=OPENID, user=None):
    with capture(execute=True):
        outbound = customer_service.operator_reply_queue(account=account, openid=openid, payload=payload, operator=user)
    outbound.refresh_from_db()
    return outbound


def test_follower_messages_build_a_conversation_with_unread_count(sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "在吗")
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "想问个问题")
    conversation = Conversation.objects.get(openid=OPENID)
    assert conversation.unread_count == 2
    assert conversation.last_preview == "想问个问题"
    assert Follower.objects.get(openid=OPENID).last_interaction_at is not None


def test_inbox_lists_newest_conversation_first(sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "first", openid=OTHER)
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "second")
    Conversation.objects.filter(openid=OTHER).update(last_message_at=timezone.now() - timedelta(minutes=5))
    rows = list(kefu_selectors.conversations_for_accounts(accounts=[Conversation.objects.first().account]))
    assert [c.openid for c in rows] == [OPENID, OTHER]


def test_messages_newer_than_what_the_operator_saw_stay_unread(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "one")
    conversation = Conversation.objects.get(openid=OPENID)
    seen = InboundMessage.objects.get(account=account, openid=OPENID).create_time
    InboundMessageFactory(
        account=account,
        openid=OPENID,
        msg_type="text",
        content="two",
        dedupe_key="msg:later",
        raw_xml="<xml/>",
        create_time=seen + timedelta(seconds=5),
    )
    customer_service.conversation_mark_read(conversation=conversation, up_to=seen)
    conversation.refresh_from_db()
    assert conversation.unread_count == 1


def test_marking_read_clears_the_unread_count(sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get(openid=OPENID)
    customer_service.conversation_mark_read(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.unread_count == 0 and conversation.last_read_at is not None
    follower_says(sandbox_app, django_capture_on_commit_callbacks, "again")
    conversation.refresh_from_db()
    assert conversation.unread_count == 1


def test_menu_click_opens_the_window_but_is_not_unread(sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "event", "Event": "CLICK", "EventKey": "V1001_HELP"})
    conversation = Conversation.objects.get(openid=OPENID)
    assert conversation.unread_count == 0
    assert kefu_selectors.reply_window(account=conversation.account, openid=OPENID).is_open


def test_location_reports_and_job_events_make_no_conversation(sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone.push(sandbox_app, {"FromUserName": OPENID, "MsgType": "event", "Event": "LOCATION", "Latitude": "23.1"})
    assert not Conversation.objects.exists()


def test_follower_last_interaction_is_kept_on_an_existing_follower_row(account, sandbox_app, django_capture_on_commit_callbacks):
    FollowerFactory(account=account, openid=OPENID)
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    inbound = InboundMessage.objects.get(account=account, openid=OPENID)
    assert Follower.objects.get(openid=OPENID).last_interaction_at == inbound.create_time
    assert not Follower.objects.filter(openid=OTHER).exists()


def test_window_counts_from_the_newest_interaction(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    now = timezone.now()
    window = kefu_selectors.reply_window(account=account, openid=OPENID, now=now + timedelta(hours=10))
    assert window.is_open and window.hours_left == 37
    assert "37" in str(window.label)
    closed = kefu_selectors.reply_window(account=account, openid=OPENID, now=now + timedelta(hours=48, seconds=5))
    assert not closed.is_open and "48" in str(closed.label)


@pytest.mark.parametrize(
    "message",
    [
        Text("您好，我们已收到"),
        Image("MEDIA_ID_123"),
        News((Article(title="新品", description="看看", url="https://example.com/a", picurl="https://example.com/p.jpg"),)),
        MiniProgramPage(appid="wx0123456789abcdef", pagepath="pages/index", title="小程序", thumb_media_id="T1"),
    ],
    ids=lambda message: message.kind,
)
def test_operator_reply_of_each_type_reaches_the_phone(
    account, sandbox_app, admin_user, message, django_capture_on_commit_callbacks
):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    kind = message.kind
    (payload,) = custom_payloads(message)
    outbound = reply(account, payload, django_capture_on_commit_callbacks, user=admin_user)
    assert outbound.status == OutboundMessage.Status.SENT and outbound.sent_at is not None
    assert outbound.operator == admin_user and outbound.source == OutboundMessage.Source.OPERATOR
    delivery = SandboxDelivery.objects.get(app=sandbox_app, channel="custom")
    assert delivery.openid == OPENID and delivery.msgtype == kind
    assert delivery.payload[kind] == payload[kind]
    assert Conversation.objects.get(openid=OPENID).last_preview == summary(message)


def test_reply_as_a_kf_account_carries_customservice(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        customer_service.operator_reply_queue(
            account=account,
            openid=OPENID,
            payload=custom_payloads(Text("hi"))[0],
            operator=None,
            kf_account="kefu1@gh_7f083739789a",
        )
    delivery = SandboxDelivery.objects.get(app=sandbox_app, channel="custom")
    assert delivery.payload["customservice"] == {"kf_account": "kefu1@gh_7f083739789a"}


def test_reply_outside_48_hours_is_refused_before_calling_wechat(account, sandbox_app, django_capture_on_commit_callbacks):
    InboundMessageFactory(
        account=account,
        openid=OPENID,
        msg_type="text",
        content="old",
        dedupe_key="msg:1",
        raw_xml="<xml/>",
        create_time=timezone.now() - timedelta(hours=49),
    )
    FollowerFactory(account=account, openid=OPENID, last_interaction_at=timezone.now() - timedelta(hours=49))
    with pytest.raises(customer_service.ReplyWindowClosed) as refused:
        customer_service.operator_reply_queue(
            account=account, openid=OPENID, payload={"msgtype": "text", "text": {"content": "x"}}, operator=None
        )
    assert "48" in str(refused.value) and "45015" in str(refused.value)
    assert not OutboundMessage.objects.exists()
    assert not SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).exists()


def test_45015_from_wechat_is_recorded_with_its_meaning(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    # WeChat's clock is 49 hours ahead: for WeChat the window has closed although ours has not.
    sandbox_app.clock_offset = 49 * 3600
    sandbox_app.save()
    outbound = reply(account, {"msgtype": "text", "text": {"content": "late"}}, django_capture_on_commit_callbacks)
    assert outbound.status == OutboundMessage.Status.FAILED
    assert outbound.errcode == 45015
    assert "48 小时" in outbound.error_info.zh and "48-hour" in outbound.error_info.en
    assert not SandboxDelivery.objects.filter(channel="custom").exists()


@pytest.mark.parametrize("errcode", [45047, 40003, 48001])
def test_permanent_send_errors_fail_the_row_without_retry(account, sandbox_app, errcode, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.CUSTOM_SEND.path, kind="errcode", value=errcode, remaining=1)
    outbound = reply(account, {"msgtype": "text", "text": {"content": "x"}}, django_capture_on_commit_callbacks)
    assert outbound.status == OutboundMessage.Status.FAILED and outbound.errcode == errcode
    assert outbound.attempts == 1
    assert SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).count() == 1


def test_busy_wechat_is_retried_and_sent_once(account, sandbox_app, worker_retries, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.CUSTOM_SEND.path, kind="errcode", value=-1, remaining=2)
    outbound = reply(account, {"msgtype": "text", "text": {"content": "x"}}, django_capture_on_commit_callbacks)
    assert outbound.status == OutboundMessage.Status.SENT and outbound.attempts == 3
    assert SandboxDelivery.objects.filter(channel="custom").count() == 1


def test_timeout_after_delivery_is_unknown_and_not_resent(
    account, sandbox_app, worker_retries, django_capture_on_commit_callbacks
):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.CUSTOM_SEND.path, kind="timeout_after", remaining=1)
    outbound = reply(account, {"msgtype": "text", "text": {"content": "x"}}, django_capture_on_commit_callbacks)
    assert outbound.status == OutboundMessage.Status.UNKNOWN and outbound.errcode == -1001
    assert SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).count() == 1
    assert SandboxDelivery.objects.filter(channel="custom").count() == 1
    # A redelivered task finds the row no longer queued and sends nothing.
    from messaging.kefu.tasks import customer_service_send

    customer_service_send.delay(outbound.pk)
    assert SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).count() == 1


def test_auto_reply_task_records_the_message_and_keeps_raising_permanent_errors(account, sandbox_app):
    from wechat.errors import WeChatError

    with pytest.raises(WeChatError) as failed:
        custom_message_send.delay(account.pk, OPENID, {"msgtype": "text", "text": {"content": "x"}})
    assert failed.value.errcode == 40003  # the sandbox has never seen this follower
    row = OutboundMessage.objects.get()
    assert row.source == OutboundMessage.Source.AUTO_REPLY and row.status == OutboundMessage.Status.FAILED


def test_auto_reply_task_sends_within_the_window(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    result = custom_message_send.delay(account.pk, OPENID, {"msgtype": "text", "text": {"content": "第二条"}}).get()
    assert result["errcode"] == 0
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT
    assert SandboxDelivery.objects.filter(channel="custom").count() == 1


def test_typing_is_sent_at_most_once_per_ten_seconds(account, sandbox_app, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.delete(f"kf:typing:{account.pk}:{OPENID}")
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert customer_service.typing_request(account=account, openid=OPENID)
        assert not customer_service.typing_request(account=account, openid=OPENID)
    calls = SandboxCall.objects.filter(api=Endpoint.CUSTOM_TYPING.path)
    assert calls.count() == 1 and calls.get().request_json == {"touser": OPENID, "command": "Typing"}
    assert calls.get().errcode == 0


def test_typing_is_skipped_when_the_window_is_closed(account, sandbox_app):
    assert not customer_service.typing_request(account=account, openid=OTHER)
    assert not SandboxCall.objects.filter(api=Endpoint.CUSTOM_TYPING.path).exists()


def test_redelivered_auto_reply_task_does_not_record_or_send_twice(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    payload = {"msgtype": "text", "text": {"content": "一次"}}
    custom_message_send.apply(args=(account.pk, OPENID, payload), task_id="task-1")
    custom_message_send.apply(args=(account.pk, OPENID, payload), task_id="task-1")
    assert OutboundMessage.objects.get().status == OutboundMessage.Status.SENT
    assert SandboxDelivery.objects.filter(channel="custom").count() == 1


def test_send_interrupted_mid_call_is_unknown_and_not_resent(account, sandbox_app, django_capture_on_commit_callbacks):
    from messaging.kefu.tasks import customer_service_send

    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    outbound = customer_service.outbound_create(
        account=account, openid=OPENID, payload={"msgtype": "text", "text": {"content": "x"}}
    )
    OutboundMessage.objects.filter(pk=outbound.pk).update(status=OutboundMessage.Status.SENDING, attempts=1)
    assert customer_service_send.delay(outbound.pk).get()["status"] == OutboundMessage.Status.UNKNOWN
    assert not SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).exists()


def test_backfill_creates_conversations_for_older_messages(account):
    now = timezone.now()
    for i, (openid, msg_type, event, hours) in enumerate(
        [
            (OPENID, "text", "", 60),
            (OPENID, "event", "VIEW", 2),
            (OTHER, "event", "subscribe", 1),
            ("gh_massassistant", "event", "MASSSENDJOBFINISH", 1),
        ]
    ):
        InboundMessageFactory(
            account=account,
            openid=openid,
            msg_type=msg_type,
            event=event,
            dedupe_key=f"k{i}",
            raw_xml="<xml/>",
            create_time=now - timedelta(hours=hours),
        )
    ConversationFactory(account=account, openid=OTHER, last_message_at=now)
    assert customer_service.conversations_backfill(account=account) == 1
    conversation = Conversation.objects.get(openid=OPENID)
    assert conversation.last_message_at == now - timedelta(hours=2)
    assert conversation.unread_count == 0
    assert not Conversation.objects.filter(openid="gh_massassistant").exists()


def test_inbox_search_finds_a_follower_by_remark(account, sandbox_app, django_capture_on_commit_callbacks):
    follower_says(sandbox_app, django_capture_on_commit_callbacks)
    follower_says(sandbox_app, django_capture_on_commit_callbacks, openid=OTHER)
    Follower.objects.update_or_create(account=account, openid=OTHER, defaults={"remark": "王女士"})
    found = kefu_selectors.conversations_for_accounts(accounts=[account], search="王女士")
    assert [c.openid for c in found] == [OTHER]
    assert [c.openid for c in kefu_selectors.conversations_for_accounts(accounts=[account], search="000001")] == [OPENID]
