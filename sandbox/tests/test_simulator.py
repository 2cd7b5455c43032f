"""The simulator's phone: it asks for new messages by itself, and shows them the way WeChat's client does."""

import re

import pytest
from django.contrib.auth.models import User

from sandbox import phone
from sandbox.models import SandboxApp, SandboxDelivery, SandboxFollower, SandboxTemplate
from sandbox.seeders.templatemsg import sandbox_templates_seed
from wechat.api import kf, templates
from wechat.outgoing import Text, custom_payloads

OPENID = "oSimulatorFollower00000000001"


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_superuser("admin", password="pw-for-tests-1"))
    return client


@pytest.fixture
def follower(account, sandbox_app):
    phone.follower_sends(sandbox_app, OPENID, {"MsgType": "event", "Event": "subscribe", "EventKey": ""})
    assert SandboxFollower.objects.filter(app=sandbox_app, openid=OPENID, subscribed=True).exists()
    return OPENID


def _poll_url(html: str) -> str:
    return re.search(r'id="chat-poll"[^>]*hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_the_open_page_receives_a_customer_service_message_through_its_poll(staff_client, account, follower):
    page = staff_client.get(f"/sandbox/simulator/?appid={account.appid}&openid={OPENID}").content.decode()
    assert 'hx-trigger="every 2s"' in page
    poll = _poll_url(page)
    assert "等待发货" not in staff_client.get(poll).content.decode()

    kf.custom_send(account=account, openid=OPENID, payload=custom_payloads(Text("您的订单等待发货"))[0])

    fresh = staff_client.get(poll).content.decode()
    assert "您的订单等待发货" in fresh
    # The answer carries the next poll, which starts after what was just shown.
    assert "您的订单等待发货" not in staff_client.get(_poll_url(fresh)).content.decode()


def test_the_poll_answers_only_for_the_operators_own_apps(client, account, follower, make_account):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    make_account(appid="wx00000000000000aa").operators.add(user)
    client.force_login(user)
    assert client.get(f"/sandbox/simulator/timeline/?appid={account.appid}&openid={OPENID}").status_code == 404


def test_a_template_message_shows_its_title_and_field_labels(staff_client, account, sandbox_app, follower):
    sandbox_templates_seed(account=account, app=sandbox_app)
    template = SandboxTemplate.objects.get(app=sandbox_app, template_id_short="TM00015")
    templates.template_send(
        account=account,
        openid=OPENID,
        template_id=template.template_id,
        data={"keyword1": {"value": "咖啡豆 500g"}, "keyword2": {"value": "¥88.00"}, "keyword3": {"value": "2026-11-28 10:00"}},
        url="https://example.com/orders/1024",
    )
    page = staff_client.get(f"/sandbox/simulator/?appid={account.appid}&openid={OPENID}").content.decode()
    bubble = re.search(r'<div class="bubble them template".*?</div>', page, re.S).group(0)
    assert "订单支付成功" in bubble and "<dt>商品名称</dt><dd>咖啡豆 500g</dd>" in bubble
    assert "<dt>支付金额</dt><dd>¥88.00</dd>" in bubble
    assert template.template_id not in bubble and "keyword1" not in bubble
    assert 'href="https://example.com/orders/1024"' in bubble


def test_links_in_text_messages_are_links_and_other_markup_stays_text(staff_client, account, follower):
    text = '查看<a href="https://example.com/o/1">订单详情</a> <b>粗</b> <a href="javascript:alert(1)">x</a>'
    kf.custom_send(account=account, openid=OPENID, payload=custom_payloads(Text(text))[0])
    page = staff_client.get(f"/sandbox/simulator/?appid={account.appid}&openid={OPENID}").content.decode()
    assert '<a href="https://example.com/o/1" target="_blank" rel="noopener noreferrer">订单详情</a>' in page
    assert "&lt;b&gt;粗&lt;/b&gt;" in page
    assert "javascript:" not in page
    assert SandboxDelivery.objects.filter(channel="custom", openid=OPENID).count() == 1


def test_the_phone_shows_the_account_name_not_the_original_id(staff_client, account, follower):
    app = SandboxApp.objects.get(appid=account.appid)
    page = staff_client.get(f"/sandbox/simulator/?appid={account.appid}&openid={OPENID}").content.decode()
    title = re.search(r'<div class="title"[^>]*>(.*?)</div>', page).group(1)
    assert title == account.name != app.original_id


def test_the_poll_of_a_page_whose_session_ended_is_refused_not_redirected(client, account):
    response = client.get(f"/sandbox/simulator/timeline/?appid={account.appid}&openid={OPENID}")
    assert response.status_code == 403
