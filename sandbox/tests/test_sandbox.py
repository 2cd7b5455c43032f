import time

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import OfficialAccount
from messaging.inbound.models import InboundMessage
from sandbox import phone
from sandbox.models import SandboxApp, SandboxCall, SandboxDelivery, SandboxFault
from sandbox.tests.factories import SandboxFaultFactory, SandboxFollowerFactory
from wechat import errors
from wechat.gateway import client_for


def test_unknown_sandbox_endpoint_is_a_clear_error(account):
    with pytest.raises(errors.WeChatError) as exc:
        client_for(account).get("no/such/api")
    assert exc.value.errmsg == "HTTP 404"


def test_missing_and_invalid_tokens_are_41001_and_40001(account):
    client = client_for(account)
    with pytest.raises(errors.WeChatError) as exc:
        client.get("getcallbackip", params={"access_token": ""}, anonymous=True)
    assert exc.value.errcode == 41001
    with pytest.raises(errors.WeChatError) as exc:
        client.get("getcallbackip", params={"access_token": "forged"}, anonymous=True)
    assert exc.value.errcode == 40001


def test_latency_fault_is_applied_and_consumed(account):
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="latency", value=30, remaining=1)
    client_for(account).callback_ips()
    assert SandboxFault.objects.get().remaining == 0


def test_a_standing_latency_and_an_errcode_fault_combine_into_a_slow_failure(account):
    client = client_for(account)
    client.callback_ips()
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="latency", value=200)
    SandboxFaultFactory(api="cgi-bin/getcallbackip", kind="errcode", value=-1, remaining=1)
    started = time.monotonic()
    with pytest.raises(errors.WeChatError) as exc:
        client.callback_ips()
    assert exc.value.errcode == -1
    assert time.monotonic() - started >= 0.2
    assert SandboxFault.objects.get(kind="errcode").remaining == 0


def test_timeout_after_means_the_call_took_effect(account, sandbox_app):
    SandboxFollowerFactory(app=sandbox_app, openid="o1", last_interaction_at=sandbox_app.created_at)
    SandboxFaultFactory(api="cgi-bin/message/custom/send", kind="timeout_after", remaining=1)
    with pytest.raises(errors.WeChatTimeout):
        client_for(account).post("message/custom/send", data={"touser": "o1", "msgtype": "text", "text": {"content": "hi"}})
    assert SandboxDelivery.objects.filter(channel="custom").count() == 1


def test_sandbox_custom_send_enforces_the_48_hour_window(account, sandbox_app):
    phone.follower_sends(sandbox_app, "oWindow", {"MsgType": "text", "Content": "hello"})
    client = client_for(account)
    client.post("message/custom/send", data={"touser": "oWindow", "msgtype": "text", "text": {"content": "yes"}})
    SandboxApp.objects.filter(pk=sandbox_app.pk).update(clock_offset=48 * 3600 + 60)
    with pytest.raises(errors.WeChatError) as exc:
        client.post("message/custom/send", data={"touser": "oWindow", "msgtype": "text", "text": {"content": "late"}})
    assert exc.value.errcode == 45015
    assert "48" in exc.value.meaning_en
    with pytest.raises(errors.WeChatError) as exc:
        client.post("message/custom/send", data={"touser": "oNobody", "msgtype": "text", "text": {"content": "x"}})
    assert exc.value.errcode == 40003


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_phone_push_reaches_the_callback_and_reads_the_reply(make_account, mode):
    account = make_account(mode=mode, default_reply_text="收到")
    app = SandboxApp.objects.get(appid=account.appid)
    result = phone.follower_sends(app, "oPhone", {"MsgType": "text", "Content": "你好"})
    assert result.status == 200
    assert result.fields["Content"] == "收到"
    assert InboundMessage.objects.get(account=account).content == "你好"
    assert list(SandboxDelivery.objects.values_list("channel", flat=True)) == ["sent", "passive"]


def test_forged_push_is_refused_by_the_callback(account, sandbox_app):
    result = phone.push(sandbox_app, {"FromUserName": "o1", "MsgType": "text", "Content": "x", "MsgId": 1}, signature_ok=False)
    assert result.status == 403
    assert not InboundMessage.objects.exists()


def test_calls_are_recorded_without_secrets(account):
    client_for(account).callback_ips()
    for call in SandboxCall.objects.all():
        assert "secret" not in (call.request_json or {})


@pytest.mark.django_db
def test_sandbox_seed_creates_a_working_account_idempotently():
    call_command("sandbox_seed")
    call_command("sandbox_seed")
    account = OfficialAccount.objects.get(is_sandbox=True)
    assert account.encoding_mode == "safe"
    app = SandboxApp.objects.get(appid=account.appid)
    result = phone.follower_sends(app, "oSeed", {"MsgType": "text", "Content": "hi"})
    assert result.status == 200 and result.fields["MsgType"] == "text"


def test_simulator_page_sends_and_shows_the_conversation(client, account, sandbox_app):
    account.default_reply_text = "模拟器回复"
    account.save()
    client.force_login(User.objects.create_superuser("admin", password="pw-for-tests-1"))
    url = f"/sandbox/simulator/?appid={account.appid}&openid=oSim"
    response = client.post(url, {"action": "text", "content": "我想了解"}, follow=True)
    html = response.content.decode()
    assert "我想了解" in html and "模拟器回复" in html
    client.post(url, {"action": "click", "key": "V1001"})
    assert InboundMessage.objects.filter(event="CLICK", event_key="V1001").exists()
    empty = client.post(url, {"action": "text", "content": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert InboundMessage.objects.count() == 2
    assert empty.status_code == 200


def test_simulator_requires_staff(client, account):
    response = client.get("/sandbox/simulator/")
    assert response.status_code == 302
