"""The inbox, thread and kf account pages of the admin, as an operator uses them (zh-hans and en)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation

from followers.tests.factories import FollowerFactory
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu.models import Conversation, KfAccount, OutboundMessage
from messaging.kefu.tests.factories import ConversationFactory
from sandbox import phone
from sandbox.models import SandboxCall, SandboxDelivery, SandboxKfAccount
from sandbox.tests.factories import SandboxFaultFactory, SandboxKfAccountFactory
from wechat.api.endpoints import Endpoint

OPENID = "oFollower000000000000000001"
PREFIXES = ["", "/en"]


@pytest.fixture
def conversation(sandbox_app, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone.follower_sends(sandbox_app, OPENID, {"MsgType": "text", "Content": "请问发货了吗"})
    return Conversation.objects.get(openid=OPENID)


def url(name, *args, prefix=""):
    with translation.override("zh-hans"):  # a previous /en/ request leaves English active in this thread
        return prefix + reverse(name, args=args)


def thread_url(conversation, prefix=""):
    return url("admin:kefu_conversation_change", conversation.pk, prefix=prefix)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_inbox_renders_with_unread_badge_and_window(admin_client, conversation, prefix):
    response = admin_client.get(url("admin:kefu_conversation_changelist", prefix=prefix))
    assert response.status_code == 200
    html = response.content.decode()
    assert OPENID in html and "请问发货了吗" in html
    assert 'class="kf-badge"' in html
    left = ("47 h", "48 h") if prefix == "/en" else ("剩余 47 小时", "剩余 48 小时")
    assert any(text in html for text in left)
    assert ('lang="en"' in html) == (prefix == "/en")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_opening_the_thread_marks_it_read(admin_client, conversation, prefix):
    response = admin_client.get(thread_url(conversation, prefix))
    assert response.status_code == 200
    assert "请问发货了吗" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_operator_reply_from_the_thread_reaches_the_phone(
    admin_client, conversation, sandbox_app, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(thread_url(conversation), {"kind": "text", "content": "已发货"})
    assert response.status_code == 302
    delivery = SandboxDelivery.objects.get(app=sandbox_app, channel="custom")
    assert delivery.payload["text"] == {"content": "已发货"}
    row = OutboundMessage.objects.get()
    assert row.status == OutboundMessage.Status.SENT and row.operator.username == "admin"
    page = admin_client.get(thread_url(conversation)).content.decode()
    assert "已发货" in page and 'data-status="sent"' in page


def test_news_reply_needs_a_title_and_url(admin_client, conversation):
    response = admin_client.post(thread_url(conversation), {"kind": "news", "description": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"title", "url"}
    assert not OutboundMessage.objects.exists()


def test_form_refuses_a_reply_outside_48_hours_with_an_explanation(admin_client, account):
    InboundMessageFactory(
        account=account,
        openid=OPENID,
        msg_type="text",
        content="上周的问题",
        dedupe_key="msg:1",
        raw_xml="<xml/>",
        create_time=timezone.now() - timedelta(hours=50),
    )
    FollowerFactory(account=account, openid=OPENID, last_interaction_at=timezone.now() - timedelta(hours=50))
    conversation = ConversationFactory(account=account, openid=OPENID, last_message_at=timezone.now())
    page = admin_client.get(thread_url(conversation, "/en")).content.decode()
    assert 'id="kf-closed"' in page and 'id="kf-reply"' not in page
    assert "more than 48 hours ago" in page and "45015" in page
    response = admin_client.post(thread_url(conversation, "/en"), {"kind": "text", "content": "迟到的回复"})
    assert response.status_code == 200
    assert "more than 48 hours ago" in " ".join(response.context["form"].non_field_errors())
    assert not OutboundMessage.objects.exists()
    assert not SandboxCall.objects.filter(api=Endpoint.CUSTOM_SEND.path).exists()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_45015_from_wechat_shows_in_chinese_and_english(
    admin_client, conversation, sandbox_app, prefix, django_capture_on_commit_callbacks
):
    sandbox_app.clock_offset = 49 * 3600
    sandbox_app.save()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(thread_url(conversation, prefix), {"kind": "text", "content": "hello"})
    page = admin_client.get(thread_url(conversation, prefix)).content.decode()
    assert "45015" in page
    assert "回复时间超过限制" in page and "Outside the 48-hour customer-service window" in page
    assert "Traceback" not in page


def test_typing_endpoint_enqueues_typing(admin_client, conversation, sandbox_app, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.delete(f"kf:typing:{conversation.account_id}:{OPENID}")
    typing_url = url("admin:kefu_conversation_typing", conversation.pk)
    assert admin_client.get(typing_url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(typing_url).json() == {"queued": True}
        assert admin_client.post(typing_url).json() == {"queued": False}
    assert SandboxCall.objects.filter(api=Endpoint.CUSTOM_TYPING.path, errcode=0).count() == 1


def test_operator_of_another_account_cannot_open_the_thread(client, conversation, make_account):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_conversation", "change_conversation"]))
    other = make_account(appid="wx00000000000000aa")
    other.operators.add(user)
    client.force_login(user)
    assert client.get(url("admin:kefu_conversation_changelist")).status_code == 200
    assert OPENID not in client.get(url("admin:kefu_conversation_changelist")).content.decode()
    assert client.get(thread_url(conversation)).status_code in (302, 404)
    typing = client.post(url("admin:kefu_conversation_typing", conversation.pk))
    assert typing.status_code == 404


@pytest.mark.parametrize("prefix", PREFIXES)
def test_kf_account_admin_add_syncs_and_lists(admin_client, account, sandbox_app, prefix, django_capture_on_commit_callbacks):
    add_url = url("admin:kefu_kfaccount_add", prefix=prefix)
    assert admin_client.get(add_url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(add_url, {"account": account.pk, "kf_account": "kefu1@gh_7f083739789a", "nickname": "小微"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert SandboxKfAccount.objects.filter(app=sandbox_app, kf_account="kefu1@gh_7f083739789a").exists()
    listing = admin_client.get(url("admin:kefu_kfaccount_changelist", prefix=prefix)).content.decode()
    assert "kefu1@gh_7f083739789a" in listing and "#2f855a" in listing  # the green 'synced' badge


def test_kf_account_admin_refuses_bad_input_and_changes_nothing(admin_client, account, sandbox_app):
    response = admin_client.post(
        url("admin:kefu_kfaccount_add"),
        {"account": account.pk, "kf_account": "no-at-sign", "nickname": " ", "invite_wx": "1bad"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.keys() >= {"kf_account", "nickname", "invite_wx"}
    assert not KfAccount.objects.exists()
    assert not SandboxCall.objects.filter(api__startswith="customservice/").exists()


def test_kf_failed_sync_shows_the_error_badge(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxKfAccountFactory(app=sandbox_app, kf_account="a@gh_7f083739789a", kf_id="1001", nickname="a", kf_wx="worker_wx1")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url("admin:kefu_kfaccount_add"),
            {"account": account.pk, "kf_account": "b@gh_7f083739789a", "nickname": "b", "invite_wx": "worker_wx1"},
        )
    listing = admin_client.get(url("admin:kefu_kfaccount_changelist")).content.decode()
    assert "65407" in listing and "#c53030" in listing


def test_kf_pull_button_imports_accounts_from_wechat(admin_client, account, sandbox_app):
    SandboxKfAccountFactory(app=sandbox_app, kf_account="console@gh_7f083739789a", kf_id="1001", nickname="后台")
    response = admin_client.post(url("admin:kefu_kfaccount_pull"))
    assert response.status_code == 302
    assert KfAccount.objects.get().nickname == "后台"


def test_kf_admin_delete_removes_it_at_wechat(admin_client, account, sandbox_app, django_capture_on_commit_callbacks):
    SandboxKfAccountFactory(app=sandbox_app, kf_account="console@gh_7f083739789a", kf_id="1001", nickname="后台")
    admin_client.post(url("admin:kefu_kfaccount_pull"))
    kf = KfAccount.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url("admin:kefu_kfaccount_delete", kf.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not KfAccount.objects.exists() and not SandboxKfAccount.objects.exists()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_message_log_and_kf_change_page_render(
    admin_client, account, conversation, sandbox_app, prefix, django_capture_on_commit_callbacks
):
    from media_assets.tests.factories import MaterialFactory

    MaterialFactory(account=conversation.account, media_id="MEDIA_1")
    SandboxFaultFactory(app=sandbox_app, api=Endpoint.CUSTOM_SEND.path, kind="errcode", value=45047, remaining=1)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(thread_url(conversation), {"kind": "image", "media_id": "MEDIA_1"})
    log = admin_client.get(url("admin:kefu_outboundmessage_changelist", prefix=prefix)).content.decode()
    assert "45047" in log and "客服接口下行条数超过上限" in log and "Too many customer-service messages" in log
    SandboxKfAccountFactory(app=sandbox_app, kf_account="console@gh_7f083739789a", kf_id="1001", nickname="后台")
    admin_client.post(url("admin:kefu_kfaccount_pull"))
    kf = KfAccount.objects.get()
    page = admin_client.get(url("admin:kefu_kfaccount_change", kf.pk, prefix=prefix))
    assert page.status_code == 200
    assert 'name="kf_account"' not in page.content.decode()  # WeChat cannot rename it
