"""The simulator in headless Chromium: a customer-service message sent while the page is open appears without a reload."""

from django.contrib.auth.models import User

from conftest import SCREENSHOTS, browser_test
from sandbox import phone
from sandbox.models import SandboxApp, SandboxTemplate
from sandbox.seeders.templatemsg import sandbox_templates_seed
from wechat.api import kf, templates
from wechat.outgoing import Text, custom_payloads

OPENID = "oSimulatorFollower00000000001"

pytestmark = browser_test


def test_simulator_receives_a_customer_service_message_without_reload(live_server, transactional_db, make_account, browser_page):
    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    phone.follower_sends(app, OPENID, {"MsgType": "text", "Content": "你好"})
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")

    for width, height, name in ((1440, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/sandbox/simulator/?appid={account.appid}&openid={OPENID}")
        assert page.inner_text(".phone .title") == account.name
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].startTime + performance.timeOrigin")
        text = f"您的订单已发货 ({name})"
        kf.custom_send(
            account=account,
            openid=OPENID,
            payload=custom_payloads(Text(f'{text} <a href="https://example.com/o/1">查看物流</a>'))[0],
        )
        bubble = page.locator(".bubble.them[data-channel='custom']", has_text=text)
        bubble.wait_for(timeout=10_000)
        assert bubble.locator("a[href='https://example.com/o/1']").inner_text() == "查看物流"
        # Same document: the message came through the poll, not a navigation.
        assert page.evaluate("performance.getEntriesByType('navigation')[0].startTime + performance.timeOrigin") == loaded
        if name == "desktop":  # a template message too: its title and field labels, not ids and keyword names
            sandbox_templates_seed(account=account, app=app)
            template = SandboxTemplate.objects.get(app=app, template_id_short="TM00015")
            templates.template_send(
                account=account,
                openid=OPENID,
                template_id=template.template_id,
                data={"keyword1": {"value": "咖啡豆"}, "keyword2": {"value": "¥88.00"}, "keyword3": {"value": "10:00"}},
            )
            card = page.locator(".bubble.template")
            card.wait_for(timeout=10_000)
            assert "订单支付成功" in card.inner_text() and "商品名称" in card.inner_text() and "keyword1" not in card.inner_text()
        page.screenshot(path=str(SCREENSHOTS / f"simulator_live_{name}.png"), full_page=True)
