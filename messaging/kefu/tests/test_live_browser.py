"""In headless Chromium, a follower's new message shows up in the open inbox and thread without a reload."""

from django.contrib.auth.models import User

from conftest import SCREENSHOTS, browser_test
from sandbox import phone
from sandbox.models import SandboxApp

OPENID = "oFollower000000000000000001"

pytestmark = browser_test


def test_inbox_and_thread_update_themselves(live_server, transactional_db, make_account, browser_page):
    account = make_account()
    app = SandboxApp.objects.get(appid=account.appid)
    phone.follower_sends(app, OPENID, {"MsgType": "text", "Content": "你好"})
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-test-1")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/en/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-test-1")
    page.click("input[type=submit]")

    page.goto(f"{live_server.url}/en/admin/kefu/conversation/")
    page.evaluate("window.notReloaded = true")
    phone.follower_sends(app, "oFollower000000000000000002", {"MsgType": "text", "Content": "在吗？新来的"})
    page.wait_for_selector("tr[data-openid='oFollower000000000000000002']", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "kf_inbox_live_en.png"), full_page=True)

    page.click(f"tr[data-openid='{OPENID}'] a")
    page.wait_for_selector("#kf-thread")
    page.evaluate("window.notReloaded = true")
    phone.follower_sends(app, OPENID, {"MsgType": "text", "Content": "订单 2048 到哪了"})
    page.locator("#kf-thread .kf-msg.in", has_text="订单 2048 到哪了").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "kf_thread_live_en.png"), full_page=True)
